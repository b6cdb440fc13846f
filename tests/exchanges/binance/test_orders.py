"""Orders through the adapter at the fake venue: plain, post-only, TP/SL on the algo
service, cancels, refusals, and outcomes that are unknown until asked for."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal as D

import httpx
import pytest

from hyperoru.exchanges.binance.client import BinanceFuturesAdapter, connect
from hyperoru.exchanges.binance.parsing import BinanceError
from hyperoru.exchanges.binance.signing import sign
from hyperoru.exchanges.venue import (
    BinanceCredentials,
    Trigger,
    UnknownOutcome,
    VenueError,
    VenueOrder,
)
from tests.exchanges.binance.conftest import KEY, SECRET, AdapterFactory
from tests.fakes.binance_venue import FakeBinanceFutures, Fault


def cid() -> str:
    return uuid.uuid4().hex


def market(side: str, qty: str, symbol: str = "BTC", **extra: object) -> VenueOrder:
    return VenueOrder(cid(), symbol, side, "market", D(qty), None, **extra)  # type: ignore[arg-type]


def limit(side: str, qty: str, price: str, symbol: str = "BTC", **extra: object) -> VenueOrder:
    return VenueOrder(cid(), symbol, side, "limit", D(qty), D(price), **extra)  # type: ignore[arg-type]


async def test_market_order_fills_at_the_mark(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    order = market("buy", "0.01")
    state = await adapter.submit(order)
    assert (state.status, state.filled_quantity, state.average_price) == (
        "filled",
        D("0.01"),
        D("60000"),
    )
    assert state.client_order_id == order.client_order_id
    sent = venue.requests_to("/fapi/v1/order", "POST")[-1].params
    assert sent["newClientOrderId"] == order.client_order_id
    assert sent["newOrderRespType"] == "RESULT"
    assert venue.account(KEY).positions["BTCUSDT"].amt == D("0.01")


async def test_limit_rests_until_the_price_crosses(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    order = limit("buy", "0.01", "59000")
    assert (await adapter.submit(order)).status == "open"
    assert [o.client_order_id for o in await adapter.open_orders()] == [order.client_order_id]
    venue.set_mark("BTC", 58900)
    state = await adapter.order_status(symbol="BTC", client_order_id=order.client_order_id)
    assert state is not None
    assert (state.status, state.average_price) == ("filled", D("59000"))
    assert await adapter.open_orders() == []


async def test_post_only_that_would_match_is_refused(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    with pytest.raises(VenueError) as refused:
        await adapter.submit(limit("buy", "0.01", "60500", time_in_force="alo"))
    assert refused.value.code == "VENUE_WOULD_TRIGGER"
    assert venue.requests_to("/fapi/v1/order", "POST")[-1].params["timeInForce"] == "GTX"
    resting = await adapter.submit(limit("buy", "0.01", "59500", time_in_force="alo"))
    assert resting.status == "open"


async def test_take_profit_and_stop_loss_go_to_the_algo_service(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    entry = await adapter.submit(market("buy", "0.01"))
    tp = market("sell", "0.01", reduce_only=True, trigger=Trigger("tp", D("62000")))
    sl = market("sell", "0.01", reduce_only=True, trigger=Trigger("sl", D("58000")))
    tp_state = await adapter.submit(tp)
    sl_state = await adapter.submit(sl)
    assert tp_state.status == sl_state.status == "open"
    assert tp_state.venue_order_id.startswith("algo:")
    assert tp_state.trigger == Trigger("tp", D("62000"))
    algo_posts = venue.requests_to("/fapi/v1/algoOrder", "POST")
    assert [
        (r.params["type"], r.params["clientAlgoId"], r.params["algoType"]) for r in algo_posts
    ] == [
        ("TAKE_PROFIT_MARKET", tp.client_order_id, "CONDITIONAL"),
        ("STOP_MARKET", sl.client_order_id, "CONDITIONAL"),
    ]
    assert len(venue.requests_to("/fapi/v1/order", "POST")) == 1  # only the entry
    assert {o.client_order_id for o in await adapter.open_orders()} == {
        tp.client_order_id,
        sl.client_order_id,
    }

    venue.set_mark("BTC", 62000)
    done = await adapter.order_status(symbol="BTC", client_order_id=tp.client_order_id)
    assert done is not None
    assert (done.status, done.filled_quantity, done.average_price) == (
        "filled",
        D("0.01"),
        D("62000"),
    )
    assert venue.account(KEY).positions["BTCUSDT"].amt == 0
    # The triggered order's fill is attributed to the take-profit's id.
    fills = await adapter.fills(since=venue.client_clock())
    assert [(f.side, f.client_order_id) for f in fills] == [
        ("buy", entry.client_order_id),
        ("sell", tp.client_order_id),
    ]
    # The stop is still armed until cancelled by our id.
    cancelled = await adapter.cancel(symbol="BTC", client_order_id=sl.client_order_id)
    assert cancelled is not None and cancelled.status == "canceled"


async def test_a_trigger_that_would_fire_at_once_is_refused(adapter: BinanceFuturesAdapter) -> None:
    await adapter.submit(market("buy", "0.01"))
    with pytest.raises(VenueError) as refused:
        await adapter.submit(
            market("sell", "0.01", reduce_only=True, trigger=Trigger("sl", D("61000")))
        )
    assert refused.value.code == "VENUE_WOULD_TRIGGER"


async def test_the_old_order_path_refuses_conditional_types(venue: FakeBinanceFutures) -> None:
    signed = sign(
        SECRET,
        body=[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "STOP_MARKET"),
            ("quantity", "0.01"),
            ("stopPrice", "58000"),
        ],
        timestamp_ms=venue.now_ms,
    )
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{venue.base_url}/fapi/v1/order",
            content=signed.body.encode(),
            headers={"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 400
    assert response.json()["code"] == -4120


async def test_cancel_by_client_id(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    order = limit("sell", "0.01", "61000")
    await adapter.submit(order)
    state = await adapter.cancel(symbol="BTC", client_order_id=order.client_order_id)
    assert state is not None and state.status == "canceled"
    assert (
        venue.requests_to("/fapi/v1/order", "DELETE")[-1].params["origClientOrderId"]
        == order.client_order_id
    )
    # Cancelling again reports the order's final state; an id never sent reports None.
    again = await adapter.cancel(symbol="BTC", client_order_id=order.client_order_id)
    assert again is not None and again.status == "canceled"
    assert await adapter.cancel(symbol="BTC", client_order_id=cid()) is None


async def test_cancel_all_covers_plain_and_algo_orders(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    await adapter.submit(market("buy", "0.01"))
    await adapter.submit(limit("buy", "0.01", "59000"))
    await adapter.submit(limit("sell", "0.1", "3100", symbol="ETH"))
    await adapter.submit(
        market("sell", "0.01", reduce_only=True, trigger=Trigger("sl", D("58000")))
    )
    assert len(await adapter.open_orders()) == 3
    assert await adapter.cancel_all(symbols=["BTC"]) == 2
    assert [o.symbol for o in await adapter.open_orders()] == ["ETH"]
    assert await adapter.cancel_all() == 1
    assert await adapter.open_orders() == []
    assert venue.account(KEY).open_algos() == []


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (market("buy", "0.001"), "VENUE_MIN_NOTIONAL"),  # 60 USDT < 100
        (market("sell", "0.01", reduce_only=True), "VENUE_REDUCE_ONLY"),  # no position
        (limit("buy", "0.01", "59000.05"), "VENUE_PRECISION"),  # tick 0.1
        (market("buy", "0.0105"), "VENUE_PRECISION"),  # step 0.001
        (market("buy", "5"), "VENUE_INSUFFICIENT_MARGIN"),  # 300k notional at 20x on 10k
    ],
)
async def test_refusals_map_to_our_codes(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures, order: VenueOrder, code: str
) -> None:
    with pytest.raises(VenueError) as refused:
        await adapter.submit(order)
    assert refused.value.code == code
    assert venue.account(KEY).orders_with_client_id(order.client_order_id) == []


@pytest.mark.parametrize("taken", [True, False])
async def test_503_unknown_outcome_is_resolved_by_asking_never_by_resending(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures, taken: bool
) -> None:
    order = market("buy", "0.01")
    venue.fail_next(Fault("503", taken=taken))
    with pytest.raises(UnknownOutcome):
        await adapter.submit(order)
    assert len(venue.requests_to("/fapi/v1/order", "POST")) == 1
    state = await adapter.order_status(symbol="BTC", client_order_id=order.client_order_id)
    held = venue.account(KEY).orders_with_client_id(order.client_order_id)
    if taken:
        assert state is not None and state.status == "filled"
        assert len(held) == 1
    else:
        assert state is None
        assert held == []
    assert len(venue.requests_to("/fapi/v1/order", "POST")) == 1


@pytest.mark.parametrize("kind", ["hang", "drop"])
async def test_no_answer_after_sending_is_an_unknown_outcome(
    make_adapter: AdapterFactory, venue: FakeBinanceFutures, kind: str
) -> None:
    adapter = make_adapter(timeout=0.5)
    order = limit("buy", "0.01", "59000")
    venue.fail_next(Fault(kind))
    with pytest.raises(UnknownOutcome):
        await adapter.submit(order)
    state = await adapter.order_status(symbol="BTC", client_order_id=order.client_order_id)
    assert state is not None and state.status == "open"
    assert len(venue.account(KEY).orders_with_client_id(order.client_order_id)) == 1
    assert len(venue.requests_to("/fapi/v1/order", "POST")) == 1


async def test_an_unreachable_venue_is_a_definite_failure(venue: FakeBinanceFutures) -> None:
    async with fake_port_closed() as url:
        adapter = connect(
            BinanceCredentials("demo", KEY, SECRET), base_url=url, clock=venue.client_clock
        )
        adapter._rest.clock.adopt(venue.now_ms, sent_ms=venue.now_ms, received_ms=venue.now_ms)
        with pytest.raises(VenueError) as failed:
            await adapter.submit(market("buy", "0.01"))
        assert failed.value.code == "VENUE_UNAVAILABLE"
        await adapter.aclose()


async def test_partial_fill(adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures) -> None:
    venue.fail_next(Fault("partial", fraction=D("0.4")))
    state = await adapter.submit(limit("buy", "0.01", "60100"))
    assert (state.status, state.filled_quantity) == ("partially_filled", D("0.004"))
    venue.fail_next(Fault("partial", fraction=D("0.5")))
    market_state = await adapter.submit(market("buy", "0.01"))
    assert (market_state.status, market_state.filled_quantity, market_state.reason) == (
        "canceled",
        D("0.005"),
        "expired",
    )


async def test_a_stale_timestamp_on_an_order_is_re_signed_once(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    await adapter.account()  # the clock offset is measured here
    venue.client_skew_ms = -20_000  # our clock falls 20 s behind the venue's
    state = await adapter.submit(market("buy", "0.01"))
    assert state.status == "filled"
    posts = venue.requests_to("/fapi/v1/order", "POST")
    assert len(posts) == 2  # refused with -1021 (nothing held), then accepted
    assert int(posts[1].params["timestamp"]) > int(posts[0].params["timestamp"]) + 10_000
    assert len(venue.account(KEY).orders_with_client_id(state.client_order_id or "")) == 1


async def test_a_wrong_secret_is_an_auth_error(make_adapter: AdapterFactory) -> None:
    adapter = make_adapter(secret="not-the-secret")
    with pytest.raises(BinanceError) as refused:
        await adapter.submit(market("buy", "0.01"))
    assert (refused.value.code, refused.value.venue_code) == ("VENUE_AUTH", -1022)


async def test_the_fake_checks_a_mixed_query_and_body(venue: FakeBinanceFutures) -> None:
    client_id = cid()
    signed = sign(
        SECRET,
        query=[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET")],
        body=[("quantity", "0.01"), ("newClientOrderId", client_id)],
        timestamp_ms=venue.now_ms,
    )
    headers = {"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient() as http:
        ok = await http.post(
            f"{venue.base_url}/fapi/v1/order?{signed.query}",
            content=signed.body.encode(),
            headers=headers,
        )
        # The same bytes with an "&" at the join are a different message: -1022.
        bad = await http.post(
            f"{venue.base_url}/fapi/v1/order?{signed.query}&",
            content=signed.body.encode(),
            headers=headers,
        )
    assert ok.status_code == 200 and ok.json()["clientOrderId"] == client_id
    assert bad.json()["code"] == -1022


@asynccontextmanager
async def fake_port_closed() -> AsyncIterator[str]:
    """A loopback address where nothing listens (the port is held but never accepts)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


