"""A trader goes live end to end against each loopback fake venue, through the real stack:
two-factor enrolment, credentials checked by the venue and sealed, the live switch, a
signed order, its fill at the venue, the ledger, the answers and the kill switch.

Nothing here is a double: the app's own venue connector reaches the fakes because the
settings point the venues' base URLs at them (as an operator's would point at a proxy).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_account import Account as EthAccount
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.auth.totp_helpers import Clock, drive_clock, enrolled_user
from tests.conftest import asgi_client, running
from tests.fakes.binance_venue import fake_binance_futures
from tests.fakes.hyperliquid_venue import fake_hyperliquid
from tests.helpers import Api, assert_error
from tests.live.wallets import binance_key, hyperliquid_wallet
from tests.trading.helpers import Trader

D = Decimal


@dataclass
class Stack:
    app: FastAPI
    api: Api
    clock: Clock


@asynccontextmanager
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    app = create_app(settings)
    async with running(app), asgi_client(app) as http:
        yield Stack(app, Api(http), drive_clock(app))


async def go_live(
    s: Stack, credentials: dict[str, Any], **fields: Any
) -> tuple[Trader, dict[str, Any]]:
    """A new user's new trader (with ``fields``) connected to the venue and switched to
    live, each step with a fresh code."""
    user = await enrolled_user(s.api, s.clock)
    account = await create_trader(s.api, user.token, **fields)
    trader = Trader(s.api, user.token, account, {"username": user.username})
    headers = trader.headers
    connected = await s.api.client.put(
        f"/api/account/{trader.id}/exchange",
        json={**credentials, "totp_code": s.clock.code(user.secret)},
        headers=headers,
    )
    assert connected.status_code == 200, connected.text
    s.clock.advance()
    live = await s.api.client.put(
        f"/api/account/{trader.id}",
        json={"execution_mode": "live", "totp_code": s.clock.code(user.secret)},
        headers=headers,
    )
    assert live.status_code == 200, live.text
    assert live.json()["execution_mode"] == "live"
    s.clock.advance()
    return trader, connected.json()


async def kill_and_flatten(s: Stack, trader: Trader) -> None:
    killed = await s.api.client.post(
        f"/api/account/{trader.id}/kill", json={"flatten": True}, headers=trader.headers
    )
    assert killed.status_code == 200, killed.text


async def test_a_trader_trades_live_on_hyperliquid(
    make_settings: Callable[..., Settings],
) -> None:
    async with fake_hyperliquid() as venue:
        master, credentials = hyperliquid_wallet(venue)
        venue.set_mid("BTC", "100000")
        settings = make_settings(live_trading="enabled", hyperliquid_base_url=venue.base_url)
        async with stack(settings) as s:
            trader, shown = await go_live(s, credentials)
            agent_key = credentials["agent_private_key"]
            assert agent_key.removeprefix("0x") not in str(shown)  # write-only

            sent = await trader.trade(side="buy", quantity="0.002")
            assert sent["execution_status"] == "filled", sent
            # Signed by the agent, for the master's account, carrying our id as the cloid.
            (order,) = venue.orders_of(master)
            assert order.is_buy and order.orig_sz == D("0.002") and order.cloid
            assert venue.position(master, "BTC") == D("0.002")

            (position,) = await trader.get(f"/api/account/{trader.id}/positions")
            assert (position["symbol"], position["size"]) == ("BTC", 0.002)
            (trade,) = await trader.get(f"/api/account/{trader.id}/trades")
            assert trade["quantity"] == 0.002 and trade["price"] == 100000

            await kill_and_flatten(s, trader)
            assert venue.position(master, "BTC") == 0  # flattened at the venue


async def test_a_trader_trades_live_on_binance(make_settings: Callable[..., Settings]) -> None:
    async with fake_binance_futures(wall_clock=True) as venue:
        key, credentials = binance_key(venue)
        venue.set_mark("BTC", "100000")
        settings = make_settings(live_trading="enabled", binance_futures_base_url=venue.base_url)
        async with stack(settings) as s:
            trader, shown = await go_live(s, credentials)
            assert credentials["api_secret"] not in str(shown) and key not in str(shown)

            sent = await trader.trade(side="sell", quantity="0.002")
            assert sent["execution_status"] == "filled", sent
            assert venue.account(key).positions["BTCUSDT"].amt == D("-0.002")
            (position,) = await trader.get(f"/api/account/{trader.id}/positions")
            assert (position["symbol"], position["side"]) == ("BTC", "short")
            (trade,) = await trader.get(f"/api/account/{trader.id}/trades")
            assert trade["quantity"] == 0.002 and trade["price"] == 100000

            await kill_and_flatten(s, trader)
            assert venue.account(key).positions["BTCUSDT"].amt == 0


async def test_live_needs_the_operator_flag_and_a_fresh_code(
    make_settings: Callable[..., Settings],
) -> None:
    agent = EthAccount.create()
    agent_key = "0x" + agent.key.hex().removeprefix("0x")
    master = "0x" + secrets.token_hex(20)
    async with fake_hyperliquid() as venue:
        venue.open_account(master)
        venue.approve_agent(master, agent.address)
        credentials = {
            "exchange": "hyperliquid",
            "master_address": master,
            "agent_private_key": agent_key,
        }
        settings = make_settings(hyperliquid_base_url=venue.base_url)  # flag off
        async with stack(settings) as s:
            user = await enrolled_user(s.api, s.clock)
            account = await create_trader(s.api, user.token)
            headers = s.api.bearer(user.token)
            used_at = s.clock.now
            code = s.clock.code(user.secret)
            connected = await s.api.client.put(
                f"/api/account/{account['id']}/exchange",
                json={**credentials, "totp_code": code},
                headers=headers,
            )
            assert connected.status_code == 200, connected.text
            # The code just used cannot be used again, and the flag is off anyway.
            refused = await s.api.client.put(
                f"/api/account/{account['id']}",
                json={"execution_mode": "live", "totp_code": code},
                headers=headers,
            )
            assert_error(refused, 403, "LIVE_TRADING_DISABLED")
        async with stack(settings.model_copy(update={"live_trading": "enabled"})) as s:
            s.clock.now = used_at  # the same step: only its use already spent it
            reused = await s.api.client.put(
                f"/api/account/{account['id']}",
                json={"execution_mode": "live", "totp_code": code},
                headers=s.api.bearer(user.token),
            )
            assert_error(reused, 403, "INVALID_TOTP")
            assert venue.orders_of(master) == []
