"""A backfill cut off by a crash resumes from its checkpoint when the server restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hyperoru.app import create_app
from hyperoru.db.engine import create_engine, create_sessionmaker
from hyperoru.jobs import service as jobs
from hyperoru.market import backfill
from hyperoru.market.intervals import floor_time
from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers.sim.provider import SimProvider
from hyperoru.market.runtime import MarketRuntime
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.market.waiting import eventually


async def test_interrupted_backfill_resumes_after_restart(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    first = create_app(settings)
    async with running(first), asgi_client(first) as client:
        user, token = await Api(client).user()

    # While no server runs: the state a killed process leaves, half way through a job.
    end = floor_time(datetime.now(UTC), "1m") - timedelta(hours=2)
    start = end - timedelta(minutes=2400)
    engine = create_engine(settings)
    provider = SimProvider(seed=settings.market_sim_seed)
    runtime = MarketRuntime(provider, PriceCache(provider, symbols=(), refresh_seconds=60), "x")
    try:
        async with create_sessionmaker(engine)() as session:
            created = await backfill.create_backfill(
                session,
                runtime,
                owner_id=user["id"],
                request=backfill.BackfillRequest("BTC", "1m", start, end, None, None),
                max_attempts=3,
            )
            claimed = await jobs.claim_next(
                session, kinds=[backfill.BACKFILL_KIND], worker_id="killed", lease_seconds=-1
            )
            job = created.job
            assert claimed is not None and claimed.id == job.id
            halfway = (start + timedelta(minutes=1000)).isoformat()
            await jobs.renew(
                session,
                jobs.Lease(job.id, "killed", -1),
                progress_pct=41.67,
                checkpoint={"cursor": halfway, "rows_written": 1000},
            )
    finally:
        await engine.dispose()

    second = create_app(settings)
    async with running(second), asgi_client(second) as client:
        api = Api(client)

        async def status() -> dict:
            response = await client.get(
                f"/api/klines/backfill/status/{created.id}", headers=api.bearer(token)
            )
            return response.json()

        done = await eventually(status, lambda j: j["status"] in ("completed", "failed"))
        assert done["status"] == "completed", done
        assert done["attempts"] == 2
        assert done["rows_written"] == 2400
        coverage = (await client.get("/api/klines/coverage", headers=api.bearer(token))).json()
        # Only the resumed part was fetched: the crashed worker stored nothing before dying.
        assert coverage[0]["total_candles"] == 1400
        assert coverage[0]["earliest"] == (start + timedelta(minutes=1000)).isoformat().replace(
            "+00:00", "Z"
        )
