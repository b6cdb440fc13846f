"""Use cases of /api/signals, /api/bindings and the program pickers. Each public function
owns its transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts import service as accounts
from hyperoru.accounts.models import Account
from hyperoru.auth.principal import Principal
from hyperoru.db.owned import load_owned_row
from hyperoru.errors import ApiError, not_found, validation_error
from hyperoru.factors.custom import custom_expressions
from hyperoru.paging import ListWindow
from hyperoru.programs import service as programs
from hyperoru.prompts import service as prompts
from hyperoru.quotas import ensure_room
from hyperoru.runtime.leases import restart_clock
from hyperoru.signals.config import ConfigError, describe, parse_config, parse_inline_signal
from hyperoru.signals.models import (
    SignalDefinition,
    SignalPool,
    SignalPoolRuntime,
    SignalTrigger,
    StrategyBinding,
)
from hyperoru.signals.schemas import (
    MAX_SIGNALS_PER_POOL,
    NAME_RULES,
    BindingCreate,
    BindingFields,
    DefinitionCreate,
    DefinitionUpdate,
    PoolCreate,
    PoolUpdate,
)
from hyperoru.strategies import primary
from hyperoru.timeutils import utcnow

MAX_DEFINITIONS_PER_USER = 500
MAX_POOLS_PER_USER = 100
MAX_BINDINGS_PER_USER = 500


async def check_config(
    session: AsyncSession, owner_id: int, signal_type: str, config: object
) -> None:
    """400 VALIDATION_ERROR naming the offending field (``type``, ``config.operator``…);
    ``factor:<name>`` may name the caller's own custom factors."""
    custom = await custom_expressions(session, owner_id)
    try:
        parse_config(signal_type, config, custom)
    except ConfigError as exc:
        raise validation_error(exc.message, exc.field) from None


_Owned = SignalDefinition | SignalPool | StrategyBinding

# What each kind is called in its limit error.
_KINDS: dict[type[_Owned], tuple[str, str]] = {
    SignalDefinition: ("SIGNAL_LIMIT_REACHED", "signal definitions"),
    SignalPool: ("POOL_LIMIT_REACHED", "signal pools"),
    StrategyBinding: ("BINDING_LIMIT_REACHED", "bindings"),
}


async def _check_room(
    session: AsyncSession, model: type[_Owned], user: Principal, limit: int
) -> None:
    code, what = _KINDS[model]
    owned = model.user_id == user.id
    await ensure_room(session, model, owned, owner_id=user.id, limit=limit, code=code, what=what)


async def _owned(
    session: AsyncSession, model: type[Any], resource: str, *, user: Principal, item_id: int
) -> Any:
    return await load_owned_row(session, model, resource, owner_id=user.id, row_id=item_id)


# --- definitions ---------------------------------------------------------------------------


async def load_owned_definition(
    session: AsyncSession, *, user: Principal, signal_id: int
) -> SignalDefinition:
    return await _owned(session, SignalDefinition, "signal", user=user, item_id=signal_id)


async def list_definitions(session: AsyncSession, *, user: Principal) -> list[SignalDefinition]:
    rows = await session.scalars(
        select(SignalDefinition)
        .where(SignalDefinition.user_id == user.id)
        .order_by(SignalDefinition.id)
    )
    return list(rows)


async def create_definition(
    session: AsyncSession, *, user: Principal, data: DefinitionCreate
) -> SignalDefinition:
    await check_config(session, user.id, data.type, data.config)
    row = await _add_definition(
        session, user, name=data.name, type=data.type, config=data.config, enabled=data.enabled
    )
    await session.commit()
    return row


