"""The engine's positions as the venue-neutral ``PositionReport``, and a state re-marked for
a report. Pure, so the paper client, the cached reads and backtest replays describe a
position by one rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal

from hyperoru.exchanges.base import PositionReport
from hyperoru.trading.engine import AccountState, EngineConfig, liquidation_price
from hyperoru.trading.engine.margin import position_margin

MarkOf = Callable[[str], Decimal | None]


def at_marks(state: AccountState, mark_of: MarkOf) -> AccountState:
    """The state at current marks (each position keeps its own when ``mark_of`` has
    none), for reports only: nothing is settled or stored."""
    if not state.positions:
        return state
    positions = tuple(
        dataclasses.replace(p, mark_price=mark_of(p.symbol) or p.mark_price)
        for p in state.positions
    )
    return dataclasses.replace(state, positions=positions)


def position_reports(state: AccountState, config: EngineConfig) -> list[PositionReport]:
    """Every open position, by symbol."""
    return [
        PositionReport(
            symbol=p.symbol,
            side="long" if p.size > 0 else "short",
            size=abs(p.size),
            entry_price=p.entry_price,
            mark_price=p.mark_price,
            leverage=p.leverage,
            liquidation_price=liquidation_price(state, p.symbol, config),
            unrealized_pnl=p.unrealized_pnl,
            margin_used=position_margin(p),
            opened_at=p.opened_at,
            margin_mode="isolated" if p.is_isolated else "cross",
            isolated_margin=p.isolated_margin if p.is_isolated else None,
        )
        for p in sorted(state.positions, key=lambda p: p.symbol)
    ]
