"""A live order's take-profit and stop-loss are one pair at each loopback fake venue: when
one fires and fills, the next ingest cancels the other at the venue, and both orders read
as the venue has them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hyperoru.settings import Settings
from tests.fakes.binance_venue import fake_binance_futures
from tests.fakes.hyperliquid_venue import fake_hyperliquid
from tests.live.test_venues_end_to_end import Stack, go_live, stack
from tests.live.wallets import binance_key, hyperliquid_wallet
from tests.trading.helpers import Trader

D = Decimal


def cancelled_cloids(requests: list[dict[str, Any]]) -> list[str]:
    return [
        c["cloid"]
        for r in requests
        if r["action"]["type"] == "cancelByCloid"
        for c in r["action"]["cancels"]
    ]


async def _pair_after_a_fire(
    s: Stack, trader: Trader, entry_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ingest the live monitor runs, by hand and as it does, under the trader's lock
    (the app's own monitor may tick meanwhile); then (take-profit, stop-loss)."""
    live = s.app.state.services.trading.live
    async with live.hold(trader.id):
        await live.sync(trader.id, user_id=trader.account["user_id"])
    orders = {o["client_order_id"]: o for o in await trader.get(f"/api/orders/account/{trader.id}")}
    return orders[f"tp-of-{entry_id}"], orders[f"sl-of-{entry_id}"]


async def test_a_filled_take_profit_cancels_the_stop_loss_on_hyperliquid(
    make_settings: Callable[..., Settings],
) -> None:
    async with fake_hyperliquid() as venue:
        master, credentials = hyperliquid_wallet(venue)
        venue.set_mid("BTC", "100000")
        settings = make_settings(live_trading="enabled", hyperliquid_base_url=venue.base_url)
        async with stack(settings) as s:
            trader, _ = await go_live(s, credentials)
            sent = await trader.trade(
                side="buy", quantity="0.002", take_profit_price=110000, stop_loss_price=90000
            )
            assert sent["execution_status"] == "filled", sent
            sent_until = len(venue.exchange_requests)
            _, tp, sl = venue.orders_of(master)
            assert (tp.trigger["tpsl"], sl.trigger["tpsl"]) == ("tp", "sl")
            assert tp.is_open and sl.is_open

            venue.set_mid("BTC", "111000")  # the take-profit fires and fills
            assert tp.status == "filled" and sl.is_open
            ours_tp, ours_sl = await _pair_after_a_fire(s, trader, sent["order_id"])
            assert sl.status == "canceled"  # cancelled at the venue by us
            assert (ours_tp["status"], ours_sl["status"]) == ("filled", "cancelled")
            assert venue.position(master, "BTC") == 0
            cancels = cancelled_cloids(venue.exchange_requests[sent_until:])
            assert cancels == [sl.cloid]
            # Nothing left to do: a later ingest cancels nothing more.
            await _pair_after_a_fire(s, trader, sent["order_id"])
            assert cancelled_cloids(venue.exchange_requests[sent_until:]) == cancels


async def test_a_filled_stop_loss_cancels_the_take_profit_on_binance(
    make_settings: Callable[..., Settings],
) -> None:
    async with fake_binance_futures(wall_clock=True) as venue:
        key, credentials = binance_key(venue)
        venue.set_mark("BTC", "100000")
        settings = make_settings(live_trading="enabled", binance_futures_base_url=venue.base_url)
        async with stack(settings) as s:
            trader, _ = await go_live(s, credentials)
            sent = await trader.trade(
                side="sell", quantity="0.002", take_profit_price=90000, stop_loss_price=110000
            )
            assert sent["execution_status"] == "filled", sent
            algos = {a.client_id: a for a in venue.account(key).algos.values()}
            assert [a.status for a in algos.values()] == ["NEW", "NEW"]

            venue.set_mark("BTC", "111000")  # the short's stop-loss fires and fills
            ours_tp, ours_sl = await _pair_after_a_fire(s, trader, sent["order_id"])
            statuses = {a.type: a.status for a in venue.account(key).algos.values()}
            assert statuses == {"STOP_MARKET": "FINISHED", "TAKE_PROFIT_MARKET": "CANCELED"}
            assert (ours_tp["status"], ours_sl["status"]) == ("cancelled", "filled")
            assert venue.account(key).positions["BTCUSDT"].amt == 0
            # The stop's fill is the stop order's in the ledger (the venue reports it under
            # an order of its own).
            trades = await trader.get(f"/api/account/{trader.id}/trades")
            closing = [t for t in trades if t["side"] == "buy"]
            assert [t["order_id"] for t in closing] == [ours_sl["id"]]
