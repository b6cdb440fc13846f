"""Margin arithmetic: equity, initial and maintenance margin, liquidation price.

Cross positions share the account's cash; an isolated position stands on its own margin.

Initial margin     = |size| * mark / position leverage        (cross positions)
Maintenance margin = |size| * mark / (2 * asset max leverage) (every position)
Cross equity       = cash + Σ cross size * (mark - entry)
Isolated equity    = isolated margin + size * (mark - entry)  (one isolated position)
Equity             = cross equity + Σ isolated equity
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


def maintenance_rate(asset: AssetSpec) -> Decimal:
    """Half the initial margin at the asset's max leverage (Hyperliquid's rule; one rule
    for cross and isolated positions)."""
    return Decimal(1) / (2 * asset.max_leverage)


def maintenance_margin(position: Position, asset: AssetSpec) -> Decimal:
    return position.notional / (2 * asset.max_leverage)


def order_reservation(order: RestingOrder) -> Decimal:
    if order.reduce_only:
        return ZERO
    return order.remaining * order.price / order.leverage


def cross_only(positions: Iterable[Position]) -> list[Position]:
    return [p for p in positions if not p.is_isolated]


def equity_of(cash: Decimal, positions: Iterable[Position]) -> Decimal:
    """Cash plus what every position is worth: cross PnL, isolated margin and PnL."""
    return cash + sum((p.isolated_margin + p.unrealized_pnl for p in positions), ZERO)


def cross_equity(cash: Decimal, positions: Iterable[Position]) -> Decimal:
    """What the cross positions stand on: isolated positions neither help nor hurt it."""
    return equity_of(cash, cross_only(positions))


def total_maintenance(positions: Iterable[Position], assets: Mapping[str, AssetSpec]) -> Decimal:
    return sum((maintenance_margin(p, assets[p.symbol]) for p in positions), ZERO)


def margin_requirement(positions: Iterable[Position], orders: Iterable[RestingOrder]) -> Decimal:
    """What cross equity must cover for a new order to be accepted (an isolated
    position's margin has already left cash)."""
    held = sum((initial_margin(p) for p in cross_only(positions)), ZERO)
    return held + sum((order_reservation(o) for o in orders), ZERO)


def is_liquidatable(equity: Decimal, maintenance: Decimal) -> bool:
    """Contract §8: liquidate when equity falls strictly below maintenance margin."""
    return equity < maintenance


def cross_is_liquidatable(
    cash: Decimal, positions: Iterable[Position], assets: Mapping[str, AssetSpec]
) -> bool:
    cross = cross_only(positions)
    if not cross:
        return False
    return is_liquidatable(equity_of(cash, cross), total_maintenance(cross, assets))


def isolated_is_liquidatable(position: Position, asset: AssetSpec) -> bool:
    return position.is_isolated and is_liquidatable(
        position.isolated_equity, maintenance_margin(position, asset)
    )


def any_liquidatable(
    cash: Decimal, positions: Iterable[Position], assets: Mapping[str, AssetSpec]
) -> bool:
    """The cross account, or any isolated position, is below its maintenance margin."""
    positions = list(positions)
    if cross_is_liquidatable(cash, positions, assets):
        return True
    return any(isolated_is_liquidatable(p, assets[p.symbol]) for p in positions)


@dataclass(frozen=True, slots=True)
class AccountMetrics:
    """The numbers an account overview shows, all at the positions' stored marks.

    ``cash`` is the realised balance (``AccountState.balance``: isolated margin included),
    so ``equity = cash + unrealized_pnl`` whatever the margin modes.
    """

    cash: Decimal
    equity: Decimal
    unrealized_pnl: Decimal
    margin_used: Decimal
    order_margin: Decimal
    maintenance_margin: Decimal
    available: Decimal
    positions_value: Decimal


def position_margin(position: Position) -> Decimal:
    """The margin a position ties up: a cross position's initial margin at the mark, an
    isolated position's whole isolated equity (margin plus PnL, none of it available)."""
    if position.is_isolated:
        return position.isolated_equity
    return initial_margin(position)


@in_engine_context
def measure(state: AccountState, config: EngineConfig) -> AccountMetrics:
    """Summarise ``state``; ``available`` = equity - position margin - order reservations.

    Every figure is rounded to the ledger quantum (1e-8), so the identities between them
    hold exactly; the engine's own margin checks use the unrounded values. Isolated
    margin counts in equity and in ``margin_used``, so ``available`` is what cross
    equity leaves free.
    """
    unrealized = money(sum((p.unrealized_pnl for p in state.positions), ZERO))
    used = money(sum((position_margin(p) for p in state.positions), ZERO))
    reserved = money(sum((order_reservation(o) for o in state.open_orders), ZERO))
    equity = state.balance + unrealized
    return AccountMetrics(
        cash=state.balance,
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
    """The mark of ``symbol`` at which its position would be liquidated, others unchanged.

    Solves E + s * (p - entry) = M + |s| * p * l for p, with s the signed size and
    l = 1 / (2 * max leverage): p = (M - E + s * entry) / (s - |s| * l). For a cross
    position E and M are the equity and maintenance margin of the other cross positions
    (cash included); for an isolated one E is its isolated margin and M is zero, which is
    Hyperliquid's isolated formula. ``None`` when there is no position or the answer is
    not a positive price.
    """
    position = state.position(symbol)
    if position is None:
        return None
    if position.is_isolated:
        rest_equity, rest_maintenance = position.isolated_margin, ZERO
    else:
        others = [p for p in cross_only(state.positions) if p.symbol != symbol]
        rest_equity = equity_of(state.cash, others)
        rest_maintenance = total_maintenance(others, config.assets)
    share = maintenance_rate(config.assets[symbol])
    size = position.size
    price = (rest_maintenance - rest_equity + size * position.entry_price) / (
        size - abs(size) * share
    )
    return average_price(price) if price > 0 else None
