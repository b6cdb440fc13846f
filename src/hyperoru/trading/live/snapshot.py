"""A live trader's latest venue reading (``account()``): stored per trader, served as its
positions and balance, and turned into asset-curve points like paper's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.valuation import LedgerSnapshot
from hyperoru.exchanges.base import BalanceReport, PositionReport
from hyperoru.exchanges.venue import VenueAccount, VenuePosition
from hyperoru.trading.clock import floor_minute
from hyperoru.trading.ledger_store import save_equity
from hyperoru.trading.live.models import LiveAccountSnapshot
from hyperoru.trading.models import EquitySnapshot

ZERO = Decimal(0)


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def position_json(position: VenuePosition) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "symbol": position.symbol,
        "size": str(position.size),
        "entry_price": str(position.entry_price),
        "mark_price": text(position.mark_price),
        "leverage": position.leverage,
        "isolated": position.isolated,
        "liquidation_price": text(position.liquidation_price),
        "unrealized_pnl": str(position.unrealized_pnl),
        "margin_used": str(position.margin_used),
    }


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def sizes(snapshot: LiveAccountSnapshot | None) -> dict[str, Decimal]:
    """Signed size per symbol."""
    if snapshot is None:
        return {}
    return {p["symbol"]: Decimal(p["size"]) for p in snapshot.positions}


@dataclass(frozen=True, slots=True)
class SizeChange:
    symbol: str
    size: Decimal
    previous_size: Decimal
    entry_price: Decimal
    leverage: int
    time: datetime

    def json(self) -> dict[str, Any]:
        """The bus's position event, the shape paper publishes."""
        return {
            "symbol": self.symbol,
            "size": float(self.size),
            "previous_size": float(self.previous_size),
            "entry_price": float(self.entry_price),
            "leverage": self.leverage,
            "time": self.time.isoformat().replace("+00:00", "Z"),
        }


async def store_reading(
    session: AsyncSession,
    *,
    account_id: int,
    venue: str,
    reading: VenueAccount,
    now: datetime,
    first_cursor: datetime,
) -> tuple[LiveAccountSnapshot, list[SizeChange]]:
    """Replace the trader's snapshot with ``reading`` (and record this minute's asset-curve
    point); the positions whose size changed since the last reading."""
    snapshot = await session.get(LiveAccountSnapshot, account_id, with_for_update=True)
    before = sizes(snapshot)
    if snapshot is None:
        snapshot = LiveAccountSnapshot(
            account_id=account_id, fills_since=first_cursor, funding_since=first_cursor
        )
        session.add(snapshot)
    snapshot.venue = venue
    snapshot.equity, snapshot.available = reading.equity, reading.available
    snapshot.margin_used, snapshot.unrealized_pnl = reading.margin_used, reading.unrealized_pnl
    snapshot.positions = [position_json(p) for p in reading.positions]
    snapshot.taken_at = reading.taken_at
    if snapshot.day_start is None or snapshot.day_start != _day(now):
        snapshot.day_start, snapshot.day_start_equity = _day(now), reading.equity
    after = {p.symbol: p for p in reading.positions}
    changes = [
        SizeChange(
            symbol=symbol,
            size=after[symbol].size if symbol in after else ZERO,
            previous_size=before.get(symbol, ZERO),
            entry_price=after[symbol].entry_price if symbol in after else ZERO,
            leverage=after[symbol].leverage if symbol in after else 0,
            time=reading.taken_at,
        )
        for symbol in sorted(set(before) | set(after))
        if before.get(symbol, ZERO) != (after[symbol].size if symbol in after else ZERO)
    ]
    await _save_point(session, equity_row(account_id, reading, now))
    return snapshot, changes


async def _save_point(session: AsyncSession, row: dict[str, Any]) -> None:
    """This minute's asset-curve point is the minute's latest reading (paper writes its
    point once, at the minute's close; a live reading may come several times a minute)."""
    await session.execute(
        update(EquitySnapshot)
        .where(
            EquitySnapshot.account_id == row["account_id"],
            EquitySnapshot.taken_at == row["taken_at"],
        )
        .values(equity=row["equity"], cash=row["cash"], positions_value=row["positions_value"])
    )
    await save_equity(session, [row])


def equity_row(account_id: int, reading: VenueAccount, now: datetime) -> dict[str, Any]:
    positions_value = sum(
        (abs(p.size) * (p.mark_price or p.entry_price) for p in reading.positions), ZERO
    )
    return {
        "account_id": account_id,
        "taken_at": floor_minute(now),
        "equity": reading.equity,
        "cash": reading.equity - reading.unrealized_pnl,
        "positions_value": positions_value,
    }


def position_reports(snapshot: LiveAccountSnapshot) -> list[PositionReport]:
    reports = []
    for p in snapshot.positions:
        size = Decimal(p["size"])
        entry = Decimal(p["entry_price"])
        reports.append(
            PositionReport(
                symbol=p["symbol"],
                side="long" if size > 0 else "short",
                size=abs(size),
                entry_price=entry,
                mark_price=_decimal(p["mark_price"]) or entry,
                leverage=int(p["leverage"]),
                liquidation_price=_decimal(p["liquidation_price"]),
                unrealized_pnl=Decimal(p["unrealized_pnl"]),
                margin_used=Decimal(p["margin_used"]),
                # The venue does not say when a position opened; the reading's time is
                # the earliest we know it held.
                opened_at=snapshot.taken_at,
            )
        )
    return reports


def balance_report(snapshot: LiveAccountSnapshot) -> BalanceReport:
    positions_value = sum((p.size * p.mark_price for p in position_reports(snapshot)), ZERO)
    return BalanceReport(
        total=snapshot.equity,
        available=snapshot.available,
        margin_used=snapshot.margin_used,
        unrealized_pnl=snapshot.unrealized_pnl,
        cash=snapshot.equity - snapshot.unrealized_pnl,
        positions_value=positions_value,
        taken_at=snapshot.taken_at,
    )


def venue_ledger(snapshot: LiveAccountSnapshot | None, *, trades: int) -> LedgerSnapshot:
    """A live trader's amounts as the valuations read them: the venue's latest reading,
    never the paper ledger (which holds what the trader did on paper before). Cash is the
    equity without the positions' unrealised PnL; the frozen part is the margin the venue
    holds beyond its positions' (what its open orders reserve). Before the first reading
    every amount is zero: nothing is known yet."""
    if snapshot is None:
        return LedgerSnapshot(cash=ZERO, frozen_cash=ZERO, total_trades=trades)
    positions = position_reports(snapshot)
    held_by_positions = sum((p.margin_used for p in positions), ZERO)
    return LedgerSnapshot(
        cash=snapshot.equity - snapshot.unrealized_pnl,
        frozen_cash=max(ZERO, snapshot.margin_used - held_by_positions),
        positions_value=sum((p.size * p.mark_price for p in positions), ZERO),
        unrealized_pnl=snapshot.unrealized_pnl,
        total_trades=trades,
    )
