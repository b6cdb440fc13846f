"""The daily summary fires at its local time once a day; a failed cycle, a trader paused
by failures and a fired signal write their messages in the event's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import func, select

from hyperoru.notifications import outbox
from hyperoru.notifications.models import OutboxMessage
from hyperoru.runtime import leases
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import Api
from tests.notifications.conftest import TELEGRAM_TOKEN, BotClock
from tests.trading.helpers import Trader, new_trader


async def _connect(api: Api, trader: Trader) -> None:
    body = {"platform": "telegram", "bot_token": TELEGRAM_TOKEN, "chat_id": "77"}
    assert (await api.client.post("/api/bot/config", json=body, headers=trader.headers)).is_success


async def test_the_daily_summary_fires_at_its_local_time_once_a_day(
    api: Api, app: FastAPI, telegram: FakeTelegram, bot_clock: BotClock
) -> None:
    trader = await new_trader(api, name="Alpha")
    await trader.trade(side="buy", quantity=0.1, leverage=2)
    await _connect(api, trader)
    wanted = {"daily_summary": True, "daily_summary_time": "09:00", "time_zone": "Europe/Paris"}
    changed = await api.client.put(
        "/api/bot/notification-config", json=wanted, headers=trader.headers
    )
    assert changed.status_code == 200, changed.text
    summaries = app.state.bot_summaries
    bot_clock.now = datetime(2030, 1, 15, 7, 59, tzinfo=UTC)  # 08:59 in Paris
    assert await summaries.tick() == 0
    bot_clock.now = datetime(2030, 1, 15, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    assert await summaries.tick() == 1
    bot_clock.now = datetime(2030, 1, 15, 20, 0, tzinfo=UTC)
    assert await summaries.tick() == 0  # once a day
    assert await app.state.bot_worker.tick() == 1  # (the trade came before the bot)
    summary = telegram.sent("77")[-1]["text"]
    assert summary.startswith("<b>Daily summary</b>")
    assert "Open positions: 1" in summary and "Active traders: 1" in summary
    bot_clock.now = datetime(2030, 1, 16, 8, 0, tzinfo=UTC)
    assert await summaries.tick() == 1  # the next day


async def test_a_bad_time_zone_is_a_validation_error(api: Api) -> None:
    trader = await new_trader(api)
    refused = await api.client.put(
        "/api/bot/notification-config", json={"time_zone": "Mars/Olympus"}, headers=trader.headers
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "VALIDATION_ERROR"


async def _kinds(app: FastAPI) -> list[str]:
    async with app.state.services.sessionmaker() as session:
        return list(await session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


async def test_failed_cycles_and_the_pause_they_cause_are_told(api: Api, app: FastAPI) -> None:
    trader = await new_trader(api, name="Beta")
    await _connect(api, trader)
    sessions = app.state.services.sessionmaker
    for _ in range(leases.PAUSE_AFTER_FAILURES):
        async with sessions() as session:
            await leases.record_outcome(
                session, account_id=trader.id, ok=False, error="model <timeout>"
            )
    kinds = await _kinds(app)
    assert kinds.count("error") == leases.PAUSE_AFTER_FAILURES
    assert kinds.count("paused") == 1


async def test_a_rolled_back_event_leaves_no_message(api: Api, app: FastAPI) -> None:
    trader = await new_trader(api, name="Gamma")
    await _connect(api, trader)
    wanted = {"signal_notifications": True}
    assert (
        await api.client.put("/api/bot/notification-config", json=wanted, headers=trader.headers)
    ).is_success
    async with app.state.services.sessionmaker() as session:
        await outbox.signal_fired(
            session, user_id=trader.user["id"], pool_name="Breakouts", symbols=["BTC"],
            entries=[{"symbol": "BTC", "name": "RSI high", "value": 71}], trader_ids=[],
        )  # fmt: skip
        await session.rollback()
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        await outbox.signal_fired(
            session, user_id=trader.user["id"], pool_name="Breakouts", symbols=["BTC"],
            entries=[{"symbol": "BTC", "name": "RSI high", "value": 71}], trader_ids=[trader.id],
        )  # fmt: skip
        await session.commit()
    async with app.state.services.sessionmaker() as session:
        (text,) = await session.scalars(select(OutboxMessage.text))
    assert text == "<b>Signal fired: Breakouts</b>\nSymbols: BTC\nSignals: BTC RSI high = 71"
