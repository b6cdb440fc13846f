"""The engine's positions as the venue-neutral ``PositionReport``. Pure, so the paper
client and backtest replays describe a position by one rule."""

from __future__ import annotations

from hyperoru.exchanges.base import PositionReport
from hyperoru.trading.engine import AccountState, EngineConfig, liquidation_price


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
            margin_used=p.notional / p.leverage,
            opened_at=p.opened_at,
        )
        for p in sorted(state.positions, key=lambda p: p.symbol)
    ]
