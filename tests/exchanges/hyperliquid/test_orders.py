"""Placing, cancelling and reading orders through the adapter, against the fake venue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hyperliquid.utils.signing import recover_agent_or_user_from_l1_action

from hyperoru.exchanges.hyperliquid.client import HyperliquidAdapter
from hyperoru.exchanges.venue import Trigger, VenueError, VenueOrder
from tests.exchanges.hyperliquid.conftest import AGENT, MASTER, new_id
from tests.fakes.hyperliquid_venue import FakeHyperliquid


def market(side: str = "buy", size: str = "0.01", **fields: object) -> VenueOrder:
    return VenueOrder(
        client_order_id=new_id(),
        symbol="ETH",
        side=side,  # type: ignore[arg-type]
        order_type="market",
        quantity=Decimal(size),
        price=None,
        **fields,  # type: ignore[arg-type]
    )


def limit(price: str, side: str = "buy", size: str = "0.01", **fields: object) -> VenueOrder:
    return VenueOrder(
        client_order_id=new_id(),
        symbol="ETH",
        side=side,  # type: ignore[arg-type]
        order_type="limit",
        quantity=Decimal(size),
        price=Decimal(price),
        **fields,  # type: ignore[arg-type]
    )


async def test_a_market_buy_is_a_signed_ioc_limit_that_fills_at_the_mid(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    order = market()
    state = await adapter.submit(order)
    assert (state.status, state.filled_quantity, state.average_price) == (
        "filled",
        Decimal("0.01"),
        Decimal(2000),
    )
    assert state.client_order_id == order.client_order_id and state.venue_order_id
    (request,) = venue.exchange_requests
    wire = request["action"]["orders"][0]
    # Our id is the cloid; the worst price is the mid plus 5 %, as an immediate order.
    assert wire == {
        "a": 1,
        "b": True,
        "p": "2100",
        "s": "0.01",
        "r": False,
        "t": {"limit": {"tif": "Ioc"}},
        "c": "0x" + order.client_order_id,
    }
    signer = recover_agent_or_user_from_l1_action(
        request["action"], request["signature"], None, request["nonce"], None, False
    )
    assert signer == AGENT  # signed by the API wallet, for testnet
    assert venue.position(MASTER, "ETH") == Decimal("0.01")


async def test_a_limit_rests_until_the_price_crosses_it(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    order = limit("1950")
    placed = await adapter.submit(order)
    assert placed.status == "open" and placed.filled_quantity == 0
    (listed,) = await adapter.open_orders()
    assert listed.client_order_id == order.client_order_id
    assert (listed.price, listed.quantity, listed.side) == (Decimal(1950), Decimal("0.01"), "buy")
    venue.set_mid("ETH", "1940")
    done = await adapter.order_status(symbol="ETH", client_order_id=order.client_order_id)
    assert done is not None and done.status == "filled"
    assert done.filled_quantity == Decimal("0.01")
    assert await adapter.open_orders() == []
    (fill,) = await adapter.fills(since=venue.clock())
    assert fill.client_order_id == order.client_order_id
    assert (fill.price, fill.liquidity, fill.fee) == (Decimal(1950), "maker", Decimal("0.002925"))


async def test_take_profit_and_stop_loss_are_trigger_orders(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.submit(market(size="0.02"))
    stop = market("sell", "0.02", reduce_only=True, trigger=Trigger("sl", Decimal(1900)))
    take = market("sell", "0.02", reduce_only=True, trigger=Trigger("tp", Decimal(2200)))
    assert (await adapter.submit(stop)).status == "open"
    assert (await adapter.submit(take)).status == "open"
    stop_wire = venue.exchange_requests[1]["action"]["orders"][0]
    assert stop_wire["t"] == {"trigger": {"isMarket": True, "triggerPx": "1900", "tpsl": "sl"}}
    assert stop_wire["p"] == "1805" and stop_wire["r"] is True  # the fired order's cap
    triggers = {o.client_order_id: o.trigger for o in await adapter.open_orders()}
    assert triggers == {stop.client_order_id: stop.trigger, take.client_order_id: take.trigger}

    venue.set_mid("ETH", "1950")  # between the two: nothing fires
    assert venue.position(MASTER, "ETH") == Decimal("0.02")
    venue.set_mid("ETH", "1890")
    assert venue.position(MASTER, "ETH") == 0
    fired = await adapter.order_status(symbol="ETH", client_order_id=stop.client_order_id)
    assert fired is not None and fired.status == "filled" and fired.trigger == stop.trigger
    left = await adapter.cancel(symbol="ETH", client_order_id=take.client_order_id)
    assert left is not None and left.status == "canceled"


async def test_cancel_by_client_order_id(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    order = limit("1800")
    await adapter.submit(order)
    state = await adapter.cancel(symbol="ETH", client_order_id=order.client_order_id)
    assert state is not None and state.status == "canceled"
    assert venue.exchange_requests[-1]["action"] == {
        "type": "cancelByCloid",
        "cancels": [{"asset": 1, "cloid": "0x" + order.client_order_id}],
    }
    # Cancelling again: the venue refuses, the order is gone, and that is the answer.
    again = await adapter.cancel(symbol="ETH", client_order_id=order.client_order_id)
    assert again is not None and again.status == "canceled"
    assert await adapter.cancel(symbol="ETH", client_order_id=new_id()) is None


async def test_cancel_all_by_symbol_and_everything(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.submit(limit("1800"))
    await adapter.submit(limit("1700"))
    btc = VenueOrder(new_id(), "BTC", "buy", "limit", Decimal("0.001"), Decimal(50000))
    await adapter.submit(btc)
    assert await adapter.cancel_all(symbols=["ETH"]) == 2
    assert [o.symbol for o in await adapter.open_orders()] == ["BTC"]
    assert await adapter.cancel_all() == 1
    assert await adapter.cancel_all() == 0
    assert all(not o.is_open for o in venue.orders_of(MASTER))


async def test_the_venues_refusals_come_back_as_our_codes(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    cases = [
        (market("sell", reduce_only=True), "VENUE_REDUCE_ONLY"),
        (market(size="100"), "VENUE_INSUFFICIENT_MARGIN"),
        (limit("2100", time_in_force="alo"), "VENUE_WOULD_TRIGGER"),
        (limit("1900", time_in_force="ioc"), "VENUE_NO_LIQUIDITY"),
    ]
    for order, code in cases:
        with pytest.raises(VenueError) as refused:
            await adapter.submit(order)
        assert refused.value.code == code, order
    venue.faults.reject_next = "Open interest is at cap. asset=1"
    with pytest.raises(VenueError) as capped:
        await adapter.submit(market())
    assert capped.value.code == "VENUE_REJECTED" and "Open interest" in capped.value.message
    # A refused order is still an order the venue knows, and says so by our id.
    order = market("sell", reduce_only=True)
    with pytest.raises(VenueError):
        await adapter.submit(order)
    refused_state = await adapter.order_status(symbol="ETH", client_order_id=order.client_order_id)
    assert refused_state is not None and refused_state.status == "rejected"
    assert venue.position(MASTER, "ETH") == 0


async def test_shapes_the_venue_would_refuse_are_refused_before_signing(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    for order, code in [
        (limit("1950.55"), "VENUE_PRECISION"),  # ETH prices keep 2 decimals, 5 figures
        (limit("1950", size="0.00001"), "VENUE_PRECISION"),
        (limit("1950", size="0.001"), "VENUE_MIN_NOTIONAL"),
    ]:
        with pytest.raises(VenueError) as refused:
            await adapter.submit(order)
        assert refused.value.code == code
    unknown = VenueOrder(new_id(), "NOPE", "buy", "market", Decimal(1), None)
    with pytest.raises(VenueError):
        await adapter.submit(unknown)
    assert venue.exchange_requests == []


async def test_partial_fills(venue: FakeHyperliquid, adapter: HyperliquidAdapter) -> None:
    venue.faults.partial_fill = Decimal("0.5")
    ioc = await adapter.submit(market(size="0.02"))
    # The rest of an immediate order is cancelled at once: done, with what filled.
    assert (ioc.status, ioc.filled_quantity) == ("canceled", Decimal("0.01"))
    gtc = await adapter.submit(limit("2010", size="0.02"))
    assert gtc.status == "open"
    state = await adapter.order_status(symbol="ETH", client_order_id=gtc.client_order_id)
    assert state is not None
    assert (state.status, state.filled_quantity) == ("partially_filled", Decimal("0.01"))
    assert venue.position(MASTER, "ETH") == Decimal("0.02")


async def test_whole_request_failures_and_rate_limits(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.rules()
    venue.faults.request_error = "L1 error: something the venue did not like"
    with pytest.raises(VenueError) as failed:
        await adapter.submit(market())
    assert failed.value.code == "VENUE_REJECTED" and "L1 error" in failed.value.message
    venue.faults.rate_limit_retry_after = 7
    with pytest.raises(VenueError) as limited:
        await adapter.submit(market())
    assert limited.value.code == "VENUE_RATE_LIMITED" and limited.value.retry_after == 7
    assert venue.orders_of(MASTER) == []


async def test_a_bare_string_status_is_looked_up_by_our_id(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    venue.faults.bare_status = "waitingForFill"
    order = limit("1900")
    state = await adapter.submit(order)
    (held,) = venue.orders_of(MASTER)
    assert (state.status, state.venue_order_id) == ("open", str(held.oid))
