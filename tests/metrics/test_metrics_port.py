"""/metrics on a port of its own (what `hyperoru worker --metrics-port` serves): the API's
families under the API's operator rule, served beside the process's own loop. The real
worker process is in tests/e2e/test_worker_metrics.py."""

from __future__ import annotations

import os
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.metrics.port import listen, metrics_app, serving_metrics
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import assert_error
from tests.metrics.scrape import scrape

TOKEN = "operator-metrics-token-0123456789"


def _process_info(pid: int, kind: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("hyperoru_process_info", (("kind", kind), ("pid", str(pid))))


async def test_the_port_answers_the_api_families_and_names_the_process_a_worker(
    app: FastAPI,
) -> None:
    async with asgi_client(app, "127.0.0.1") as api_side:
        assert (await scrape(api_side))[_process_info(os.getpid(), "api")] == 1
    app.state.metrics.identify("worker")
    async with asgi_client(metrics_app(app), "127.0.0.1") as local:
        samples = await scrape(local)
        assert samples[_process_info(os.getpid(), "worker")] == 1
        assert _process_info(os.getpid(), "api") not in samples
        # Sampled from the app's services at scrape time, as on the API.
        assert samples[("hyperoru_outbox_pending", ())] == 0
        assert samples[("hyperoru_jobs", (("status", "queued"),))] == 0
        # Nothing else is served there, and what is not found has the contract's shape.
        assert_error(await local.get("/api/health"), 404, "NOT_FOUND")
    async with asgi_client(metrics_app(app)) as remote:
        assert_error(await remote.get("/metrics"), 403, "METRICS_FORBIDDEN")


async def test_with_a_token_the_port_wants_it_even_from_this_machine(
    make_settings: Callable[..., Settings],
) -> None:
    guarded = create_app(make_settings(metrics_token=TOKEN))
    async with running(guarded):
        port_app = metrics_app(guarded)
        async with asgi_client(port_app, "127.0.0.1") as local:
            assert_error(await local.get("/metrics"), 403, "METRICS_FORBIDDEN")
            wrong = await local.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
            assert_error(wrong, 403, "METRICS_FORBIDDEN")
        async with asgi_client(port_app) as remote:
            right = await remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert right.status_code == 200, right.text


async def test_a_blank_token_is_no_token_on_the_api_and_the_port_alike(
    make_settings: Callable[..., Settings],
) -> None:
    # `HYPERORU_METRICS_TOKEN=` left blank in an env file: loopback only, as if unset
    # (not a token nobody can send, which would lock the operator out too).
    blank = create_app(make_settings(metrics_token=""))
    async with running(blank):
        for served in (blank, metrics_app(blank)):
            async with asgi_client(served, "127.0.0.1") as local:
                assert (await local.get("/metrics")).status_code == 200
                blank_header = await local.get("/metrics", headers={"Authorization": "Bearer "})
                assert blank_header.status_code == 200  # the header is simply not needed
            async with asgi_client(served) as remote:
                empty = await remote.get("/metrics", headers={"Authorization": "Bearer "})
                assert_error(empty, 403, "METRICS_FORBIDDEN")


async def test_served_on_a_real_loopback_port_on_the_running_loop_until_the_block_ends(
    app: FastAPI,
) -> None:
    listener = listen("127.0.0.1", 0)
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}/metrics"
    async with httpx.AsyncClient(timeout=30) as http:
        async with serving_metrics(app, listener):
            answer = await http.get(url)
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-request-id"]
            assert "hyperoru_cycle_duration_seconds" in answer.text
        # Closed with the block: the process's shutdown closes its port.
        with pytest.raises(httpx.ConnectError):
            await http.get(url)


def test_a_port_in_use_is_refused_at_once() -> None:
    taken = listen("127.0.0.1", 0)
    try:
        with pytest.raises(OSError):
            listen("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()
