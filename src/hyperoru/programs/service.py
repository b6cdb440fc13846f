"""Use cases of /api/programs. Each public function owns its transaction."""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts import service as accounts
from hyperoru.accounts.models import Account
from hyperoru.api_types import MAX_ID
from hyperoru.auth.principal import Principal
from hyperoru.errors import ApiError, forbidden, not_found
from hyperoru.exchanges.base import ExchangeClient
from hyperoru.market.runtime import MarketRuntime
from hyperoru.paging import ListWindow
from hyperoru.programs.indicator_calls import indicator_call_errors
from hyperoru.programs.models import Program
from hyperoru.programs.program_inputs import program_payload
from hyperoru.programs.program_runs import run_program
from hyperoru.programs.sandbox.fair_queue import Kind
from hyperoru.programs.sandbox.fair_use import SandboxRefused
from hyperoru.programs.sandbox.launcher import Sandbox, SandboxResult
from hyperoru.programs.sandbox.policy import PolicyError, parse_program
from hyperoru.programs.schemas import ProgramCreate, ProgramUpdate, TestRunRequest
from hyperoru.quotas import ensure_room
from hyperoru.strategies.decision import (
    Decision,
    DecisionParseError,
    Operation,
    parse_model_output,
)
from hyperoru.strategies.models import primary_strategy
from hyperoru.strategies.variables import DecisionInputs, TriggerInfo
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.programs")

MAX_PROGRAMS_PER_USER = 200
DEFAULT_TEST_SYMBOL = "BTC"


def dev_guide() -> str:
    return resources.files("hyperoru.programs").joinpath("guide.md").read_text("utf-8")


def validate_code(code: str) -> list[PolicyError]:
    """Syntax errors, policy violations, a missing ``Strategy`` and indicator requests
    refused as written (``indicator_calls``); empty when valid."""
    tree, errors = parse_program(code)
    found = errors + (indicator_call_errors(tree) if tree is not None else [])
    return sorted(found, key=lambda e: (e.line or 0, e.message))


# --- loading and ownership --------------------------------------------------------------


async def _program_of(session: AsyncSession, *, owner_id: int, program_id: int) -> Program:
    if not 1 <= program_id <= MAX_ID:
        raise not_found("program")
    program = await session.get(Program, program_id)
    if program is None or program.deleted_at is not None:
        raise not_found("program")
    if program.user_id != owner_id:
        raise forbidden("This program belongs to another user")
    return program


async def load_owned_program(session: AsyncSession, *, user: Principal, program_id: int) -> Program:
    """Raises 404 PROGRAM_NOT_FOUND (missing or deleted) or 403 FORBIDDEN (another user's)."""
    return await _program_of(session, owner_id=user.id, program_id=program_id)


async def program_for_trader(session: AsyncSession, *, account: Account) -> Program:
    """The program a program trader runs: its strategy's ``program_id``, which its owner
    must own. Raises 422 NO_PROGRAM, 404 PROGRAM_NOT_FOUND or 403 FORBIDDEN."""
    strategy = await primary_strategy(session, account.id)
    if strategy is None or strategy.program_id is None:
        raise ApiError(422, "NO_PROGRAM", "the trader's strategy names no program_id")
    return await _program_of(session, owner_id=account.user_id, program_id=strategy.program_id)


# --- use cases --------------------------------------------------------------------------


async def list_programs(
    session: AsyncSession, *, user: Principal, window: ListWindow
) -> list[Program]:
    query = (
        select(Program)
        .where(Program.user_id == user.id, Program.deleted_at.is_(None))
        .order_by(Program.id)
        .limit(window.limit)
        .offset(window.offset)
    )
    return list((await session.scalars(query)).all())


