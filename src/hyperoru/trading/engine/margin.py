"""Cross-margin arithmetic: equity, initial and maintenance margin, liquidation price.

Initial margin     = |size| * mark / position leverage
Maintenance margin = |size| * mark / (2 * asset max leverage)
Equity             = cash + Σ size * (mark - entry)
Resting orders that may open exposure reserve quantity * limit price / leverage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from hyperoru.trading.engine.config import AssetSpec, EngineConfig
from hyperoru.trading.engine.money import ZERO, average_price, in_engine_context, money
from hyperoru.trading.engine.state import AccountState, Position, RestingOrder


def initial_margin(position: Position) -> Decimal:
    return position.notional / position.leverage


def maintenance_margin(position: Position, asset: AssetSpec) -> Decimal:
    return position.notional / (2 * asset.max_leverage)


def order_reservation(order: RestingOrder) -> Decimal:
    if order.reduce_only:
        return ZERO
    return order.remaining * order.price / order.leverage


def equity_of(cash: Decimal, positions: Iterable[Position]) -> Decimal:
    return cash + sum((p.unrealized_pnl for p in positions), ZERO)


def total_maintenance(positions: Iterable[Position], assets: Mapping[str, AssetSpec]) -> Decimal:
    return sum((maintenance_margin(p, assets[p.symbol]) for p in positions), ZERO)


def margin_requirement(positions: Iterable[Position], orders: Iterable[RestingOrder]) -> Decimal:
    """What equity must cover for a new order to be accepted."""
    held = sum((initial_margin(p) for p in positions), ZERO)
    return held + sum((order_reservation(o) for o in orders), ZERO)


def is_liquidatable(equity: Decimal, maintenance: Decimal) -> bool:
    """Contract §8: liquidate when equity falls strictly below total maintenance margin."""
    return equity < maintenance


@dataclass(frozen=True, slots=True)
class AccountMetrics:
    """The numbers an account overview shows, all at the positions' stored marks."""

    cash: Decimal
    equity: Decimal
    unrealized_pnl: Decimal
    margin_used: Decimal
    order_margin: Decimal
    maintenance_margin: Decimal
    available: Decimal
    positions_value: Decimal


@in_engine_context
def measure(state: AccountState, config: EngineConfig) -> AccountMetrics:
    """Summarise ``state``; ``available`` = equity - position margin - order reservations.

    Every figure is rounded to the ledger quantum (1e-8), so the identities between them
    hold exactly; the engine's own margin checks use the unrounded values.
    """
    unrealized = money(sum((p.unrealized_pnl for p in state.positions), ZERO))
    used = money(sum((initial_margin(p) for p in state.positions), ZERO))
    reserved = money(sum((order_reservation(o) for o in state.open_orders), ZERO))
    equity = state.cash + unrealized
    return AccountMetrics(
        cash=state.cash,
        equity=equity,
        unrealized_pnl=unrealized,
        margin_used=used,
        order_margin=reserved,
        maintenance_margin=money(total_maintenance(state.positions, config.assets)),
        available=equity - used - reserved,
        positions_value=money(sum((p.notional for p in state.positions), ZERO)),
    )


@in_engine_context
def liquidation_price(state: AccountState, symbol: str, config: EngineConfig) -> Decimal | None:
    """The mark of ``symbol`` at which the account would be liquidated, others unchanged.

    Solves cash + Σ uPnL(p) = Σ MM(p) for this symbol's mark: with s the signed size,
    l = 1 / (2 * max leverage), E and M the equity and maintenance margin of everything
    else (this position's uPnL excluded): p = (M - E + s * entry) / (s - |s| * l).
    ``None`` when there is no position or the answer is not a positive price.
    """
    position = state.position(symbol)
    if position is None:
        return None
    others = [p for p in state.positions if p.symbol != symbol]
    rest_equity = equity_of(state.cash, others)
    rest_maintenance = total_maintenance(others, config.assets)
    share = Decimal(1) / (2 * config.assets[symbol].max_leverage)
    size = position.size
    price = (rest_maintenance - rest_equity + size * position.entry_price) / (
        size - abs(size) * share
    )
    return average_price(price) if price > 0 else None
