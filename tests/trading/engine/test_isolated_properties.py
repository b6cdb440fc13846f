"""Properties of cross and isolated positions side by side, on two symbols.

Random orders (each cross or isolated, market or limit, any leverage) and random price
moves with funding, checked after every engine call against oracles written from the
rules: money is conserved exactly (cash + isolated margins = deposits + realised - fees -
funding), the account figures add up, nothing is left below its maintenance margin, a
call changes no position it did not fill, and an isolated position's liquidation price
solves its own margin equation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperoru.trading.engine import (
    AccountState,
    BookLevel,
    Fill,
    FundingPaid,
    MarginMode,
    MarketSnapshot,
    OrderBook,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
    liquidation_price,
    measure,
    on_market,
    place_order,
)
from hyperoru.trading.engine.margin import cross_equity, maintenance_margin
from tests.trading.engine.kit import CONFIG, T0, D

BASE = {"BTC": 50000, "ETH": 3000}
DECIMALS = {"BTC": 3, "ETH": 2}


@dataclass(frozen=True)
class Order:
    symbol: str
    side: Side
    quantity: int  # in units of the symbol's last size decimal
    limit_bps: int | None
    leverage: int
    isolated: bool


@dataclass(frozen=True)
class Move:
    btc_bps: int
    eth_bps: int
    funding_bps: int


orders = st.builds(
    Order,
    symbol=st.sampled_from(["BTC", "ETH"]),
    side=st.sampled_from(Side),
    quantity=st.integers(1, 600),
    limit_bps=st.one_of(st.none(), st.integers(-200, 200)),
    leverage=st.integers(1, 25),
    isolated=st.booleans(),
)
moves = st.builds(
    Move,
    btc_bps=st.one_of(st.integers(-300, 300), st.integers(-2500, 2500)),
    eth_bps=st.one_of(st.integers(-300, 300), st.integers(-2500, 2500)),
    funding_bps=st.integers(-5, 5),
)
sessions = st.fixed_dictionaries(
    {
        "cash": st.integers(2000, 30000),
        "steps": st.lists(st.one_of(orders, orders, moves), min_size=1, max_size=25),
    }
)


def _snapshot(symbol: str, mid: Decimal, previous: Decimal, funding_bps: int) -> MarketSnapshot:
    step = mid / 1000  # levels 0.1% apart, the first one step from the mid
    book = OrderBook(
        bids=tuple(BookLevel(mid - k * step, D(1)) for k in range(1, 6)),
        asks=tuple(BookLevel(mid + k * step, D(1)) for k in range(1, 6)),
    )
    return MarketSnapshot(
        symbol,
        mid,
        book,
        funding_rate=D(funding_bps) / 100000,
        low=min(mid, previous),
        high=max(mid, previous),
    )


def _request(number: int, step: Order, mid: Decimal) -> OrderRequest:
    price = None
    if step.limit_bps is not None:
        price = (mid * (10000 + step.limit_bps) / 10000).quantize(D(1))
    return OrderRequest(
        order_id=f"o{number}",
        symbol=step.symbol,
        side=step.side,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=D(step.quantity).scaleb(-DECIMALS[step.symbol]),
        price=price,
        leverage=step.leverage,
        time_in_force=TimeInForce.GTC,
        margin_mode=MarginMode.ISOLATED if step.isolated else MarginMode.CROSS,
    )


class Books:
    """Money that went in and out, from the events alone (the oracle's own ledger)."""

    def __init__(self, cash: int) -> None:
        self.expected = D(cash)

    def take(self, events: tuple) -> None:
        for event in events:
            if isinstance(event, Fill):
                self.expected += event.realized_pnl - event.fee
            elif isinstance(event, FundingPaid):
                self.expected -= event.payment


def _check(state: AccountState, books: Books, *, settled: bool) -> None:
    isolated = sum((p.isolated_margin for p in state.positions), D(0))
    assert state.cash + isolated == books.expected
    metrics = measure(state, CONFIG)
    assert metrics.available + metrics.margin_used + metrics.order_margin == metrics.equity
    for position in state.positions:
        if not position.is_isolated:
            assert position.isolated_margin == 0
            continue
        maintenance = maintenance_margin(position, CONFIG.assets[position.symbol])
        if settled:
            assert position.isolated_equity >= maintenance
        price = liquidation_price(state, position.symbol, CONFIG)
        if price is not None:
            size = position.size
            equity = position.isolated_margin + size * (price - position.entry_price)
            owed = abs(size) * price / (2 * CONFIG.assets[position.symbol].max_leverage)
            assert abs(equity - owed) <= D("1e-6") * (1 + abs(size) * price)
    if settled:
        cross = [p for p in state.positions if not p.is_isolated]
        if cross:
            owed = sum((maintenance_margin(p, CONFIG.assets[p.symbol]) for p in cross), D(0))
            assert cross_equity(state.cash, state.positions) >= owed


def _untouched_unless_filled(before: AccountState, after: AccountState, fills: tuple) -> None:
    filled = {f.symbol for f in fills}
    for position in before.positions:
        if position.symbol in filled:
            continue
        now = after.position(position.symbol)
        assert now is not None, position
        assert (now.size, now.entry_price, now.margin_mode) == (
            position.size,
            position.entry_price,
            position.margin_mode,
        )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_cross_and_isolated_positions_keep_every_rule(session: dict) -> None:
    state = AccountState(cash=D(session["cash"]), max_leverage=25)
    books = Books(session["cash"])
    mids = {s: D(p) for s, p in BASE.items()}
    markets = {s: _snapshot(s, m, m, 0) for s, m in mids.items()}
    now = T0
    for number, step in enumerate(session["steps"]):
        if isinstance(step, Move):
            now += timedelta(minutes=45)
            previous = dict(mids)
            for symbol, bps in (("BTC", step.btc_bps), ("ETH", step.eth_bps)):
                mids[symbol] = (mids[symbol] * (10000 + bps) / 10000).quantize(D(1))
            markets = {s: _snapshot(s, mids[s], previous[s], step.funding_bps) for s in mids}
            result = on_market(state, markets, config=CONFIG, now=now)
            _untouched_unless_filled(state, result.state, result.fills)
            books.take(result.events)
            _check(result.state, books, settled=True)
        else:
            request = _request(number, step, mids[step.symbol])
            result = place_order(state, request, markets=markets, config=CONFIG, now=now)
            books.take(result.events)
            _check(result.state, books, settled=False)
        state = result.state
