"""Issue 17's done-when, first clause, on each loopback fake venue: a trader whose strategy
is a prompt (a real OpenAI-compatible model on loopback) trades live end to end on a
real server. Its decision becomes a signed order at the venue, the venue's fill reaches
the ledger, a ``/ws`` client of the owner receives the fill, and the closed round trip
is an analytics trade.

Nothing here is a double: the app's own venue connector reaches the fakes through the
venues' base URL settings, the model is asked over HTTP, the socket is a real one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from hyperoru.settings import Settings
from tests.auth.totp_helpers import drive_clock
from tests.fakes.binance_venue import fake_binance_futures
from tests.fakes.hyperliquid_venue import fake_hyperliquid
from tests.live.test_venues_end_to_end import Stack, go_live
from tests.live.wallets import binance_key, hyperliquid_wallet
from tests.realtime.conftest import FAST_LIMITS, ask, open_socket, receive, run_server
from tests.strategies.fake_llm import FakeLlm, Reply, completion
from tests.trading.helpers import Trader

D = Decimal
PRICE = D(100000)


@dataclass
class Venue:
    """One fake venue, opened for one account, and how the test reads its position."""

    settings: dict[str, Any]
    credentials: dict[str, Any]
    position: Callable[[], Decimal]
    orders: Callable[[], int]


@asynccontextmanager
async def hyperliquid() -> AsyncIterator[Venue]:
    async with fake_hyperliquid() as venue:
        master, credentials = hyperliquid_wallet(venue)
        venue.set_mid("BTC", PRICE)
        yield Venue(
            {"hyperliquid_base_url": venue.base_url},
            credentials,
            lambda: venue.position(master, "BTC"),
            lambda: len(venue.orders_of(master)),
        )


@asynccontextmanager
async def binance() -> AsyncIterator[Venue]:
    async with fake_binance_futures(wall_clock=True) as venue:
        key, credentials = binance_key(venue)
        venue.set_mark("BTC", PRICE)
        yield Venue(
            {"binance_futures_base_url": venue.base_url},
            credentials,
            lambda: venue.account(key).positions["BTCUSDT"].amt,
            lambda: len(venue.requests_to("/fapi/v1/order", "POST")),
        )


VENUES = {"hyperliquid": hyperliquid, "binance": binance}


async def decide(trader: Trader, llm: FakeLlm, decision: dict[str, Any]) -> int:
    """One manual cycle whose model answers ``decision``; the id of its single order."""
    llm.queue(Reply(body=completion(json.dumps({"decisions": [decision]}))))
    response = await trader.api.client.post(
        f"/api/account/{trader.id}/trigger", headers=trader.headers
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["status"] == "ok", record
    (outcome,) = record["outcomes"]
    assert outcome["execution_status"] == "filled", outcome
    (order_id,) = outcome["order_ids"]
    return int(order_id)


async def fill_pushed(ws: Any) -> dict[str, Any]:
    """The next ``trade_update`` pushed (order updates may come around it)."""
    while True:
        message = await receive(ws)
        if message["type"] == "trade_update":
            return message


@pytest.mark.parametrize("venue_name", sorted(VENUES))
async def test_a_prompt_trader_trades_live_end_to_end(
    venue_name: str, make_settings: Callable[..., Settings], llm: FakeLlm
) -> None:
    async with VENUES[venue_name]() as venue:
        settings = make_settings(
            live_trading="enabled",
            llm_allowed_hosts=f"127.0.0.1:{llm.port}",
            rate_limit_auth_per_minute=1000,
            **venue.settings,
        )
        async with run_server(settings, FAST_LIMITS, background=False) as server:
            s = Stack(server.app, server.api, drive_clock(server.app))
            trader, _ = await go_live(
                s,
                venue.credentials,
                llm_provider="openai",
                llm_model="fake-model-1",
                llm_base_url=llm.base_url,
                llm_api_key="sk-test-live-prompt-0123456789",
            )
            strategy = await server.api.client.put(
                f"/api/account/{trader.id}/strategy",
                json={"symbols": ["BTC"]},
                headers=trader.headers,
            )
            assert strategy.status_code == 200, strategy.text

            async with open_socket(server, trader.token) as ws:
                subscribed = await ask(ws, {"type": "subscribe", "data": {"channels": ["trades"]}})
                assert subscribed["data"]["channels"] == ["trades"]

                opened = await decide(
                    trader,
                    llm,
                    {"operation": "long", "symbol": "BTC", "size_pct": 10, "leverage": 2},
                )
                assert venue.orders() == 1 and venue.position() > 0  # signed and filled there
                pushed = await fill_pushed(ws)
                assert (pushed["account_id"], pushed["data"]["order_id"]) == (
                    trader.id, opened
                )  # fmt: skip
                (stored,) = await trader.get(f"/api/account/{trader.id}/trades")
                assert stored["id"] == pushed["data"]["id"]  # the ledger's row, as pushed

                closed = await decide(trader, llm, {"operation": "close", "symbol": "BTC"})
                assert venue.position() == 0
                assert (await fill_pushed(ws))["data"]["order_id"] == closed

            (trade,) = await trader.get("/api/analytics/trades", days=1)
            assert trade["symbol"] == "BTC" and trade["trigger_type"] == "ai_decision"
            assert D(str(trade["pnl"])) < 0  # the same price both ways: the fees
