"""One live run of a program (a cycle or a test run), with every indicator it asks for.

A live cycle prepares the usual indicator periods before the program starts
(``program_inputs``); a program may ask for any other period in the catalog's range.
When it does, the sandbox notes what was missing (the program got ``None`` and its answer
is dropped); the indicators are computed here over the same candles and the program runs
again. What a program asked for
is remembered (per source text), so its next cycles get it up front and run once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from hyperoru.offload import off_loop
from hyperoru.programs.program_inputs import MAX_REQUESTS_PER_ROUND, with_indicators
from hyperoru.programs.sandbox.fair_queue import Kind
from hyperoru.programs.sandbox.launcher import Sandbox, SandboxResult

# A run notes every missing indicator it reaches, so a second run usually has them all;
# one whose choices depend on the values may need a few more.
MAX_ROUNDS = 4
REMEMBERED_PROGRAMS = 256
_remembered: OrderedDict[str, list[list[Any]]] = OrderedDict()


def _fingerprint(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def _remember(fingerprint: str, wanted: list[Any]) -> None:
    known = _remembered.pop(fingerprint, [])
    for item in wanted:
        if item not in known and len(known) < MAX_REQUESTS_PER_ROUND:
            known.append(item)
    _remembered[fingerprint] = known
    while len(_remembered) > REMEMBERED_PROGRAMS:
        _remembered.popitem(last=False)


async def run_program(
    sandbox: Sandbox,
    code: str,
    *,
    payload: dict[str, Any],
    params: Mapping[str, Any] | None,
    user_id: int,
    kind: Kind,
) -> SandboxResult:
    """``sandbox.run`` until the program has every indicator it asks for (at most
    ``MAX_ROUNDS`` runs). Raises what ``sandbox.run`` raises (``SandboxRefused``)."""
    fingerprint = _fingerprint(code)
    known = _remembered.get(fingerprint)
    if known:
        payload = await off_loop(with_indicators, payload, known)
    runs = 0
    while True:
        outcome = await sandbox.run(code, data=payload, params=params, user_id=user_id, kind=kind)
        runs += 1
        if not outcome.indicators_wanted:
            return outcome
        if runs == MAX_ROUNDS:
            break
        before = payload.get("indicators")
        payload = await off_loop(with_indicators, payload, outcome.indicators_wanted)
        if payload.get("indicators") == before:
            break  # nothing computable was asked for: another run would ask again
        _remember(fingerprint, outcome.indicators_wanted)
    missing = ", ".join(f"{name}:{period} of {symbol}" for symbol, name, period in _shown(outcome))
    return SandboxResult(
        "error",
        logs=outcome.logs,
        error=f"indicators still missing after {runs} runs of the program: {missing}",
        execution_time_ms=outcome.execution_time_ms,
    )


def _shown(outcome: SandboxResult) -> list[tuple[Any, Any, Any]]:
    items = outcome.indicators_wanted[:5]
    return [tuple(item) for item in items if isinstance(item, list) and len(item) == 3]
