"""A live fill tells the owner's Telegram and Discord chats exactly what a paper fill does:
one message per configured platform, committed with the fill (trading/live/ingest.py),
never again when the venue reports the fill a second time; a live position going flat is
told with its PnL.

Real parts only: the Hyperliquid fake, the bots' fakes and the app on loopback.
"""

from __future__ import annotations

from collections.abc import Callable

from hyperoru.app import create_app
from hyperoru.settings import Settings
from hyperoru.trading.live.reconcile import reconcile
from tests.auth.totp_helpers import drive_clock
from tests.conftest import asgi_client, running
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.hyperliquid_venue import fake_hyperliquid
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import Api
from tests.live.helpers import live_client
from tests.live.test_venues_end_to_end import Stack, go_live
from tests.live.wallets import hyperliquid_wallet
from tests.notifications.conftest import (  # noqa: F401 (fixtures)
    DISCORD_TOKEN,
    TELEGRAM_TOKEN,
    BotClock,
    bot_clock,
    discord,
    telegram,
)

NAME = "Live <one>"


async def test_a_live_fill_sends_one_message_to_each_platform(
    make_settings: Callable[..., Settings],
    telegram: FakeTelegram,  # noqa: F811
    discord: FakeDiscord,  # noqa: F811
    bot_clock: BotClock,  # noqa: F811
) -> None:
    async with fake_hyperliquid() as venue:
        master, credentials = hyperliquid_wallet(venue)
        venue.set_mid("BTC", "100000")
        settings = make_settings(
            live_trading="enabled",
            hyperliquid_base_url=venue.base_url,
            telegram_api_url=telegram.base_url,
            discord_api_url=discord.base_url,
        )
        app = create_app(settings)
        app.state.bots_clock = bot_clock
        async with running(app), asgi_client(app) as http:
            s = Stack(app, Api(http), drive_clock(app))
            trader, _ = await go_live(s, credentials, name=NAME)
            for body in (
                {"platform": "telegram", "bot_token": TELEGRAM_TOKEN, "chat_id": 5550001},
                {"platform": "discord", "bot_token": DISCORD_TOKEN, "chat_id": "777000111"},
            ):
                saved = await http.post("/api/bot/config", json=body, headers=trader.headers)
                assert saved.status_code == 200, saved.text

            sent = await trader.trade(side="buy", quantity="0.002")
            assert sent["execution_status"] == "filled", sent
            assert venue.position(master, "BTC") > 0
            # The venue reports the same fill again: recognised, not told twice.
            await reconcile(live_client(app), trader.id)
            worker = app.state.bot_worker
            assert await worker.tick() == 2
            bot_clock.advance(5)
            assert await worker.tick() == 0

            (told,) = telegram.sent()
            assert told["chat_id"] == "5550001"
            assert told["text"] == (
                "<b>Trade executed: Live &lt;one&gt;</b>\nBUY 0.002 BTC @ 100000"
            )
            (posted,) = discord.messages
            assert posted["channel"] == "777000111"
            assert posted["content"] == "**Trade executed: Live <one>**\nBUY 0.002 BTC @ 100000"

            # Flat again at the venue: the closing trade and the closed position.
            await trader.trade(side="sell", quantity="0.002", reduce_only=True)
            assert venue.position(master, "BTC") == 0
            outbox = await trader.get("/api/bot/outbox")
            assert sorted((m["platform"], m["kind"]) for m in outbox) == [
                ("discord", "position_closed"),
                ("discord", "trade"),
                ("discord", "trade"),
                ("telegram", "position_closed"),
                ("telegram", "trade"),
                ("telegram", "trade"),
            ]