async def create_program(session: AsyncSession, *, user: Principal, data: ProgramCreate) -> Program:
    """Stores the program as sent (``/validate`` tells whether it will run). Raises 422
    PROGRAM_LIMIT_REACHED. Commits."""
    await ensure_room(
        session,
        Program,
        Program.user_id == user.id,
        Program.deleted_at.is_(None),
        owner_id=user.id,
        limit=MAX_PROGRAMS_PER_USER,
        code="PROGRAM_LIMIT_REACHED",
        what="programs",
    )
    now = utcnow()
    program = Program(
        user_id=user.id,
        name=data.name,
        description=data.description,
        code=data.code,
        params=data.params,
        enabled=data.enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(program)
    await session.commit()
    log.info("program created", extra={"event": "program_created", "program_id": program.id})
    return program


async def update_program(
    session: AsyncSession, *, program: Program, data: ProgramUpdate
) -> Program:
    sent = data.model_fields_set
    if data.name is not None:
        program.name = data.name
    if data.code is not None:
        program.code = data.code
    if data.params is not None:
        program.params = data.params
    if data.enabled is not None:
        program.enabled = data.enabled
    if "description" in sent:
        program.description = data.description
    program.updated_at = utcnow()
    await session.commit()
    return program


async def delete_program(session: AsyncSession, *, program: Program) -> None:
    program.deleted_at = utcnow()
    await session.commit()


async def test_run(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    market: MarketRuntime,
    exchange: ExchangeClient | None,
    sandbox: Sandbox,
    *,
    user: Principal,
    data: TestRunRequest,
    with_factors: bool = False,
) -> SandboxResult:
    """Run the program once on live data, with the account's book when ``account_id`` is
    given (otherwise no positions and no balance). Nothing is executed or recorded.
    Raises 429 SANDBOX_BUDGET_SPENT or TOO_MANY_SANDBOX_RUNS (with ``Retry-After``)."""
    program = await load_owned_program(session, user=user, program_id=data.program_id)
    ensure_sandbox_room(sandbox, user=user, kind=Kind.TEST_RUN)
    if data.account_id is not None:
        account = await accounts.load_owned_account(session, user=user, account_id=data.account_id)
        strategy = await primary_strategy(session, account.id)
        symbols = (
            [data.symbol.upper()] if data.symbol else list(strategy.symbols if strategy else [])
        )
    else:
        # A stand-in trader, never stored: only its leverage limits reach the program.
        account = Account(id=0, user_id=user.id, default_leverage=1, max_leverage=1)
        exchange = None
        symbols = [(data.symbol or DEFAULT_TEST_SYMBOL).upper()]
    await session.commit()  # no transaction stays open while the sandbox runs
    inputs = DecisionInputs(
        account=account,
        symbols=symbols or [DEFAULT_TEST_SYMBOL],
        market=market,
        sessionmaker=sessions,
        exchange=exchange,
        trigger=TriggerInfo(kind="preview"),
    )
    payload = await program_payload(inputs, with_factors=with_factors)
    try:
        outcome = await run_program(
            sandbox,
            program.code,
            payload=payload,
            params=program.params,
            user_id=user.id,
            kind=Kind.TEST_RUN,
        )
    except SandboxRefused as exc:
        raise sandbox_refusal(exc) from None
    return _checked(outcome)


def sandbox_refusal(exc: SandboxRefused) -> ApiError:
    """429 with ``Retry-After``: the same request succeeds once the user's budget or
    queue has room again."""
    headers = {"Retry-After": str(exc.retry_after)}
    if exc.budget_spent:
        return ApiError(
            429, "SANDBOX_BUDGET_SPENT", exc.message, details=exc.details, headers=headers
        )
    return ApiError(429, "TOO_MANY_SANDBOX_RUNS", exc.message, details=exc.details, headers=headers)


def ensure_sandbox_room(sandbox: Sandbox, *, user: Principal, kind: Kind) -> None:
    """Refuse (429) sandbox work the user may not start now, before any of it is
    prepared or stored."""
    try:
        sandbox.fair.admit(user.id, kind)
    except SandboxRefused as exc:
        raise sandbox_refusal(exc) from None


def _checked(outcome: SandboxResult) -> SandboxResult:
    """A successful run's result parsed exactly as a live cycle parses it."""
    if outcome.status != "ok":
        return outcome
    try:
        decisions = parse_model_output(json.dumps(outcome.result))
    except DecisionParseError as exc:
        return SandboxResult(
            "error",
            logs=outcome.logs,
            error=f"unusable decision: {exc}",
            execution_time_ms=outcome.execution_time_ms,
        )
    return SandboxResult(
        "ok",
        result={**_reference_summary(decisions), "decisions": [d.as_dict() for d in decisions]},
        logs=outcome.logs,
        execution_time_ms=outcome.execution_time_ms,
    )


# The programs reference's words for what a decision does (its test-run example answers
# ``{"action": "buy", "quantity": 0.01, "reason": ...}``).
_ACTIONS: dict[Operation, str] = {"long": "buy", "short": "sell", "close": "close", "hold": "hold"}


def _reference_summary(decisions: list[Decision]) -> dict[str, Any]:
    """The reference's ``action``/``quantity``/``reason`` for the first decision that does
    something (else the first). ``quantity`` is null: a program sizes by a share of the
    balance, and the base quantity only exists once an order meets a book."""
    first = next((d for d in decisions if d.operation != "hold"), None)
    first = first or (decisions[0] if decisions else Decision("hold"))
    return {"action": _ACTIONS[first.operation], "quantity": None, "reason": first.reasoning}
