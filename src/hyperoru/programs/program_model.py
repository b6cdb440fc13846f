"""A program trader's "model": the pipeline asks it like an LLM, and it answers with the
program's decision as JSON, so parsing, risk rules, execution and recording stay the one
path of ``strategies.pipeline``. The prompt it receives is the plain-data payload
(``program_inputs``) that the program's ``data`` object is built from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hyperoru.programs.models import Program
from hyperoru.programs.program_runs import run_program
from hyperoru.programs.sandbox.fair_queue import Kind
from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.strategies.llm.base import LlmError, LlmErrorKind, LlmRequest, LlmResponse, TokenUsage


class ProgramModel:
    def __init__(
        self,
        sandbox: Sandbox,
        program: Program,
        *,
        params_override: Mapping[str, Any] | None = None,
    ) -> None:
        self._sandbox = sandbox
        self._code = program.code
        # A binding's overrides win over the program's own params, key by key.
        self._params: dict[str, Any] = {**(program.params or {}), **(params_override or {})}
        self._name = f"program:{program.id}:{program.name}"
        self._user_id = program.user_id

    @property
    def model_name(self) -> str:
        return self._name

    async def complete(self, request: LlmRequest) -> LlmResponse:
        # A live cycle: first in the sandbox's queue, charged to the program's owner.
        outcome = await run_program(
            self._sandbox,
            self._code,
            payload=json.loads(request.prompt),
            params=self._params,
            user_id=self._user_id,
            kind=Kind.CYCLE,
        )
        if outcome.status != "ok":
            kind = (
                LlmErrorKind.TIMEOUT if outcome.status == "timeout" else LlmErrorKind.BAD_RESPONSE
            )
            raise LlmError(
                kind,
                f"program {outcome.status}: {outcome.error}",
                latency_ms=outcome.execution_time_ms,
            )
        decisions = outcome.result if isinstance(outcome.result, list) else [outcome.result]
        # The pipeline parses "decisions"; the program's log lines ride along in the
        # recorded raw output.
        return LlmResponse(
            text=json.dumps({"decisions": decisions, "logs": outcome.logs}),
            model=self._name,
            usage=TokenUsage(),
            latency_ms=outcome.execution_time_ms,
        )