async def test_an_unknown_outcome_of_a_conditional_order_is_found_by_its_id(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    await adapter.submit(market("buy", "0.01"))
    stop = market("sell", "0.01", reduce_only=True, trigger=Trigger("sl", D("58000")))
    venue.fail_next(Fault("503", path="/fapi/v1/algoOrder", taken=True))
    with pytest.raises(UnknownOutcome):
        await adapter.submit(stop)
    state = await adapter.order_status(symbol="BTC", client_order_id=stop.client_order_id)
    assert state is not None and (state.status, state.trigger) == ("open", stop.trigger)
    assert len(venue.account(KEY).orders_with_client_id(stop.client_order_id)) == 1
    assert len(venue.requests_to("/fapi/v1/algoOrder", "POST")) == 1


async def test_a_cancel_whose_answer_was_lost_is_retried_and_reports_the_order(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    order = limit("buy", "0.01", "59000")
    await adapter.submit(order)
    # The venue cancels, then answers 503: cancelling again is harmless (-2011), and the
    # adapter reports the order's state from asking for it.
    venue.fail_next(Fault("503", path="/fapi/v1/order", method="DELETE", taken=True))
    state = await adapter.cancel(symbol="BTC", client_order_id=order.client_order_id)
    assert state is not None and state.status == "canceled"
    assert len(venue.requests_to("/fapi/v1/order", "DELETE")) == 2


@pytest.mark.parametrize(("code", "unknown"), [(-1007, True), (-1001, True), (-1008, False)])
async def test_backend_codes_on_an_order(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures, code: int, unknown: bool
) -> None:
    venue.fail_next(Fault("status", status=408, body={"code": code, "msg": "backend"}))
    if unknown:
        with pytest.raises(UnknownOutcome):
            await adapter.submit(market("buy", "0.01"))
    else:
        with pytest.raises(VenueError) as refused:
            await adapter.submit(market("buy", "0.01"))
        assert refused.value.code == "VENUE_UNAVAILABLE"
    assert len(venue.requests_to("/fapi/v1/order", "POST")) == 1
