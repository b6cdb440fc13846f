"""A live trader's amounts in the trader list, the trader object and its overview are its
venue's (the loopback Hyperliquid fake's clearinghouse), not the paper ledger's: the
paper ledger still holds the trader's paper capital, and it must not show."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hyperoru.settings import Settings
from tests.fakes.hyperliquid_venue import fake_hyperliquid
from tests.live.test_venues_end_to_end import go_live, stack
from tests.live.wallets import hyperliquid_wallet

D = Decimal
VENUE_USDC = D(2500)  # the paper trader's capital is another amount (its default)


def _amount(value: object) -> Decimal:
    return D(str(value))


async def test_a_live_traders_amounts_are_its_venues(
    make_settings: Callable[..., Settings],
) -> None:
    async with fake_hyperliquid() as venue:
        master, credentials = hyperliquid_wallet(venue, VENUE_USDC)
        venue.set_mid("BTC", "100000")
        settings = make_settings(live_trading="enabled", hyperliquid_base_url=venue.base_url)
        async with stack(settings) as s:
            trader, _ = await go_live(s, credentials)
            paper_capital = _amount(trader.account["initial_capital"])
            assert paper_capital != VENUE_USDC

            sent = await trader.trade(side="buy", quantity="0.01")
            assert sent["execution_status"] == "filled", sent
            venue.set_mid("BTC", "101000")  # the venue's unrealised PnL: +10
            # The live monitor's refresh, by hand: the venue's fills and reading.
            live = s.app.state.services.trading.live
            await live.sync(trader.id, user_id=trader.account["user_id"])

            held = venue.accounts[master.lower()]
            unrealized = D("0.01") * (D(101000) - D(100000))
            equity = held.usdc + unrealized  # the fee came off the venue's USDC
            assert held.usdc < VENUE_USDC
            (listed,) = await trader.get("/api/account/list")
            shown = await trader.get(f"/api/account/{trader.id}")
            overview = await trader.get(f"/api/account/{trader.id}/overview")
            for account in (listed, shown, overview["account"]):
                assert _amount(account["equity"]) == equity, account
                assert _amount(account["current_cash"]) == held.usdc, account
                assert _amount(account["frozen_cash"]) == 0, account
            assert _amount(overview["equity"]) == _amount(overview["total_assets"]) == equity
            assert _amount(overview["positions_value"]) == D("0.01") * D(101000)
            assert overview["total_trades"] == 1

            # Flattened at the venue: the amounts follow the venue's next reading.
            await s.api.client.post(
                f"/api/account/{trader.id}/kill", json={"flatten": True}, headers=trader.headers
            )
            overview = await trader.get(f"/api/account/{trader.id}/overview")
            assert _amount(overview["positions_value"]) == 0
            assert _amount(overview["equity"]) == held.usdc
            assert overview["total_trades"] == 2