async def _add_definition(
    session: AsyncSession,
    user: Principal,
    *,
    name: str,
    type: str,
    config: dict[str, Any],
    enabled: bool,
) -> SignalDefinition:
    """Insert a checked definition within the caller's transaction (flushed: it has its id)."""
    await _check_room(session, SignalDefinition, user, MAX_DEFINITIONS_PER_USER)
    now = utcnow()
    row = SignalDefinition(
        user_id=user.id,
        name=name,
        type=type,
        config=config,
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def update_definition(
    session: AsyncSession, *, definition: SignalDefinition, data: DefinitionUpdate
) -> SignalDefinition:
    signal_type = data.type if data.type is not None else definition.type
    config = data.config if data.config is not None else definition.config
    await check_config(session, definition.user_id, signal_type, config)
    if data.name is not None:
        definition.name = data.name
    if data.enabled is not None:
        definition.enabled = data.enabled
    definition.type, definition.config = signal_type, config
    definition.updated_at = utcnow()
    await session.commit()
    return definition


async def delete_definition(session: AsyncSession, *, definition: SignalDefinition) -> None:
    """Refused (409 SIGNAL_IN_USE) while a pool uses it: removing a signal from an AND
    pool silently would change what the pool means."""
    pools = await _user_pools(session, definition.user_id)
    using = [p.id for p in pools if definition.id in p.signal_ids]
    if using:
        raise ApiError(
            409,
            "SIGNAL_IN_USE",
            "Remove the signal from its pools first",
            details={"pool_ids": using},
        )
    await session.delete(definition)
    await session.commit()


# --- pools ---------------------------------------------------------------------------------


async def _user_pools(session: AsyncSession, user_id: int) -> list[SignalPool]:
    rows = await session.scalars(
        select(SignalPool).where(SignalPool.user_id == user_id).order_by(SignalPool.id)
    )
    return list(rows)


async def load_owned_pool(session: AsyncSession, *, user: Principal, pool_id: int) -> SignalPool:
    return await _owned(session, SignalPool, "pool", user=user, item_id=pool_id)


async def list_pools(session: AsyncSession, *, user: Principal) -> list[SignalPool]:
    return await _user_pools(session, user.id)


async def _check_signals(session: AsyncSession, user: Principal, signal_ids: Sequence[int]) -> None:
    for signal_id in signal_ids:
        await load_owned_definition(session, user=user, signal_id=signal_id)


@dataclass(frozen=True, slots=True)
class _NewSignal:
    name: str
    type: str
    config: dict[str, Any]
    enabled: bool


def _inline_signal(index: int, element: dict[str, Any], custom: Mapping[str, str]) -> _NewSignal:
    """An inline signal checked like a definition; errors name it (``signals.1.operator``)."""
    where = f"signals.{index}"
    try:
        parsed = parse_inline_signal(element, custom)
    except ConfigError as exc:
        raise validation_error(f"{where}: {exc.message}", f"{where}.{exc.field}") from None
    name = element.get("name")
    if name is None:
        name = describe(parsed.spec)
    else:
        try:
            name = NAME_RULES.validate_python(name)
        except ValidationError as exc:
            message = exc.errors(include_url=False)[0]["msg"]
            raise validation_error(f"{where}.name: {message}", f"{where}.name") from None
    enabled = element.get("enabled", True)
    if not isinstance(enabled, bool):
        raise validation_error(f"{where}.enabled: must be true or false", f"{where}.enabled")
    return _NewSignal(name=name, type=parsed.type, config=parsed.config, enabled=enabled)


async def _pool_signal_ids(
    session: AsyncSession,
    user: Principal,
    signal_ids: list[int],
    signals: list[dict[str, Any]],
    *,
    pool_room: bool,
) -> list[int]:
    """A pool's signals: the caller's ``signal_ids`` then the inline ``signals``, which
    become the caller's definitions in the caller's transaction (nothing is committed
    here, so a bad element or a full quota leaves nothing behind)."""
    if not signal_ids and not signals:
        raise validation_error("send signal_ids, inline signals, or both", "signal_ids")
    if len(signal_ids) + len(signals) > MAX_SIGNALS_PER_POOL:
        raise validation_error(f"a pool has at most {MAX_SIGNALS_PER_POOL} signals", "signals")
    await _check_signals(session, user, signal_ids)
    custom = await custom_expressions(session, user.id) if signals else {}
    inline = [_inline_signal(i, element, custom) for i, element in enumerate(signals)]
    if pool_room:
        await _check_room(session, SignalPool, user, MAX_POOLS_PER_USER)
    created = [
        await _add_definition(
            session,
            user,
            name=signal.name,
            type=signal.type,
            config=signal.config,
            enabled=signal.enabled,
        )
        for signal in inline
    ]
    return list(dict.fromkeys([*signal_ids, *(row.id for row in created)]))


async def create_pool(session: AsyncSession, *, user: Principal, data: PoolCreate) -> SignalPool:
    signal_ids = await _pool_signal_ids(
        session, user, data.signal_ids, data.signals, pool_room=True
    )
    now = utcnow()
    pool = SignalPool(
        user_id=user.id,
        name=data.name,
        signal_ids=signal_ids,
        symbols=data.symbols,
        logic=data.logic,
        enabled=data.enabled,
        cooldown_seconds=data.cooldown_seconds,
        created_at=now,
        updated_at=now,
    )
    session.add(pool)
    await session.commit()
    return pool


async def update_pool(
    session: AsyncSession, *, user: Principal, pool: SignalPool, data: PoolUpdate
) -> SignalPool:
    if data.signals is not None:
        # Like a create: the pool's signals become exactly the sent ids and inline ones.
        pool.signal_ids = await _pool_signal_ids(
            session, user, data.signal_ids or [], data.signals, pool_room=False
        )
    elif data.signal_ids is not None:
        await _check_signals(session, user, data.signal_ids)
        pool.signal_ids = data.signal_ids
    for field in ("name", "symbols", "logic", "enabled", "cooldown_seconds"):
        value = getattr(data, field)
        if value is not None:
            setattr(pool, field, value)
    pool.updated_at = utcnow()
    # What the pool watches changed: start edge detection from a fresh baseline.
    runtime = await session.get(SignalPoolRuntime, pool.id)
    if runtime is not None:
        runtime.condition = {}
    await session.commit()
    return pool


async def delete_pool(session: AsyncSession, *, pool: SignalPool) -> None:
    """Deletes the pool, its log, and its id from the owner's bindings."""
    bindings = await session.scalars(
        select(StrategyBinding).where(StrategyBinding.user_id == pool.user_id)
    )
    for binding in bindings:
        if pool.id in binding.signal_pool_ids:
            binding.signal_pool_ids = [i for i in binding.signal_pool_ids if i != pool.id]
    await session.delete(pool)
    await session.commit()


async def last_fired(session: AsyncSession, pool_ids: Sequence[int]) -> dict[int, datetime | None]:
    if not pool_ids:
        return {}
    rows = await session.execute(
        select(SignalPoolRuntime.pool_id, SignalPoolRuntime.last_fired_at).where(
            SignalPoolRuntime.pool_id.in_(pool_ids)
        )
    )
    return {row[0]: row[1] for row in rows}


async def list_triggers(
    session: AsyncSession, *, pool: SignalPool, window: ListWindow
) -> list[SignalTrigger]:
    rows = await session.scalars(
        select(SignalTrigger)
        .where(SignalTrigger.pool_id == pool.id)
        .order_by(SignalTrigger.id.desc())
        .limit(window.limit)
        .offset(window.offset)
    )
    return list(rows)


# --- bindings ------------------------------------------------------------------------------


async def load_owned_binding(
    session: AsyncSession, *, user: Principal, binding_id: int
) -> StrategyBinding:
    return await _owned(session, StrategyBinding, "binding", user=user, item_id=binding_id)


async def list_bindings(
    session: AsyncSession, *, user: Principal, window: ListWindow
) -> list[StrategyBinding]:
    rows = await session.scalars(
        select(StrategyBinding)
        .join(Account, Account.id == StrategyBinding.account_id)
        .where(StrategyBinding.user_id == user.id, Account.deleted_at.is_(None))
        .order_by(StrategyBinding.id)
        .limit(window.limit)
        .offset(window.offset)
    )
    return list(rows)


async def _check_binding_targets(
    session: AsyncSession, user: Principal, data: BindingFields
) -> None:
    if data.prompt_id is not None:
        await prompts.load_readable_prompt(session, user=user, prompt_id=data.prompt_id)
    if data.program_id is not None:
        await programs.load_owned_program(session, user=user, program_id=data.program_id)
    for pool_id in data.signal_pool_ids or ():
        await load_owned_pool(session, user=user, pool_id=pool_id)
    if data.trigger_interval is not None and not (
        primary.MIN_TRIGGER_INTERVAL <= data.trigger_interval <= primary.MAX_TRIGGER_INTERVAL
    ):
        raise ApiError(
            422,
            "INVALID_TRIGGER_INTERVAL",
            f"trigger_interval must be between {primary.MIN_TRIGGER_INTERVAL} and "
            f"{primary.MAX_TRIGGER_INTERVAL} seconds",
        )


def _strategy_type(binding: StrategyBinding, data: BindingFields) -> None:
    """``prompt_id`` and ``program_id`` exclude each other; the type follows what is bound
    unless sent."""
    if data.prompt_id is not None:
        binding.prompt_id, binding.program_id = data.prompt_id, None
    elif data.program_id is not None:
        binding.program_id, binding.prompt_id = data.program_id, None
    if data.strategy_type is not None:
        binding.strategy_type = data.strategy_type
    elif data.prompt_id is not None or data.program_id is not None:
        binding.strategy_type = "prompt" if data.prompt_id is not None else "program"
    if binding.strategy_type == "program" and binding.program_id is None:
        raise validation_error("a program binding needs program_id", "program_id")
    if binding.strategy_type == "prompt" and binding.program_id is not None:
        raise validation_error("a prompt binding takes prompt_id, not program_id", "program_id")


async def create_binding(
    session: AsyncSession, *, user: Principal, data: BindingCreate
) -> StrategyBinding:
    await accounts.load_owned_account(session, user=user, account_id=data.account_id)
    await _check_binding_targets(session, user, data)
    await _check_room(session, StrategyBinding, user, MAX_BINDINGS_PER_USER)
    now = utcnow()
    binding = StrategyBinding(
        user_id=user.id,
        account_id=data.account_id,
        strategy_type="prompt",
        prompt_id=None,
        program_id=None,
        signal_pool_ids=data.signal_pool_ids or [],
        trigger_interval=data.trigger_interval or primary.DEFAULT_TRIGGER_INTERVAL,
        scheduled_trigger_enabled=bool(data.scheduled_trigger_enabled),
        params_override=data.params_override or {},
        is_active=True if data.is_active is None else data.is_active,
        created_at=now,
        updated_at=now,
    )
    _strategy_type(binding, data)
    session.add(binding)
    await session.commit()
    return binding


async def update_binding(
    session: AsyncSession, *, user: Principal, binding: StrategyBinding, data: BindingFields
) -> StrategyBinding:
    await _check_binding_targets(session, user, data)
    _strategy_type(binding, data)
    schedule_before = (binding.trigger_interval, binding.scheduled_trigger_enabled)
    for field in (
        "signal_pool_ids",
        "trigger_interval",
        "scheduled_trigger_enabled",
        "params_override",
        "is_active",
    ):
        value = getattr(data, field)
        if value is not None:
            setattr(binding, field, value)
    if (binding.trigger_interval, binding.scheduled_trigger_enabled) != schedule_before:
        # A new schedule starts now: the next tick runs it, then every new interval
        # (rather than waiting out a run time computed from the old interval).
        await restart_clock(session, strategy_id=binding.id)
    binding.updated_at = utcnow()
    await session.commit()
    return binding


async def delete_binding(session: AsyncSession, *, binding: StrategyBinding) -> None:
    await session.delete(binding)
    await session.commit()


async def live_binding(
    session: AsyncSession, *, user: Principal, binding_id: int
) -> StrategyBinding:
    """The caller's binding whose trader still exists (a deleted trader's are 404)."""
    binding = await load_owned_binding(session, user=user, binding_id=binding_id)
    account = await session.get(Account, binding.account_id)
    if account is None or account.deleted_at is not None:
        raise not_found("binding")
    return binding


# --- program pickers ---------------------------------------------------------------------


async def list_traders(session: AsyncSession, *, user: Principal) -> list[Account]:
    rows = await session.scalars(
        select(Account)
        .where(Account.user_id == user.id, Account.deleted_at.is_(None))
        .order_by(Account.id)
    )
    return list(rows)
