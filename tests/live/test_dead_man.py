"""The dead-man switch: armed at the venue while a live trader runs, re-armed before it
expires (driven by the monitor's ticks), disarmed when the trader stops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI

from tests.helpers import Api
from tests.live.helpers import live_trader, set_fields
from tests.live.venue_double import VenueDouble
from tests.trading.market import TestClock


@pytest.mark.usefixtures("connected")
async def test_armed_while_running_rearmed_on_schedule_disarmed_when_stopped(
    app: FastAPI, api: Api, venue: VenueDouble, clock: TestClock
) -> None:
    trader = await live_trader(app, api)
    monitor = app.state.services.trading.live_monitor
    await monitor.tick()
    assert venue.dead_man == [120]
    clock.now += timedelta(seconds=10)
    await monitor.tick()
    assert venue.dead_man == [120]  # still well within its time
    clock.now += timedelta(seconds=30)
    await monitor.tick()
    assert venue.dead_man == [120, 120]
    await set_fields(app, trader, auto_trading_enabled=False, status="paused")
    await monitor.tick()
    assert venue.dead_man == [120, 120, None]
    await monitor.tick()
    assert venue.dead_man == [120, 120, None]  # disarmed once
    assert trader.id not in monitor.armed


@pytest.mark.usefixtures("connected")
async def test_a_trader_switched_to_paper_is_disarmed(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    monitor = app.state.services.trading.live_monitor
    await monitor.tick()
    await set_fields(app, trader, execution_mode="paper")
    await monitor.tick()
    assert venue.dead_man == [120, None]


@pytest.mark.usefixtures("connected")
async def test_paper_traders_and_traders_without_credentials_arm_nothing(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    await live_trader(app, api, credentials=False)
    monitor = app.state.services.trading.live_monitor
    await monitor.tick()  # the missing credentials are logged, the tick goes on
    assert venue.dead_man == [] and monitor.armed == {}
