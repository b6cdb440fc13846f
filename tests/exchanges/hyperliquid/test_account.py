"""The account, history, leverage, credential checks and the dead-man switch."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from hyperoru.exchanges.hyperliquid.client import HyperliquidAdapter
from hyperoru.exchanges.venue import VenueError
from tests.exchanges.hyperliquid.conftest import (
    AGENT,
    MASTER,
    MASTER_KEY,
    OTHER,
    OTHER_KEY,
    open_adapter,
)
from tests.exchanges.hyperliquid.test_orders import limit, market
from tests.fakes.hyperliquid_venue import FakeHyperliquid


async def test_account_positions_and_leverage(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.set_leverage(symbol="ETH", leverage=5, isolated=True)
    assert venue.exchange_requests[-1]["action"] == {
        "type": "updateLeverage",
        "asset": 1,
        "isCross": False,
        "leverage": 5,
    }
    await adapter.submit(market(size="0.5"))
    venue.set_mid("ETH", "2100")
    account = await adapter.account()
    (eth,) = account.positions
    assert (eth.symbol, eth.size, eth.entry_price, eth.leverage, eth.isolated) == (
        "ETH",
        Decimal("0.5"),
        Decimal(2000),
        5,
        True,
    )
    assert eth.unrealized_pnl == Decimal(50) and eth.mark_price == Decimal(2100)
    assert eth.margin_used == Decimal(210)
    fee = Decimal("0.45")  # 0.5 × 2000 × 0.045 %
    assert account.equity == Decimal(10_000) - fee + 50
    assert account.available == account.equity - 210
    assert account.taken_at == venue.clock()
    with pytest.raises(VenueError) as too_high:
        await adapter.set_leverage(symbol="ETH", leverage=26, isolated=False)
    assert too_high.value.code == "VENUE_REJECTED"


async def test_fills_are_paged_by_time_and_deduplicated(venue: FakeHyperliquid) -> None:
    venue.fills_page_size = 3
    adapter = open_adapter(venue, fills_page_size=3)
    try:
        start = venue.clock()
        ids = []
        for step in range(7):
            order = market("buy" if step % 2 == 0 else "sell")
            ids.append(order.client_order_id)
            await adapter.submit(order)
            if step != 2:  # fills 3 and 4 share a millisecond, across a page boundary
                venue.advance_clock(1)
        fills = await adapter.fills(since=start)
        assert [fill.venue_fill_id for fill in fills] == ["1", "2", "3", "4", "5", "6", "7"]
        assert [fill.client_order_id for fill in fills] == ids
        pages = [r for r in venue.info_requests if r["type"] == "userFillsByTime"]
        assert len(pages) >= 3
        assert fills[1].side == "sell" and fills[1].realized_pnl == 0  # bought and sold at 2000
        later = await adapter.fills(since=venue.clock() - timedelta(seconds=1))
        assert [fill.venue_fill_id for fill in later] == ["7"]
    finally:
        await adapter.aclose()


async def test_funding_payments(venue: FakeHyperliquid, adapter: HyperliquidAdapter) -> None:
    await adapter.submit(market("sell", "0.5"))
    start = venue.clock()
    venue.advance_clock(3600)
    venue.add_funding(MASTER, "ETH", Decimal("0.0000125"), Decimal("0.0125"))
    venue.advance_clock(3600)
    venue.add_funding(MASTER, "ETH", Decimal("-0.00001"), Decimal("-0.01"))
    payments = await adapter.funding(since=start)
    assert [(p.payment, p.position_size) for p in payments] == [
        (Decimal("0.0125"), Decimal("-0.5")),
        (Decimal("-0.01"), Decimal("-0.5")),
    ]
    assert payments[0].time == start + timedelta(hours=1)


async def test_validate_an_approved_named_agent(adapter: HyperliquidAdapter) -> None:
    check = await adapter.validate()
    assert check.problems == () and check.can_withdraw is False


async def test_validate_an_approved_unnamed_agent(venue: FakeHyperliquid) -> None:
    venue.approve_agent(MASTER, OTHER)  # not in extraAgents: found through userRole
    adapter = open_adapter(venue, key=OTHER_KEY)
    try:
        assert (await adapter.validate()).problems == ()
    finally:
        await adapter.aclose()


async def test_validate_an_unapproved_or_expired_agent(venue: FakeHyperliquid) -> None:
    adapter = open_adapter(venue, key=OTHER_KEY)
    try:
        (problem,) = (await adapter.validate()).problems
        assert "not approved" in problem and OTHER in problem
        expired = int(venue.clock().timestamp() * 1000) - 1
        venue.approve_agent(MASTER, OTHER, name="old", valid_until=expired)
        (problem,) = (await adapter.validate()).problems
        assert "not approved" in problem
    finally:
        await adapter.aclose()


async def test_validate_refuses_credentials_for_the_other_network(venue: FakeHyperliquid) -> None:
    # The agent is approved here, but its requests are signed for mainnet: the testnet
    # venue recovers another address and does not know it.
    adapter = open_adapter(venue, environment="mainnet")
    try:
        (problem,) = (await adapter.validate()).problems
        assert "does not accept this API wallet's signature" in problem and "mainnet" in problem
    finally:
        await adapter.aclose()
    assert venue.orders_of(MASTER) == []


async def test_validate_refuses_the_master_key(venue: FakeHyperliquid) -> None:
    adapter = open_adapter(venue, key=MASTER_KEY)
    try:
        check = await adapter.validate()
        assert check.can_withdraw is True
        assert "can withdraw" in check.problems[0]
    finally:
        await adapter.aclose()
    assert venue.exchange_requests == []


async def test_the_dead_man_switch_fires_when_not_re_armed(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    order = limit("1900")
    await adapter.submit(order)
    await adapter.arm_dead_man(seconds=10)
    venue.advance_clock(6)
    await adapter.arm_dead_man(seconds=10)  # re-armed in time: fires 10 s from now
    venue.advance_clock(6)
    assert (await adapter.open_orders())[0].client_order_id == order.client_order_id
    venue.advance_clock(5)  # not re-armed
    assert await adapter.open_orders() == []
    state = await adapter.order_status(symbol="ETH", client_order_id=order.client_order_id)
    assert state is not None and state.status == "canceled" and state.reason == "scheduledCancel"
    assert venue.exchange_requests[-1]["action"]["type"] == "scheduleCancel"


async def test_a_disarmed_dead_man_switch_never_fires(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.submit(limit("1900"))
    await adapter.arm_dead_man(seconds=10)
    await adapter.disarm_dead_man()
    assert venue.exchange_requests[-1]["action"] == {"type": "scheduleCancel"}
    venue.advance_clock(3600)
    assert len(await adapter.open_orders()) == 1
    with pytest.raises(ValueError):
        await adapter.arm_dead_man(seconds=4)


async def test_the_agent_address_is_what_the_venue_sees(adapter: HyperliquidAdapter) -> None:
    assert adapter.agent_address == AGENT


async def test_validate_reports_a_refused_signed_check_and_raises_when_unsure(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    venue.faults.request_error = "L1 error: account is frozen"
    (problem,) = (await adapter.validate()).problems
    assert problem == "the venue refused a signed check: L1 error: account is frozen"
    # A refused nonce says nothing about the credentials: no verdict, an error.
    venue.skew_ms = 3 * 24 * 3600 * 1000
    with pytest.raises(VenueError) as unsure:
        await adapter.validate()
    assert unsure.value.code == "VENUE_TIMESTAMP"
