"""Retries against a loopback fake that answers from a script: 429/503 with
``Retry-After`` are retried for idempotent requests only, after the server's wait (the
sleep is injected, so no test waits on the clock), and only a bounded number of times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from hyperoru.client import HyperoruError, RetryPolicy
from tests.client.fake_server import Answer, scripted


def limited(retry_after: str = "7", status: int = 429) -> Answer:
    code = "RATE_LIMITED" if status == 429 else "MARKET_DATA_UNAVAILABLE"
    body = {"error": "slow down", "message": "slow down", "code": code,
            "request_id": "req_fake", "details": {}}  # fmt: skip
    return status, {"Retry-After": retry_after}, body


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


def test_an_order_with_a_client_order_id_is_safe_to_send_again() -> None:
    placed: Answer = (201, {}, {"id": 5, "status": "pending"})
    with scripted([limited("2"), placed]) as (api, fake, waits):
        order = api.create_order(
            account_id=1, symbol="BTC", side="buy", quantity=1, client_order_id="mine-1"
        )
    assert order.raw == {"id": 5, "status": "pending"}
    assert fake.seen == ["POST /api/orders/create"] * 2 and waits == [2.0]


def test_a_request_carrying_a_two_factor_code_is_never_sent_twice() -> None:
    # The server spends the code on the first attempt: a repeat could only fail.
    unavailable = limited("1", status=503)
    with scripted([unavailable]) as (api, fake, waits), pytest.raises(HyperoruError) as raised:
        api.set_exchange_credentials(
            account_id=1, exchange="binance", api_key="k", api_secret="s", totp_code="123456"
        )
    assert raised.value.status == 503
    assert fake.seen == ["PUT /api/account/1/exchange"] and waits == []
    # The same PUT without a code (nothing spent) is retried as before.
    with scripted([unavailable, (200, {}, {"id": 1})]) as (api, fake, waits):
        api.update_trader(1, name="again")
    assert fake.seen == ["PUT /api/account/1"] * 2 and waits == [1.0]
