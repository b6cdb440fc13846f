"""What an approved decision becomes: the order intent. Pure, so live cycles and backtest
replays turn decisions into orders by the same rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from hyperoru.exchanges.base import OrderIntent, PositionReport
from hyperoru.strategies.decision import Decision
from hyperoru.strategies.risk import Verdict
from hyperoru.trading.engine.precision import nearest_valid_price

HUNDRED = Decimal(100)


def _exit_prices(
    decision: Decision, side: str, price: Decimal, sz_decimals: int
) -> tuple[Decimal | None, Decimal | None]:
    """Absolute TP/SL prices: given ones as they are, percentages from the current price."""
    take, stop = decision.take_profit_price, decision.stop_loss_price
    direction = Decimal(1) if side == "buy" else Decimal(-1)
    if take is None and decision.take_profit_pct is not None:
        take = nearest_valid_price(
            price * (1 + direction * decision.take_profit_pct / HUNDRED), sz_decimals
        )
    if stop is None and decision.stop_loss_pct is not None:
        stop = nearest_valid_price(
            price * (1 - direction * decision.stop_loss_pct / HUNDRED), sz_decimals
        )
    return take, stop


def order_for(
    decision: Decision,
    verdict: Verdict,
    *,
    price: Decimal,
    sz_decimals: int,
    positions: dict[str, PositionReport],
    name: str,
) -> OrderIntent:
    """The order an approved decision becomes. Opening decisions are market orders (or
    IOC limits at the model's ``max_price``/``min_price``); ``close`` is reduce-only."""
    symbol = decision.symbol or ""
    if decision.operation == "close":
        position = positions[symbol]
        return OrderIntent(
            symbol=symbol,
            side="sell" if position.side == "long" else "buy",
            order_type="market",
            quantity=position.size,
            reduce_only=True,
            name=name,
        )
    side: Literal["buy", "sell"] = "buy" if decision.operation == "long" else "sell"
    assert verdict.notional is not None and verdict.leverage is not None
    limit = decision.max_price if side == "buy" else decision.min_price
    take, stop = _exit_prices(decision, side, price, sz_decimals)
    return OrderIntent(
        symbol=symbol,
        side=side,
        order_type="limit" if limit is not None else "market",
        price=limit,
        time_in_force="ioc" if limit is not None else "gtc",
        quantity=verdict.notional / price,
        leverage=verdict.leverage,
        take_profit_price=take,
        stop_loss_price=stop,
        name=name,
    )
