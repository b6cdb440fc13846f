"""The venue-state routes: ``/api/binance/accounts/{id}/positions`` and
``/api/binance/account/{id}/state`` answer a Binance trader's venue reading as the
Hyperliquid paths answer a Hyperliquid trader's; a live trader asked for under the other
venue's path gets 409 EXCHANGE_MISMATCH (a paper trader answers the same under both:
tests/trading/test_positions_api.py)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hyperoru.settings import Settings
from tests.fakes.binance_venue import fake_binance_futures
from tests.fakes.hyperliquid_venue import fake_hyperliquid
from tests.helpers import Api, assert_error
from tests.live.test_venues_end_to_end import go_live, stack
from tests.live.wallets import binance_key, hyperliquid_wallet

D = Decimal


def _amount(value: object) -> Decimal:
    return D(str(value))


async def _mismatch(api: Api, path: str, headers: dict[str, str]) -> None:
    body = assert_error(await api.client.get(path, headers=headers), 409, "EXCHANGE_MISMATCH")
    assert "trades live on" in body["message"]


async def test_a_binance_traders_state_and_positions_come_from_its_venue(
    make_settings: Callable[..., Settings],
) -> None:
    async with fake_binance_futures(wall_clock=True) as venue:
        key, credentials = binance_key(venue)
        venue.set_mark("BTC", "100000")
        settings = make_settings(live_trading="enabled", binance_futures_base_url=venue.base_url)
        async with stack(settings) as s:
            trader, _ = await go_live(s, credentials)
            sent = await trader.trade(side="sell", quantity="0.002")
            assert sent["execution_status"] == "filled", sent
            venue.set_mark("BTC", "99000")  # the short gains 2
            live = s.app.state.services.trading.live
            await live.sync(trader.id, user_id=trader.account["user_id"])

            page = await trader.get(f"/api/binance/accounts/{trader.id}/positions")
            (position,) = page["positions"]
            assert (position["symbol"], position["side"], position["size"]) == (
                "BTC",
                "short",
                0.002,
            )
            assert page["total_count"] == 1
            assert _amount(page["total_unrealized_pnl"]) == D(2)

            state = await trader.get(f"/api/binance/account/{trader.id}/state")
            wallet = venue.account(key).balance  # the fee came off it
            assert state["environment"] == "testnet"
            assert state["account_id"] == trader.id
            assert _amount(state["unrealized_pnl"]) == D(2)
            assert _amount(state["balance_total"]) == wallet + D(2)

            for path in (
                f"/api/hyperliquid/accounts/{trader.id}/positions",
                f"/api/hyperliquid/account/{trader.id}/state",
            ):
                await _mismatch(s.api, path, trader.headers)

            # Another user's trader is refused under the new paths too.
            _, stranger = await s.api.user()
            other = await s.api.client.get(
                f"/api/binance/account/{trader.id}/state", headers=s.api.bearer(stranger)
            )
            assert_error(other, 403, "FORBIDDEN")


async def test_a_hyperliquid_trader_is_not_read_under_the_binance_paths(
    make_settings: Callable[..., Settings],
) -> None:
    async with fake_hyperliquid() as venue:
        _, credentials = hyperliquid_wallet(venue, D(1500))
        venue.set_mid("BTC", "100000")
        settings = make_settings(live_trading="enabled", hyperliquid_base_url=venue.base_url)
        async with stack(settings) as s:
            trader, _ = await go_live(s, credentials)
            state = await trader.get(f"/api/hyperliquid/account/{trader.id}/state")
            assert state["environment"] == "testnet"
            assert _amount(state["balance_total"]) == D(1500)
            for path in (
                f"/api/binance/accounts/{trader.id}/positions",
                f"/api/binance/account/{trader.id}/state",
            ):
                await _mismatch(s.api, path, trader.headers)
