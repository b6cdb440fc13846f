"""/metrics: what it counts, under which labels, and who may read it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.jobs import service as jobs
from hyperoru.metrics.observers import provider_label, timed_cycles
from hyperoru.runtime.scheduler import TraderScheduler
from hyperoru.settings import Settings
from hyperoru.strategies.records import DecisionRecord
from hyperoru.timeutils import utcnow
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error
from tests.metrics.scrape import Samples
from tests.metrics.scrape import scrape as _scrape
from tests.signals.traders import quiet_trader


def _count(samples: Samples, route: str, status: str, method: str = "GET") -> float:
    labels = (("method", method), ("route", route), ("status", status))
    return samples.get(("hyperoru_http_request_duration_seconds_count", labels), 0)


async def test_requests_are_counted_under_their_route_template_never_their_path(
    app: FastAPI, api: Api
) -> None:
    _, token = await api.user()
    trader = await quiet_trader(api, token, "counted")
    async with asgi_client(app, "127.0.0.1") as local:
        before = await _scrape(local)
        for _ in range(3):
            response = await api.client.get(
                f"/api/account/{trader['id']}/positions", headers=api.bearer(token)
            )
            assert response.status_code == 200
        assert (await api.client.get("/api/account/999999/positions")).status_code == 401
        assert (await api.client.get("/no/such/page-12345")).status_code == 404
        after = await _scrape(local)

    route = "/api/account/{account_id}/positions"
    assert _count(after, route, "200") - _count(before, route, "200") == 3
    assert _count(after, route, "401") - _count(before, route, "401") == 1
    assert _count(after, "unmatched", "404") - _count(before, "unmatched", "404") == 1
    assert not [key for key in after if "page-12345" in str(key) or "999999" in str(key)]
    # The process itself: what a soak test watches grow.
    assert after[("process_resident_memory_bytes", ())] > 0


async def test_recorded_decisions_count_their_model_time_and_tokens(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    trader = await quiet_trader(api, token, "decides")
    async with asgi_client(app, "127.0.0.1") as local:
        before = await _scrape(local)
        response = await api.client.post(
            f"/api/account/{trader['id']}/trigger", headers=api.bearer(token)
        )
        assert response.status_code == 200, response.text
        decision = response.json()
        after = await _scrape(local)
    key = (
        "hyperoru_model_call_duration_seconds_count",
        (("provider", "builtin"), ("status", decision["status"]), ("strategy_type", "prompt")),
    )
    assert after[key] - before.get(key, 0) == 1


def test_provider_names_outside_the_known_list_are_counted_as_other() -> None:
    def record(provider: object) -> DecisionRecord:
        return DecisionRecord(context={"provider": provider} if provider else {})

    assert provider_label(record("openai")) == "openai"
    assert provider_label(record("program")) == "program"
    assert provider_label(record("my-own-gateway-7")) == "other"
    assert provider_label(record(None)) == "other"


async def test_cycles_are_timed_by_outcome(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    trader = await quiet_trader(api, token, "scheduled")
    strategy = {"scheduled_trigger_enabled": True, "trigger_interval": 60}
    response = await api.client.put(
        f"/api/account/{trader['id']}/strategy", json=strategy, headers=api.bearer(token)
    )
    assert response.status_code == 200, response.text
    # The runtime as the app wires it (its own loop is off in API tests): the pipeline's
    # cycles through the metrics wrapper.
    scheduler = TraderScheduler(
        app.state.services.sessionmaker,
        timed_cycles(app.state.metrics, app.state.pipeline.run_cycle),
        cycle_timeout_seconds=60,
        gate=app.state.cycle_gate,
    )
    try:
        await scheduler.tick(utcnow())
        await scheduler.drain()
    finally:
        await scheduler.stop()
    async with asgi_client(app, "127.0.0.1") as local:
        samples = await _scrape(local)
    assert samples[("hyperoru_cycle_duration_seconds_count", (("outcome", "ok"),))] == 1


async def test_waiting_jobs_are_sampled_when_scraped(app: FastAPI, api: Api) -> None:
    user, _ = await api.user()
    async with app.state.services.sessionmaker() as session, session.begin():
        for _ in range(2):
            await jobs.create_job(
                session, kind="metrics-test", owner_id=user["id"], params={}, max_attempts=1
            )
    async with asgi_client(app, "127.0.0.1") as local:
        samples = await _scrape(local)
    assert samples[("hyperoru_jobs", (("status", "queued"),))] == 2
    assert samples[("hyperoru_jobs", (("status", "running"),))] == 0
    assert samples[("hyperoru_websocket_sockets", ())] == 0


async def test_only_the_operator_reads_metrics(
    app: FastAPI, make_settings: Callable[..., Settings]
) -> None:
    async with asgi_client(app) as remote:
        assert_error(await remote.get("/metrics"), 403, "METRICS_FORBIDDEN")
    async with asgi_client(app, "127.0.0.1") as local:
        # A proxy on this machine connects from loopback on behalf of anyone.
        proxied = await local.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
        assert_error(proxied, 403, "METRICS_FORBIDDEN")
        assert (await local.get("/metrics")).status_code == 200

    token = "operator-metrics-token-0123456789"
    guarded = create_app(make_settings(metrics_token=token))
    async with running(guarded), asgi_client(guarded) as remote:
        right = await remote.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 200
        wrong = await remote.get("/metrics", headers={"Authorization": f"Bearer {token}x"})
        assert_error(wrong, 403, "METRICS_FORBIDDEN")
        async with asgi_client(guarded, "127.0.0.1") as local:
            # With a token set, being on this machine is not enough.
            assert_error(await local.get("/metrics"), 403, "METRICS_FORBIDDEN")
