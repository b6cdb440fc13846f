"""The demo keeps moving: its two traders, run by the real scheduler, pipeline and paper
exchange on the simulated market, open and close positions within the first minutes and
keep doing so, and stay solvent. The test moves the market's clock, the paper exchange's
clock and the scheduler's ticks itself; nothing waits on the wall clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.accounts.models import Account
from hyperoru.app import create_app, replace_services
from hyperoru.demo import DEMO_TRADERS
from hyperoru.exchanges.base import FillReport
from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers.sim.provider import SimProvider
from hyperoru.market.runtime import MarketRuntime
from hyperoru.runtime.scheduler import TraderScheduler
from hyperoru.settings import Settings
from hyperoru.strategies.llm.builtin import DEMO_MODEL_NAME
from hyperoru.strategies.records import DecisionRecord
from tests.conftest import running

STEP_SECONDS = 10  # the paper monitor (stops, targets, liquidation) runs every step
MINUTES = 20
FIRST_MINUTES = 5  # every trader has traded by then
INITIAL_CAPITAL = Decimal(10000)
# Several market moments: the demo must move whatever time a newcomer starts it.
STARTS = (
    datetime(2026, 12, 6, 9, 0, tzinfo=UTC),
    datetime(2026, 12, 7, 21, 37, tzinfo=UTC),
)


@dataclass
class SimTime:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()


@dataclass
class Watch:
    fills: dict[int, list[FillReport]] = field(default_factory=dict)
    lowest_equity: dict[int, Decimal] = field(default_factory=dict)
    first_fill_minute: dict[int, float] = field(default_factory=dict)


@pytest.fixture(params=STARTS, ids=lambda start: start.strftime("%dT%H%M"))
async def demo_app(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> AsyncIterator[tuple[FastAPI, SimTime]]:
    time = SimTime(request.param)
    application = create_app(make_settings(demo=True))
    application.state.trading_clock = time
    application.state.trading_monitor_seconds = None
    async with running(application):
        provider = SimProvider(seed=42, clock=time)
        symbols = [s for _, group in DEMO_TRADERS for s in group]
        cache = PriceCache(provider, symbols=symbols, refresh_seconds=5, clock=time.seconds)
        replace_services(application, market=MarketRuntime(provider, cache, "simulated"))
        yield application, time


async def _run(app: FastAPI, time: SimTime, trader_ids: list[int]) -> Watch:
    services = app.state.services
    paper = services.trading.paper
    scheduler = TraderScheduler(services.sessionmaker, app.state.pipeline.run_cycle)
    start = time.now
    watch = Watch()
    for step in range(MINUTES * 60 // STEP_SECONDS + 1):
        time.now = start + timedelta(seconds=step * STEP_SECONDS)
        assert await services.market.cache.refresh()
        await services.trading.monitor.tick()
        await scheduler.tick(time.now)
        await scheduler.drain()
        for trader_id in trader_ids:
            equity = (await paper.balance(account_id=trader_id)).total
            lowest = watch.lowest_equity.get(trader_id, equity)
            watch.lowest_equity[trader_id] = min(lowest, equity)
            if trader_id not in watch.first_fill_minute and await paper.fills(
                account_id=trader_id, limit=1, offset=0
            ):
                watch.first_fill_minute[trader_id] = step * STEP_SECONDS / 60
    for trader_id in trader_ids:
        watch.fills[trader_id] = await paper.fills(account_id=trader_id, limit=1000, offset=0)
    return watch


async def test_demo_traders_open_and_close_positions_and_stay_solvent(
    demo_app: tuple[FastAPI, SimTime],
) -> None:
    app, time = demo_app
    start = time.now
    async with app.state.services.sessionmaker() as session:
        traders = list((await session.scalars(select(Account).order_by(Account.id))).all())
    assert [t.llm_model for t in traders] == [DEMO_MODEL_NAME, DEMO_MODEL_NAME]
    trader_ids = [t.id for t in traders]

    watch = await _run(app, time, trader_ids)

    async with app.state.services.sessionmaker() as session:
        records = list((await session.scalars(select(DecisionRecord))).all())
    assert records and all(r.status == "ok" for r in records), [r.error for r in records]
    for trader_id in trader_ids:
        fills = watch.fills[trader_id]
        closes = [f for f in fills if f.realized_pnl != 0]
        assert watch.first_fill_minute[trader_id] <= FIRST_MINUTES, watch.first_fill_minute
        assert len(fills) >= 4, f"trader {trader_id}: {len(fills)} fills in {MINUTES} min"
        assert len(closes) >= 2, f"trader {trader_id}: {len(closes)} closing fills"
        # ... and it keeps trading: fills in the second half of the run too.
        assert any(f.time >= start + timedelta(minutes=MINUTES / 2) for f in fills), fills
        assert not any(f.is_liquidation for f in fills)
        # Small sizes at leverage 2 and tight stops: a few percent at most, never ruin.
        assert watch.lowest_equity[trader_id] > INITIAL_CAPITAL * Decimal("0.95"), watch
