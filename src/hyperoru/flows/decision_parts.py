"""The pipeline's collaborators as this server provides them: prompts from the trader's
template and the variable catalogue, models from the trader's LLM settings, execution
through the trader's exchange (paper or live: ``trading.execution``), and decisions pushed
on ``model_chat``.

Each part opens its own short session for the rows it reads (the template, the program,
the API key) and closes it before anything slow happens: the prompt's market data, the
model call and the sandbox run all happen with no database connection held.

Program strategies (a program trader's own, or a program binding) take the same path: their
"prompt" is the plain-data payload of ``programs.program_inputs`` and their "model" runs
the program in the sandbox (``programs.program_model``) with the binding's
``params_override`` merged over the program's params."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.errors import ApiError
from hyperoru.market.providers.base import ProviderError
from hyperoru.metrics.observers import counting_decisions
from hyperoru.programs.models import Program
from hyperoru.programs.program_inputs import program_payload
from hyperoru.programs.program_model import ProgramModel
from hyperoru.prompts.service import template_for_trader
from hyperoru.realtime.events import ModelChatEvent
from hyperoru.strategies.llm.base import LlmClient, LlmError, LlmErrorKind
from hyperoru.strategies.llm.factory import reads_minute_closes
from hyperoru.strategies.llm.trader_model import llm_model_for
from hyperoru.strategies.pipeline import (
    ModelFactory,
    PipelineParts,
    PreparedPrompt,
    PromptPreparer,
    Publisher,
)
from hyperoru.strategies.plan import StrategyPlan, TraderFacts
from hyperoru.strategies.records import DecisionRecord
from hyperoru.strategies.schemas import DecisionOut
from hyperoru.strategies.template import render
from hyperoru.strategies.trigger import Trigger
from hyperoru.strategies.variables import DecisionInputs, TriggerInfo


def _inputs(
    app: FastAPI, trader: TraderFacts, plan: StrategyPlan, trigger: Trigger
) -> DecisionInputs:
    return DecisionInputs(
        # Read for its attributes only (the Account names), never written.
        account=trader,  # type: ignore[arg-type]
        symbols=list(plan.symbols),
        market=app.state.services.market,
        sessionmaker=app.state.services.sessionmaker,
        exchange=app.state.services.trading.exchanges,
        trigger=TriggerInfo(
            kind=trigger.kind, signal_pool_id=trigger.pool_id, values=dict(trigger.values)
        ),
        now=trigger.at,
    )


def prompt_preparer(app: FastAPI) -> PromptPreparer:
    async def prepare(trader: TraderFacts, plan: StrategyPlan, trigger: Trigger) -> PreparedPrompt:
        if not plan.symbols:
            raise ApiError(422, "NO_SYMBOLS", "the trader's strategy lists no symbols")
        inputs = _inputs(app, trader, plan, trigger)
        if plan.is_program:
            return await _program_input(app, inputs)
        async with app.state.services.sessionmaker() as session:
            template = await template_for_trader(
                session,
                account=trader,  # type: ignore[arg-type]
                prompt_id=plan.prompt_id,
            )
            template_id, content = template.id, template.content
        try:
            rendered = await render(content, inputs.catalogue())
            context = await inputs.model_context(minute_closes=reads_minute_closes(trader))
            prices = {s: (await inputs.price(s)).ticker.mark for s in inputs.symbols}
            assets = await app.state.services.market.cache.assets()
            # The regimes the model was shown (from the candles the prompt already read).
            shown = "market_regime" in rendered.variables_used
            regimes = await inputs.regime_names() if shown else {}
        except ProviderError as exc:
            raise ApiError(503, "MARKET_DATA_UNAVAILABLE", f"market data: {exc}") from exc
        return PreparedPrompt(
            text=rendered.rendered,
            prompt_id=template_id,
            context=context,
            prices=prices,
            size_decimals={s: assets[s].sz_decimals for s in inputs.symbols if s in assets},
            variables_used=rendered.variables_used,
            regimes=regimes,
        )

    return prepare


async def _program_input(app: FastAPI, inputs: DecisionInputs) -> PreparedPrompt:
    try:
        payload = await program_payload(
            inputs, with_factors=app.state.services.settings.factor_engine == "enabled"
        )
        context = await inputs.model_context()
        assets = await app.state.services.market.cache.assets()
    except ProviderError as exc:
        raise ApiError(503, "MARKET_DATA_UNAVAILABLE", f"market data: {exc}") from exc
    return PreparedPrompt(
        text=json.dumps(payload),
        prompt_id=None,
        context=context,
        prices={s: (await inputs.price(s)).ticker.mark for s in inputs.symbols},
        size_decimals={s: assets[s].sz_decimals for s in inputs.symbols if s in assets},
        regimes={s: (r or {}).get("regime") for s, r in payload.get("regimes", {}).items()},
    )


def model_factory(app: FastAPI, http: httpx.AsyncClient) -> ModelFactory:
    async def model_for(trader: TraderFacts, plan: StrategyPlan) -> LlmClient:
        # ProgramModel and the LLM client copy what they need: the session ends here,
        # before the sandbox runs or the model is asked.
        services = app.state.services
        async with services.sessionmaker() as session:
            if plan.is_program:
                program = await _program_of(session, trader, plan)
                return ProgramModel(services.sandbox, program, params_override=plan.params_override)
            return await llm_model_for(
                services.secret_box,
                services.settings,
                http,
                session,
                trader,  # type: ignore[arg-type]
            )

    return model_for


async def _program_of(session: AsyncSession, trader: TraderFacts, plan: StrategyPlan) -> Program:
    """The program the plan names, which the trader's owner must still own; otherwise the
    cycle is recorded as failed with the reason (a deleted program never runs)."""
    if plan.program_id is None:
        raise LlmError(LlmErrorKind.MISCONFIGURED, "the strategy names no program_id")
    program = await session.get(Program, plan.program_id)
    if program is None or program.deleted_at is not None:
        raise LlmError(LlmErrorKind.MISCONFIGURED, f"program {plan.program_id} no longer exists")
    if program.user_id != trader.user_id:
        raise LlmError(LlmErrorKind.MISCONFIGURED, "This program belongs to another user")
    if not program.enabled:
        raise LlmError(LlmErrorKind.MISCONFIGURED, f"program {program.id} is disabled")
    return program


def model_chat_publisher(app: FastAPI) -> Publisher:
    async def publish(record: DecisionRecord) -> None:
        await app.state.services.bus.publish(
            ModelChatEvent(
                user_id=record.user_id,
                account_id=record.account_id,
                data=DecisionOut.of(record).model_dump(mode="json"),
            )
        )

    return publish


def pipeline_parts(app: FastAPI, http: httpx.AsyncClient) -> PipelineParts:
    return PipelineParts(
        sessions=app.state.services.sessionmaker,
        exchange=app.state.services.trading.exchanges,
        prepare_prompt=prompt_preparer(app),
        model_for=model_factory(app, http),
        publish=counting_decisions(app.state.metrics, model_chat_publisher(app)),
        gate=app.state.cycle_gate,
        book_lock_connections=app.state.services.settings.book_lock_connections,
    )
