"""Properties of the engine over random order flows and price paths (hypothesis).

Accounting identity (exact, at every step): cash_t = cash_0 + sum(realised PnL)
- sum(fees) - sum(funding paid). Margin is reserved out of equity, never moved out of cash,
so equity_t = cash_t + sum(unrealised PnL), and available + margin used + order margin =
equity. Value identity (to rounding of average entry prices): equity_t = cash_0 - fees
- funding + sum over fills of signed quantity * (mark - fill price).
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
    EngineResult,
    Fill,
    FundingPaid,
    Liquidated,
    Liquidity,
    MarketSnapshot,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PositionChanged,
    Side,
    TimeInForce,
    TriggerPlaced,
    advance_status,
    is_terminal,
    measure,
    on_market,
    place_order,
)
from hyperoru.trading.engine.triggers import trigger_worst_price
from tests.trading.engine.kit import CONFIG, T0, D

CAP = CONFIG.slippage_cap


@dataclass(frozen=True)
class Order:
    side: Side
    quantity: Decimal
    kind: str  # market | gtc | ioc | alo
    offset_bps: int
    leverage: int
    reduce_only: bool
    # For reduce-only orders: aim at the current position instead of the drawn side.
    against_position: bool
    protect: bool


@dataclass(frozen=True)
class Tick:
    move_bps: int
    minutes: int
    funding_bps: int


orders = st.builds(
    Order,
    side=st.sampled_from(Side),
    quantity=st.integers(1, 2000).map(lambda n: Decimal(n) / 1000),
    kind=st.sampled_from(["market", "gtc", "ioc", "alo"]),
    offset_bps=st.integers(-300, 300),
    leverage=st.integers(1, 40),
    reduce_only=st.sampled_from([False, False, False, True]),
    against_position=st.sampled_from([False, True, True, True]),
    protect=st.sampled_from([False, False, True]),
)
ticks = st.builds(
    Tick,
    # Mostly quiet moves, sometimes a crash or a squeeze big enough to liquidate.
    move_bps=st.one_of(st.integers(-300, 300), st.integers(-2500, 2500)),
    minutes=st.integers(1, 150),
    funding_bps=st.integers(-5, 5),
)
# Every script opens with a leveraged market order, so most paths carry a position that
# funding, triggers and liquidation can act on.
openings = st.builds(
    Order,
    side=st.sampled_from(Side),
    quantity=st.integers(50, 2000).map(lambda n: Decimal(n) / 1000),
    kind=st.just("market"),
    offset_bps=st.just(0),
    leverage=st.integers(10, 40),
    reduce_only=st.just(False),
    against_position=st.just(False),
    protect=st.booleans(),
)
scripts = st.fixed_dictionaries(
    {
        "cash": st.integers(1000, 20000),
        # Mostly tight books; a step over 2500 puts every level beyond the 5% cap.
        "level_step": st.one_of(st.integers(1, 200), st.integers(1, 3000)),
        "level_size": st.integers(10, 1000).map(lambda n: Decimal(n) / 1000),
        "steps": st.tuples(openings, st.lists(st.one_of(orders, ticks), max_size=30)).map(
            lambda parts: [parts[0], *parts[1]]
        ),
    }
)


def _snapshot(mid: int, previous: int, step: int, size: Decimal, funding_bps: int):
    # Five levels a side, ``step`` dollars apart: a wide step puts levels beyond the cap.
    book = OrderBook(
        bids=tuple(BookLevel(D(mid - k * step), size) for k in range(1, 6) if mid > k * step),
        asks=tuple(BookLevel(D(mid + k * step), size * k) for k in range(1, 6)),
    )
    return MarketSnapshot(
        "BTC",
        D(mid),
        book,
        funding_rate=D(funding_bps) / 100000,
        low=D(min(mid, previous)),
        high=D(max(mid, previous)),
    )


def _request(number: int, step: Order, mid: int, state: AccountState) -> OrderRequest:
    side = step.side
    position = state.position("BTC")
    if step.reduce_only and step.against_position and position is not None:
        side = position.side.opposite
    price = D(mid * (10000 + step.offset_bps) // 10000)
    protect = step.protect and not step.reduce_only
    lower, upper = D(mid * 9 // 10), D(mid * 11 // 10)
    return OrderRequest(
        order_id=f"o{number}",
        symbol="BTC",
        side=side,
        order_type=OrderType.MARKET if step.kind == "market" else OrderType.LIMIT,
        quantity=step.quantity,
        price=None if step.kind == "market" else price,
        leverage=step.leverage,
        reduce_only=step.reduce_only,
        time_in_force=TimeInForce.GTC if step.kind == "market" else TimeInForce(step.kind),
        take_profit_price=(upper if side is Side.BUY else lower) if protect else None,
        stop_loss_price=(lower if side is Side.BUY else upper) if protect else None,
    )


@dataclass(frozen=True)
class Call:
    before: AccountState
    snapshot: MarketSnapshot
    request: OrderRequest | None
    result: EngineResult


def _run(script: dict) -> list[Call]:
    state = AccountState(cash=D(script["cash"]), max_leverage=40)
    now, mid, previous = T0, 50000, 50000
    snapshot = _snapshot(mid, previous, script["level_step"], script["level_size"], 0)
    calls: list[Call] = []
    for number, step in enumerate(script["steps"]):
        if isinstance(step, Tick):
            now += timedelta(minutes=step.minutes)
            previous, mid = mid, max(100, mid * (10000 + step.move_bps) // 10000)
            snapshot = _snapshot(
                mid, previous, script["level_step"], script["level_size"], step.funding_bps
            )
            result = on_market(state, {"BTC": snapshot}, config=CONFIG, now=now)
            calls.append(Call(state, snapshot, None, result))
        else:
            request = _request(number, step, mid, state)
            result = place_order(state, request, markets={"BTC": snapshot}, config=CONFIG, now=now)
            calls.append(Call(state, snapshot, request, result))
        state = result.state
    return calls


def _fills(calls: list[Call]) -> list[Fill]:
    return [f for call in calls for f in call.result.fills]


property_settings = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@property_settings
@given(scripts)
def test_cash_is_exactly_deposits_plus_realised_minus_fees_minus_funding(script: dict) -> None:
    calls = _run(script)
    cash = D(script["cash"])
    for call in calls:
        for event in call.result.events:
            if isinstance(event, Fill):
                cash += event.realized_pnl - event.fee
            elif isinstance(event, FundingPaid):
                cash -= event.payment
        assert call.result.state.cash == cash
        metrics = measure(call.result.state, CONFIG)
        assert metrics.available + metrics.margin_used + metrics.order_margin == metrics.equity


@property_settings
@given(scripts)
def test_equity_equals_the_mark_to_market_of_every_fill(script: dict) -> None:
    calls = _run(script)
    state = calls[-1].result.state
    mark = calls[-1].snapshot.mark_price
    fills = _fills(calls)
    funding = sum(
        (e.payment for c in calls for e in c.result.events if isinstance(e, FundingPaid)), D(0)
    )
    traded = sum((f.side.sign * f.quantity * (mark - f.price) for f in fills), D(0))
    expected = D(script["cash"]) - sum((f.fee for f in fills), D(0)) - funding + traded
    if state.positions:
        assert state.positions[0].mark_price == mark
    # Only average entry prices (1e-12), realised PnL and the reported uPnL (1e-8) round.
    assert abs(measure(state, CONFIG).equity - expected) <= D("1e-6") * (1 + len(fills))


@property_settings
@given(scripts)
def test_no_fill_outside_the_book_or_beyond_the_cap(script: dict) -> None:
    rule = CONFIG.trigger_fill.cap
    for call in _run(script):
        book, mid = call.snapshot.book, call.snapshot.reference_mid
        triggers = {t.order_id: t for t in call.before.triggers}
        taken: dict[tuple[str, Decimal], Decimal] = {}
        for fill in call.result.fills:
            if fill.liquidity is Liquidity.MAKER:
                # A resting limit fills at its own price, wherever the market has gone since.
                resting = call.before.open_order(fill.order_id)
                assert resting is not None and fill.price == resting.price
                continue
            fired = triggers.get(fill.order_id)
            if fired is not None and rule is not None and not fill.is_liquidation:
                # The venue's trigger rule: a limit at the trigger price ± its cap, which
                # may lie beyond the mid's cap after a gap (docs/PAPER_ENGINE.md).
                worst = trigger_worst_price(fired, rule)
                assert fill.price <= worst if fill.side is Side.BUY else fill.price >= worst
            else:
                assert abs(fill.price - mid) <= mid * CAP
            levels = {lv.price: lv.size for lv in book.levels_to_take(fill.side)}
            if fill.is_liquidation and fill.price not in levels:
                assert fill.price == mid * (1 + fill.side.sign * CAP)  # the forced remainder
                continue
            key = (fill.order_id, fill.price)
            taken[key] = taken.get(key, D(0)) + fill.quantity
            assert fill.price in levels and taken[key] <= levels[fill.price]
            if call.request is not None and call.request.price is not None:
                limit = call.request.price
                assert fill.price <= limit if fill.side is Side.BUY else fill.price >= limit


@property_settings
@given(scripts)
def test_reduce_only_orders_triggers_and_liquidations_never_grow_a_position(
    script: dict,
) -> None:
    for call in _run(script):
        events = call.result.events
        for index, event in enumerate(events):
            if not isinstance(event, Fill):
                continue
            reducing = (
                event.is_liquidation
                or ":" in event.order_id
                or (call.request is not None and call.request.reduce_only)
            )
            if not reducing:
                continue
            change = events[index + 1]
            assert isinstance(change, PositionChanged)
            assert abs(change.size) < abs(change.previous_size)
            assert change.size == 0 or (change.size > 0) == (change.previous_size > 0)


@property_settings
@given(scripts)
def test_no_account_is_left_below_maintenance_margin(script: dict) -> None:
    for call in _run(script):
        state = call.result.state
        if call.request is None and state.positions:
            metrics = measure(state, CONFIG)
            assert metrics.equity >= metrics.maintenance_margin
        assert all(p.size != 0 for p in state.positions)


@property_settings
@given(scripts)
def test_replaying_the_same_price_path_gives_identical_results(script: dict) -> None:
    first, second = _run(script), _run(script)
    assert [c.result for c in first] == [c.result for c in second]
    assert [f.fill_id for f in _fills(first)] == list(range(1, len(_fills(first)) + 1))


@property_settings
@given(
    cash=st.integers(1000, 20000),
    quantity=st.integers(50, 2000).map(lambda n: Decimal(n) / 1000),
    side=st.sampled_from(Side),
    leverage=st.integers(5, 40),
    move_bps=st.integers(-600, 600),
)
def test_liquidation_happens_exactly_when_equity_falls_below_maintenance(
    cash: int, quantity: Decimal, side: Side, leverage: int, move_bps: int
) -> None:
    start = _snapshot(50000, 50000, 5, D(5), 0)
    request = OrderRequest("o", "BTC", side, OrderType.MARKET, quantity, leverage=leverage)
    opened = place_order(
        AccountState(cash=D(cash), max_leverage=40),
        request,
        markets={"BTC": start},
        config=CONFIG,
        now=T0,
    )
    if opened.reject_code is not None:
        return
    (position,) = opened.state.positions
    mark = 50000 * (10000 + move_bps) // 10000
    moved = _snapshot(mark, 50000, 5, D(5), 0)
    result = on_market(opened.state, {"BTC": moved}, config=CONFIG, now=T0)
    # Maintenance margin is half the initial margin at BTC's 40x: notional / 80.
    equity = opened.state.cash + position.size * (mark - position.entry_price)
    maintenance = abs(position.size) * mark / 80
    liquidated = any(isinstance(e, Liquidated) for e in result.events)
    assert liquidated is (equity < maintenance)
    if liquidated:
        assert result.state.positions == ()
        assert result.fills and all(f.is_liquidation for f in result.fills)


@property_settings
@given(scripts)
def test_every_order_moves_through_legal_statuses_only(script: dict) -> None:
    statuses: dict[str, OrderStatus] = {}
    for call in _run(script):
        for event in call.result.events:
            if isinstance(event, TriggerPlaced):
                statuses[event.trigger.order_id] = event.trigger.status
            elif isinstance(event, OrderUpdated):
                current = statuses.get(event.order_id, OrderStatus.PENDING)
                statuses[event.order_id] = advance_status(current, event.status)
    state = _run(script)[-1].result.state
    for order in state.open_orders:
        assert not is_terminal(statuses[order.order_id])
    for trigger in state.triggers:
        assert statuses[trigger.order_id] is trigger.status
