"""Retries against a loopback fake that answers from a script: 429/503 with
``Retry-After`` are retried for idempotent requests only, after the server's wait (the
sleep is injected, so no test waits on the clock), and only a bounded number of times."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hyperoru.client import Client, HyperoruError, RetryPolicy

Answer = tuple[int, dict[str, str], dict]
HEALTHY: Answer = (200, {}, {"status": "healthy"})


def limited(retry_after: str = "7", status: int = 429) -> Answer:
    code = "RATE_LIMITED" if status == 429 else "MARKET_DATA_UNAVAILABLE"
    body = {"error": "slow down", "message": "slow down", "code": code,
            "request_id": "req_fake", "details": {}}  # fmt: skip
    return status, {"Retry-After": retry_after}, body


class Fake:
    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.seen: list[str] = []


@contextmanager
def fake_server(answers: list[Answer]) -> Iterator[tuple[str, Fake]]:
    fake = Fake(answers)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            fake.seen.append(f"{self.command} {self.path}")
            status, headers, body = fake.answers.pop(0) if fake.answers else HEALTHY
            payload = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def scripted(answers: list[Answer], **options: Any) -> Iterator[tuple[Client, Fake, list[float]]]:
    """A sync client of the fake; its sleep only records the waits it was asked for."""
    waits: list[float] = []
    with fake_server(answers) as (url, fake), Client(url, sleep=waits.append, **options) as api:
        yield api, fake, waits


def test_a_get_waits_as_told_and_succeeds_on_the_third_attempt() -> None:
    with scripted([limited("7"), limited("2", status=503)]) as (api, fake, waits):
        assert api.health() == {"status": "healthy"}
    assert waits == [7.0, 2.0]
    assert fake.seen == ["GET /api/health"] * 3


def test_attempts_are_bounded_and_the_last_answer_is_raised() -> None:
    three = RetryPolicy(attempts=3)
    with (
        scripted([limited("1")] * 5, retry=three) as (api, fake, waits),
        pytest.raises(HyperoruError) as raised,
    ):
        api.get_trader(1)
    assert fake.seen == ["GET /api/account/1"] * 3 and waits == [1.0, 1.0]
    error = raised.value
    assert (error.status, error.code, error.request_id) == (429, "RATE_LIMITED", "req_fake")
    assert error.retry_after == 1.0


def test_a_post_is_never_sent_twice() -> None:
    with scripted([limited("1")]) as (api, fake, waits), pytest.raises(HyperoruError) as raised:
        api.create_order(account_id=1, symbol="BTC", side="buy", quantity=1)
    assert raised.value.status == 429
    assert fake.seen == ["POST /api/orders/create"] and waits == []


def test_an_http_date_is_honoured() -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    with scripted([limited(soon)]) as (api, fake, waits):
        api.health()
    assert len(fake.seen) == 2
    assert len(waits) == 1 and 20 < waits[0] <= 30


def test_a_wait_beyond_the_limit_is_not_taken() -> None:
    patient = RetryPolicy(max_delay=60)
    with (
        scripted([limited("3600")], retry=patient) as (api, fake, waits),
        pytest.raises(HyperoruError) as raised,
    ):
        api.health()
    assert waits == [] and len(fake.seen) == 1 and raised.value.retry_after == 3600.0


def test_without_retry_after_the_wait_backs_off() -> None:
    no_header: Answer = (503, {}, {"code": "MARKET_DATA_UNAVAILABLE", "message": "later"})
    with scripted([no_header, no_header], retry=RetryPolicy(backoff=0.5)) as (api, _, waits):
        api.health()
    assert waits == [0.5, 1.0]
