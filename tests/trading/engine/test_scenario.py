"""Issue 5's scripted scenario, checked against a ledger computed by hand.

Asset BTC (max 40x, so maintenance margin = notional / 80); Hyperliquid fees, taker
0.045%, maker 0.015%. Every book is 10 dollars either side of the mark, 5 BTC deep, so a
market buy fills at mark + 10 and a market sell at mark - 10. The account starts with
10 000 of cash and a trader max leverage of 10.

time   step                                   cash movement                       cash
00:00  start the funding clock                 -                                  10000
00:10  buy 0.2 @ 50010 (5x)                   fee 10002 * 0.00045 = -4.5009       9995.4991
00:20  buy 0.2 @ 51010 (add)                  fee 10202 * 0.00045 = -4.5909       9990.9082
       entry = (0.2*50010 + 0.2*51010) / 0.4 = 50510
00:30  sell 0.1 @ 51990 (partial close)       pnl 0.1 * (51990 - 50510) = +148
                                              fee 5199 * 0.00045 = -2.33955       10136.56865
00:40  sell 0.5 @ 51990 (flip, 10x, SL 53000, TP 48000)
                                              pnl 0.3 * (51990 - 50510) = +444
                                              fee 25995 * 0.00045 = -11.69775     10568.8709
       position -0.2 @ 51990
01:00  funding, mark 52000, rate 0.00125%/h   -0.2 * 52000 * 0.0000125 = -0.13
                                              (negative: the short receives)      10569.0009
01:30  mark 53000 reaches the stop: buy 0.2 @ 53010
                                              pnl 0.2 * (51990 - 53010) = -204
                                              fee 10602 * 0.00045 = -4.7709       10360.23
       take-profit cancelled as the sibling; position flat
01:40  buy 2 @ 50010 (10x)                    fee 100020 * 0.00045 = -45.009      10315.221
01:50  mark 45000: equity = 10315.221 + 2 * (45000 - 50010) = 295.221
       maintenance = 2 * 45000 / 80 = 1125 > equity: liquidate, sell 2 @ 44990
                                              pnl 2 * (44990 - 50010) = -10040
                                              fee 89980 * 0.00045 = -40.491       234.73

Totals: realised PnL 148 + 444 - 204 - 10040 = -9652; fees 4.5009 + 4.5909 + 2.33955
+ 11.69775 + 4.7709 + 45.009 + 40.491 = 113.40; funding -0.13 (received).
10000 - 9652 - 113.40 + 0.13 = 234.73.
"""

from __future__ import annotations

from hyperoru.trading.engine import (
    AccountState,
    Fill,
    FundingPaid,
    Liquidated,
    Liquidity,
    OrderRequest,
    OrderResult,
    OrderStatus,
    Side,
    on_market,
    place_order,
)
from tests.trading.engine.kit import CONFIG, D, account, at, order, quoted


def _place(state: AccountState, request: OrderRequest, mark: int, minutes: int) -> OrderResult:
    result = place_order(state, request, markets=quoted(mark), config=CONFIG, now=at(minutes))
    assert result.reject_code is None, result.message
    return result


def test_scripted_scenario_matches_the_hand_computed_ledger() -> None:
    fills: list[Fill] = []

    state = on_market(account(), quoted(50000), config=CONFIG, now=at(0)).state
    assert state.funding_settled_at == at(0)

    # Open a 5x long.
    opened = _place(state, order("buy", "0.2", order_id="open", leverage=5), 50000, 10)
    state = opened.state
    assert state.cash == D("9995.4991")
    position = state.position("BTC")
    assert position is not None
    assert (position.size, position.entry_price, position.leverage) == (D("0.2"), 50010, 5)

    # Add to it.
    added = _place(state, order("buy", "0.2", order_id="add", leverage=5), 51000, 20)
    state = added.state
    assert state.cash == D("9990.9082")
    position = state.position("BTC")
    assert position is not None
    assert (position.size, position.entry_price) == (D("0.4"), D(50510))

    # Partly close.
    closed = _place(state, order("sell", "0.1", order_id="trim"), 52000, 30)
    state = closed.state
    assert closed.fills[0].realized_pnl == 148
    assert state.cash == D("10136.56865")
    assert state.position("BTC").size == D("0.3")  # type: ignore[union-attr]

    # Flip short, with a stop-loss and a take-profit on the new short.
    flip = order(
        "sell", "0.5", order_id="flip", leverage=10, stop_loss="53000", take_profit="48000"
    )
    flipped = _place(state, flip, 52000, 40)
    state = flipped.state
    assert flipped.fills[0].realized_pnl == 444
    assert state.cash == D("10568.8709")
    position = state.position("BTC")
    assert position is not None
    assert (position.size, position.entry_price, position.leverage) == (D("-0.2"), 51990, 10)
    assert [(t.order_id, t.active) for t in state.triggers] == [
        ("flip:tp", True),
        ("flip:sl", True),
    ]

    # Pay (here: receive) funding at the hour.
    hour = on_market(state, quoted(52000, funding_rate="0.0000125"), config=CONFIG, now=at(60))
    state = hour.state
    assert [e.payment for e in hour.events if isinstance(e, FundingPaid)] == [D("-0.13")]
    assert state.cash == D("10569.0009")

    # Hit the stop-loss.
    stopped = on_market(state, quoted(53000), config=CONFIG, now=at(90))
    state = stopped.state
    (stop_fill,) = stopped.fills
    assert (stop_fill.order_id, stop_fill.side, stop_fill.price) == ("flip:sl", Side.BUY, 53010)
    assert (stop_fill.realized_pnl, stop_fill.fee) == (D(-204), D("4.7709"))
    statuses = {e.order_id: e.status for e in stopped.events if hasattr(e, "status")}
    assert statuses == {"flip:tp": OrderStatus.CANCELLED, "flip:sl": OrderStatus.TRIGGERED}
    assert state.cash == D("10360.23")
    assert state.positions == () and state.triggers == ()

    # Open a 10x long and get liquidated.
    big = _place(state, order("buy", "2", order_id="big", leverage=10), 50000, 100)
    state = big.state
    assert state.cash == D("10315.221")
    crash = on_market(state, quoted(45000), config=CONFIG, now=at(110))
    state = crash.state
    (liquidated,) = [e for e in crash.events if isinstance(e, Liquidated)]
    assert (liquidated.equity, liquidated.maintenance_margin) == (D("295.221"), D(1125))
    (liq_fill,) = crash.fills
    assert (liq_fill.price, liq_fill.quantity, liq_fill.is_liquidation) == (44990, 2, True)
    assert (liq_fill.realized_pnl, liq_fill.fee) == (D(-10040), D("40.491"))
    assert state.positions == ()
    assert state.cash == D("234.73")

    # The whole trade list, as the trades endpoint would show it.
    for result in (opened, added, closed, flipped, stopped, big, crash):
        fills += result.fills
    assert [f.fill_id for f in fills] == list(range(1, 8))
    assert [f.liquidity for f in fills] == [Liquidity.TAKER] * 7
    assert [f.is_liquidation for f in fills] == [False] * 6 + [True]
    assert sum(f.realized_pnl for f in fills) == D(-9652)
    assert sum(f.fee for f in fills) == D("113.40")
    assert D(10000) + D(-9652) - D("113.40") + D("0.13") == state.cash
