"""Writing notifications into the outbox, inside the caller's transaction.

Every function here only adds rows to the session it is given (``lock_running`` also
holds the trader's row): the event that causes a message (a fill, a fired signal, a failed
cycle, a trader stopped) commits together with its message or not at all, so a crash can
neither lose a message of a committed event nor send one for an event that was rolled
back. A user without any chat binding costs one indexed read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, ColumnExpressionArgument, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.db.dml import rows_changed
from hyperoru.notifications import messages
from hyperoru.notifications.messages import Message, Platform
from hyperoru.notifications.models import BotConfig, BotPreferences, ChatBinding, OutboxMessage
from hyperoru.timeutils import utcnow

Category = Literal["trade", "position_closed", "signal", "error", "paused", "daily_summary"]
# Who or what stopped a running trader; every pause path names itself (``trader_paused``).
PauseCause = Literal["owner", "chat_command", "kill_switch", "failures", "daily_loss"]
PAUSED_BY: dict[PauseCause, str] = {
    "owner": "its owner",
    "chat_command": "a /pause chat command",
    "kill_switch": "the kill switch",
    "failures": "Hyperoru after repeated failed cycles",
    "daily_loss": "its daily loss limit",
}
# The automatic pauses say why in the trader's status reason (the last error, the loss);
# the others' reasons only repeat who paused it.
TELLS_REASON: frozenset[PauseCause] = frozenset({"failures", "daily_loss"})
ZERO = Decimal(0)


class FillLike(Protocol):
    """What a stored fill tells a notification (trading's ``TradingFill``)."""

    symbol: str
    side: str
    price: Decimal
    quantity: Decimal
    fee: Decimal
    realized_pnl: Decimal
    engine_order_id: str
    is_liquidation: bool


class PositionLike(Protocol):
    """A position after a fill (the engine's ``PositionChanged``): size 0 is closed."""

    @property
    def symbol(self) -> str: ...

    @property
    def size(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class Preferences:
    enabled: bool = True
    trade: bool = True
    position_closed: bool = True
    signal: bool = False
    error: bool = True
    paused: bool = True
    daily_summary: bool = False
    summary_time: str = "20:00"
    time_zone: str = "UTC"
    min_pnl_threshold: Decimal = ZERO

    def wants(self, category: Category) -> bool:
        return self.enabled and bool(getattr(self, category))


def preferences_of(row: BotPreferences | None) -> Preferences:
    if row is None:
        return Preferences()
    return Preferences(
        enabled=row.enabled,
        trade=row.trade,
        position_closed=row.position_closed,
        signal=row.signal,
        error=row.error,
        paused=row.paused,
        daily_summary=row.daily_summary,
        summary_time=row.summary_time,
        time_zone=row.time_zone,
        min_pnl_threshold=row.min_pnl_threshold,
    )


@dataclass(frozen=True, slots=True)
class Audience:
    """Where a user's notifications go now, and what they want to hear."""

    preferences: Preferences
    bindings: tuple[ChatBinding, ...]

    def for_trader(self, trader_id: int | None) -> list[ChatBinding]:
        return [
            b
            for b in self.bindings
            if trader_id is None or not b.trader_ids or trader_id in b.trader_ids
        ]


def may_have_audience(user_id: ColumnExpressionArgument[int]) -> ColumnElement[bool]:
    """False when ``audience_of`` would surely answer None (no active binding): a column a
    caller adds to a read it makes anyway, to skip ``audience_of``'s own read."""
    return exists().where(ChatBinding.user_id == user_id, ChatBinding.status == "active")


async def audience_of(session: AsyncSession, user_id: int) -> Audience | None:
    """None when nothing would be sent (no active binding on a connected bot, or off)."""
    bindings = tuple(
        await session.scalars(
            select(ChatBinding)
            .join(
                BotConfig,
                (BotConfig.user_id == ChatBinding.user_id)
                & (BotConfig.platform == ChatBinding.platform),
            )
            .where(
                ChatBinding.user_id == user_id,
                ChatBinding.status == "active",
                BotConfig.connected.is_(True),
            )
            .order_by(ChatBinding.id)
        )
    )
    if not bindings:
        return None
    preferences = preferences_of(await session.get(BotPreferences, user_id))
    if not preferences.enabled:
        return None
    return Audience(preferences, bindings)


def add_messages(
    session: AsyncSession,
    bindings: Sequence[ChatBinding],
    kind: str,
    message: Message,
    now: datetime | None = None,
) -> int:
    at = now or utcnow()
    for binding in bindings:
        platform: Platform = "telegram" if binding.platform == "telegram" else "discord"
        session.add(
            OutboxMessage(
                user_id=binding.user_id,
                binding_id=binding.id,
                platform=binding.platform,
                chat_id=binding.chat_id,
                kind=kind,
                text=message.render(platform),
                status="pending",
                attempts=0,
                available_at=at,
                created_at=at,
            )
        )
    return len(bindings)


def exit_reason(fill: FillLike) -> str:
    if fill.is_liquidation or fill.engine_order_id.startswith("liquidation"):
        return "liquidation"
    if fill.engine_order_id.endswith(":tp"):
        return "take profit"
    if fill.engine_order_id.endswith(":sl"):
        return "stop loss"
    return "manual"


async def trades_recorded(
    session: AsyncSession,
    *,
    account: Account,
    fills: Sequence[FillLike],
    positions: Sequence[PositionLike],
    may_notify: bool = True,
) -> None:
    """A trader's new fills: one "trade executed" per fill, one "position closed" per
    position that went flat (its realised PnL net of fees, if above the threshold).
    ``may_notify`` False: ``may_have_audience`` was false in this transaction."""
    if not fills or not may_notify:
        return
    audience = await audience_of(session, account.user_id)
    if audience is None:
        return
    to = audience.for_trader(account.id)
    wants = audience.preferences
    if wants.wants("trade"):
        for fill in fills:
            add_messages(
                session,
                to,
                "trade",
                messages.trade_executed(
                    account.name, fill.symbol, fill.side, fill.quantity, fill.price
                ),
            )
    if not wants.wants("position_closed"):
        return
    for symbol in dict.fromkeys(p.symbol for p in positions if p.size == 0):
        closing = [f for f in fills if f.symbol == symbol]
        if not closing:
            continue
        pnl = sum((f.realized_pnl - f.fee for f in closing), ZERO)
        if abs(pnl) < wants.min_pnl_threshold:
            continue
        add_messages(
            session,
            to,
            "position_closed",
            messages.position_closed(account.name, symbol, pnl, exit_reason(closing[-1])),
        )


def _signal_label(entry: Mapping[str, Any]) -> str:
    parts = [str(entry.get(k)) for k in ("symbol", "name") if entry.get(k) is not None]
    value = entry.get("value")
    if value is not None:
        parts.append(f"= {value}")
    return " ".join(parts)


async def signal_fired(
    session: AsyncSession,
    *,
    user_id: int,
    pool_name: str,
    symbols: Sequence[str],
    entries: Sequence[Mapping[str, Any]],
    trader_ids: Sequence[int],
) -> None:
    audience = await audience_of(session, user_id)
    if audience is None or not audience.preferences.wants("signal"):
        return
    targets: list[int | None] = [*trader_ids] or [None]
    bindings = {b.id: b for t in targets for b in audience.for_trader(t)}
    message = messages.signal_fired(
        pool_name, list(symbols), [_signal_label(e) for e in entries][:10]
    )
    add_messages(session, list(bindings.values()), "signal", message)


def _add_paused(
    session: AsyncSession, audience: Audience, account: Account, cause: PauseCause
) -> int:
    if not audience.preferences.wants("paused"):
        return 0
    reason = account.status_reason if cause in TELLS_REASON else None
    message = messages.trader_paused(account.name, PAUSED_BY[cause], reason)
    return add_messages(session, audience.for_trader(account.id), "paused", message)


async def lock_running(session: AsyncSession, account_id: int) -> bool:
    """Whether the trader is running, held so until this transaction ends: a pause path
    asks this before it stops a trader, so of two pauses at once only the first finds it
    running and tells its chats. Call it before changing the row (a flush would answer
    for this transaction's own change)."""
    # A write that changes nothing, for its lock: PostgreSQL's row lock (a second caller
    # waits, then sees the status the first committed), SQLite's write lock.
    held = await rows_changed(
        session,
        update(Account)
        .where(Account.id == account_id, Account.status == "active")
        .values(status="active")
        .execution_options(synchronize_session=False),
    )
    return held == 1


async def trader_paused(session: AsyncSession, *, account: Account, cause: PauseCause) -> int:
    """The one "trader paused" message of every pause path, to the chats bound to that
    trader. Called only by the transaction that moved ``account`` from running to paused
    (``lock_running`` true, then its status and reason set), so a pause of a paused
    trader tells nothing."""
    audience = await audience_of(session, account.user_id)
    if audience is None:
        return 0
    return _add_paused(session, audience, account, cause)


async def cycle_failed(
    session: AsyncSession, *, account_id: int, error: str | None, paused: bool
) -> None:
    """A decision cycle failed (and, when ``paused``, the trader stopped after too many)."""
    account = await session.get(Account, account_id)
    if account is None:
        return
    audience = await audience_of(session, account.user_id)
    if audience is None:
        return
    if audience.preferences.wants("error"):
        add_messages(
            session,
            audience.for_trader(account_id),
            "error",
            messages.strategy_error(account.name, error or "unknown"),
        )
    if paused:
        _add_paused(session, audience, account, "failures")
