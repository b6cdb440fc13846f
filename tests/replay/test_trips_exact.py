"""Round trips computed by hand from a fixed list of engine events (mutation testing,
scripts/mutation.py): growing, reducing, flipping with a shared fee, funding of an open
trip and of none, exit reasons, and the open trips listed by symbol."""

from __future__ import annotations

from hyperoru.replay.trips import RoundTrip, TripBook
from hyperoru.trading.engine import Fill, FundingPaid, Liquidated, Liquidity, Side
from tests.trading.engine.kit import T0, D


def fill(
    fill_id: int,
    order_id: str,
    symbol: str,
    side: str,
    price: str,
    quantity: str,
    fee: str,
    realized_pnl: str = "0",
    *,
    is_liquidation: bool = False,
) -> Fill:
    return Fill(
        fill_id=fill_id,
        order_id=order_id,
        symbol=symbol,
        side=Side(side),
        price=D(price),
        quantity=D(quantity),
        fee=D(fee),
        liquidity=Liquidity.TAKER,
        realized_pnl=D(realized_pnl),
        time=T0,
        is_liquidation=is_liquidation,
    )


def funding(symbol: str, payment: str) -> FundingPaid:
    return FundingPaid(symbol, T0, D(1), D(1), D("0.0001"), D(payment))


def _book() -> TripBook:
    book = TripBook()
    # ETH opens first, so BTC's second trip comes after it in insertion order.
    book.record([fill(1, "e", "ETH", "sell", "10", "1", "0.01")], "t0")
    book.record([fill(2, "a", "BTC", "buy", "100", "1", "0.1")], "t1")
    book.record([funding("BTC", "0.5")], "t1")
    book.record([fill(3, "b", "BTC", "buy", "110", "1", "0.11")], "t2")
    # Long 2 from 105 on average: sell 0.5 at 120 realises 0.5 * 15 = 7.5.
    book.record([fill(4, "c", "BTC", "sell", "120", "0.5", "0.06", "7.5")], "t3")
    # Sell 3.5 at 130: closes the 1.5 left (realises 1.5 * 25 = 37.5) and opens a short
    # of 2; the 0.35 fee is shared 1.5 : 2 -> 0.15 to the closed trip, 0.20 to the new.
    book.record([fill(5, "x:tp", "BTC", "sell", "130", "3.5", "0.35", "37.5")], "t4")
    # Funding of a symbol with no open trip counts in the total only.
    book.record([funding("SOL", "1")], "t4")
    book.record([Liquidated(T0, D(1), D(2), ("SOL",))], "t5")
    book.record([fill(6, "s", "SOL", "buy", "20", "2", "0.02")], "t5")
    liquidation = fill(7, "liq", "SOL", "sell", "15", "2", "0.03", "-10", is_liquidation=True)
    book.record([liquidation], "t6")
    return book


def test_a_trip_grown_reduced_and_flipped_gives_its_hand_computed_numbers() -> None:
    book = _book()
    btc, sol = book.closed
    assert btc.as_dict() == {
        "symbol": "BTC",
        "side": "long",
        "quantity": "2",
        "entry_time": "t1",
        "entry_price": "105.000000000000",
        "exit_time": "t4",
        # (0.5 * 120 + 1.5 * 130) / 2
        "exit_price": "127.500000000000",
        "exit_reason": "take_profit",
        "realized_pnl": "45.0",
        "fees": "0.42000000",
        "funding": "0.5",
        "pnl": "44.08000000",
        "fill_ids": [2, 3, 4, 5],
    }
    assert sol.exit_reason == "liquidation"
    assert sol.pnl == D("-10.05")
    assert book.fees == D("0.1") + D("0.01") + D("0.11") + D("0.06") + D("0.35") + D("0.05")
    assert book.funding == D("1.5")
    assert book.liquidations == 1
    assert [f.fill_id for f in book.fills] == [1, 2, 3, 4, 5, 6, 7]


def test_the_flip_opens_the_remainder_with_its_share_of_the_fee() -> None:
    btc, eth = _book().still_open()
    assert btc.as_dict() == {
        "symbol": "BTC",
        "side": "short",
        "quantity": "2.0",
        "entry_time": "t4",
        "entry_price": "130.000000000000",
        "exit_time": None,
        "exit_price": None,
        "exit_reason": None,
        "realized_pnl": "0",
        "fees": "0.20000000",
        "funding": "0",
        "pnl": "-0.20000000",
        "fill_ids": [5],
    }
    assert (eth.symbol, eth.side, eth.open_size) == ("ETH", "short", D(1))


def test_max_size_is_the_largest_size_held_not_the_last() -> None:
    book = TripBook()
    book.record([fill(1, "a", "BTC", "buy", "100", "3", "0")], "t1")
    book.record([fill(2, "b", "BTC", "sell", "100", "2", "0")], "t2")
    book.record([fill(3, "c", "BTC", "buy", "100", "1", "0")], "t3")
    (trip,) = book.still_open()
    assert (trip.max_size, trip.open_size) == (D(3), D(2))
    book.record([fill(4, "d:sl", "BTC", "sell", "90", "2", "0", "-20")], "t4")
    (closed,) = book.closed
    assert closed.exit_reason == "stop_loss"
    assert closed.as_dict()["quantity"] == "3"
    # Entries 3 + 1 at 100; exits 2 at 100 and 2 at 90.
    assert closed.as_dict()["entry_price"] == "100.000000000000"
    assert closed.as_dict()["exit_price"] == "95.000000000000"


def test_a_signal_close_says_signal_and_net_pnl_subtracts_fees_and_funding() -> None:
    trip = RoundTrip("BTC", "long", "t", realized_pnl=D(10), fees=D(3), funding=D(2))
    assert trip.pnl == D(5)
    book = TripBook()
    book.record([fill(1, "a", "BTC", "buy", "100", "1", "0")], "t1")
    book.record([funding("BTC", "-0.25")], "t1")
    book.record([fill(2, "b", "BTC", "sell", "101", "1", "0.5", "1")], "t2")
    (closed,) = book.closed
    assert closed.exit_reason == "signal"
    assert closed.pnl == D("0.75")
    assert book.still_open() == []
