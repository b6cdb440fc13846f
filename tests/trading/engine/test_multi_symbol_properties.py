"""Properties over two symbols at once, on asymmetric books whose mid is not the mark.

test_properties.py trades one symbol on books centred on the mark, where a cap measured
from the mark, a liquidation price that forgets the other positions or a reservation on
the whole order instead of its remainder all give the same numbers as the right ones.
Here each check has an independent oracle written from the contract's formulas (§8).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperoru.trading.engine import (
    AccountState,
    BookLevel,
    Liquidity,
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
from tests.trading.engine.kit import BTC, CONFIG, ETH, D, at

SYMBOLS = {"BTC": (BTC, 50000), "ETH": (ETH, 3000)}
CAP = CONFIG.slippage_cap


@dataclass(frozen=True)
class Book:
    """A book around ``mid`` with the mark ``skew_bps`` away from it and sides of
    different depth and spacing."""

    symbol: str
    mid_bps: int  # the mid, in basis points of the symbol's base price
    skew_bps: int  # the mark's distance from the mid
    bid_step_bps: int
    ask_step_bps: int
    bid_size: Decimal
    ask_size: Decimal

    def snapshot(self) -> MarketSnapshot:
        base = SYMBOLS[self.symbol][1]
        mid = D(base) * (10000 + self.mid_bps) / 10000
        spread = mid / 10000  # one basis point either side of the mid
        bids = [
            BookLevel(mid - spread - mid * k * self.bid_step_bps / 10000, self.bid_size)
            for k in range(5)
        ]
        asks = [
            BookLevel(mid + spread + mid * k * self.ask_step_bps / 10000, self.ask_size * (k + 1))
            for k in range(5)
        ]
        mark = mid * (10000 + self.skew_bps) / 10000
        return MarketSnapshot(self.symbol, mark, OrderBook(bids=tuple(bids), asks=tuple(asks)))


@dataclass(frozen=True)
class Step:
    symbol: str
    side: Side
    quantity: Decimal
    limit_bps: int | None  # a limit this far from the mid, or a market order
    leverage: int


def books(symbol: str) -> st.SearchStrategy[Book]:
    return st.builds(
        Book,
        symbol=st.just(symbol),
        mid_bps=st.integers(-1500, 1500),
        skew_bps=st.integers(-400, 400),
        bid_step_bps=st.integers(5, 300),
        ask_step_bps=st.integers(5, 300),
        bid_size=st.integers(1, 400).map(lambda n: D(n) / 100),
        ask_size=st.integers(1, 400).map(lambda n: D(n) / 100),
    )


steps = st.builds(
    Step,
    symbol=st.sampled_from(sorted(SYMBOLS)),
    side=st.sampled_from(Side),
    quantity=st.integers(1, 300).map(lambda n: D(n) / 100),
    limit_bps=st.one_of(st.none(), st.integers(-300, 300)),
    leverage=st.integers(1, 10),
)
sessions = st.fixed_dictionaries(
    {
        "cash": st.integers(20_000, 400_000),
        "rounds": st.lists(
            st.tuples(books("BTC"), books("ETH"), st.lists(steps, min_size=1, max_size=4)),
            min_size=1,
            max_size=5,
        ),
    }
)
multi_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _request(number: int, step: Step, snapshot: MarketSnapshot) -> OrderRequest:
    asset = SYMBOLS[step.symbol][0]
    quantity = step.quantity.quantize(D(1).scaleb(-asset.sz_decimals))
    price = None
    if step.limit_bps is not None:
        price = (snapshot.reference_mid * (10000 + step.limit_bps) / 10000).quantize(D(1))
    return OrderRequest(
        order_id=f"o{number}",
        symbol=step.symbol,
        side=step.side,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=quantity,
        price=price,
        leverage=step.leverage,
        time_in_force=TimeInForce.GTC,
    )


def _within_cap(snapshot: MarketSnapshot, side: Side, limit: Decimal | None) -> Decimal:
    """What a taker may take: the levels inside mid +/- 5% and inside its limit."""
    mid = snapshot.reference_mid
    worst = mid * (1 + side.sign * CAP)
    if limit is not None:
        worst = min(worst, limit) if side is Side.BUY else max(worst, limit)
    levels = snapshot.book.levels_to_take(side)
    inside = [lv for lv in levels if (lv.price <= worst if side is Side.BUY else lv.price >= worst)]
    return sum((lv.size for lv in inside), D(0))


def _check_account(state: AccountState) -> None:
    metrics = measure(state, CONFIG)
    # Reservations: what is left of each opening order, at its price, over its leverage.
    reserved = sum(
        (o.remaining * o.price / o.leverage for o in state.open_orders if not o.reduce_only),
        D(0),
    )
    assert abs(metrics.order_margin - reserved) <= D("1e-8")
    assert metrics.available + metrics.margin_used + metrics.order_margin == metrics.equity
    # Cross margin: at each position's liquidation price, with every other mark unchanged,
    # the whole account's equity equals its whole maintenance margin.
    for position in state.positions:
        price = liquidation_price(state, position.symbol, CONFIG)
        if price is None:
            continue
        equity, maintenance = state.cash, D(0)
        for p in state.positions:
            mark = price if p.symbol == position.symbol else p.mark_price
            equity += p.size * (mark - p.entry_price)
            max_leverage = CONFIG.assets[p.symbol].max_leverage
            maintenance += abs(p.size) * mark / (2 * max_leverage)
        assert abs(equity - maintenance) <= D("1e-6") * (1 + abs(position.size) * price)


@multi_settings
@given(sessions)
def test_two_symbols_on_skewed_books_keep_every_rule(session: dict) -> None:
    state = AccountState(cash=D(session["cash"]), max_leverage=10)
    number = 0
    for minute, (btc, eth, round_steps) in enumerate(session["rounds"], 1):
        markets = {"BTC": btc.snapshot(), "ETH": eth.snapshot()}
        state = on_market(state, markets, config=CONFIG, now=at(minute)).state
        _check_account(state)
        for step in round_steps:
            number += 1
            snapshot = markets[step.symbol]
            request = _request(number, step, snapshot)
            result = place_order(state, request, markets=markets, config=CONFIG, now=at(minute))
            taken = sum((f.quantity for f in result.fills if f.liquidity is Liquidity.TAKER), D(0))
            if result.reject_code is None:
                # A taker takes everything the capped book offers, up to its quantity.
                offered = _within_cap(snapshot, request.side, request.price)
                assert taken == min(request.quantity, offered), (request, snapshot)
            for fill in result.fills:
                mid = snapshot.reference_mid
                assert abs(fill.price - mid) <= mid * CAP
            state = result.state
            _check_account(state)


def test_the_oracle_sees_a_skew() -> None:
    """The books above really separate mid and mark (else the test proves nothing)."""
    snapshot = Book("BTC", 0, 300, 10, 20, D(1), D(1)).snapshot()
    assert snapshot.mark_price == snapshot.reference_mid * D("1.03")
    assert snapshot.book.asks[1].price - snapshot.book.asks[0].price == D(100)
