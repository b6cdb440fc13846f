"""The OpenAI-compatible client against a real model server on loopback: answers of every
documented shape, failures, retries, bounds, and the API key never leaking."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest

from hyperoru.net.dependencies import build_outbound_guard
from hyperoru.settings import Settings
from hyperoru.strategies.decision import DecisionParseError, parse_model_output
from hyperoru.strategies.llm.base import LlmError, LlmErrorKind, LlmRequest
from hyperoru.strategies.llm.factory import llm_http_client
from hyperoru.strategies.llm.openai_compatible import (
    OpenAICompatibleClient,
    RetryPolicy,
    chat_completions_url,
    retry_after_seconds,
)
from hyperoru.timeutils import utcnow
from tests.strategies.fake_llm import FakeLlm, Reply, completion, fake_llm

API_KEY = "sk-SENTINEL-do-not-leak-7f3a9c2e"
CAP = 64 * 1024


class RecordedSleeps:
    """The retry policy's sleep: records the delays instead of waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def server() -> AsyncIterator[FakeLlm]:
    async with fake_llm() as fake:
        yield fake


@pytest.fixture
def settings(server: FakeLlm) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        llm_allowed_hosts=f"127.0.0.1:{server.port}",
        llm_max_response_bytes=CAP,
    )


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with llm_http_client(build_outbound_guard(settings), settings) as client:
        yield client


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
def client(
    server: FakeLlm, http: httpx.AsyncClient, sleeps: RecordedSleeps
) -> OpenAICompatibleClient:
    return OpenAICompatibleClient(
        http,
        base_url=server.base_url,
        model="fake-model-1",
        api_key=API_KEY,
        timeout_seconds=5,
        retry=RetryPolicy(
            max_attempts=3, base_delay=1.0, max_delay=30.0, sleep=sleeps, random=lambda: 0.5
        ),
    )


@pytest.fixture(autouse=True)
def _no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in str(record.__dict__)


REQUEST = LlmRequest(prompt="Decide for BTC.", system="You are a trader.")


async def _answer(client: OpenAICompatibleClient, server: FakeLlm, content: object) -> str:
    server.queue(Reply(body=completion(content)))  # type: ignore[arg-type]
    return (await client.complete(REQUEST)).text


async def test_good_answer_with_usage_and_request_shape(
    client: OpenAICompatibleClient, server: FakeLlm
) -> None:
    server.queue(
        Reply(
            body=completion(
                '{"operation": "long", "symbol": "BTC", "leverage": 3, "size_pct": 20, '
                '"reasoning": "trend"}',
                usage={"prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876},
                model="fake-model-1-2026",
            )
        )
    )
    response = await client.complete(
        LlmRequest(prompt="Decide.", options={"temperature": 0.2, "model": "evil"})
    )
    assert response.model == "fake-model-1-2026"
    assert response.usage.as_dict() == {
        "prompt_tokens": 812,
        "completion_tokens": 64,
        "total_tokens": 876,
    }
    assert response.attempts == 1 and response.latency_ms >= 0
    [decision] = parse_model_output(response.text)
    assert (decision.operation, decision.symbol, decision.leverage) == ("long", "BTC", Decimal(3))
    assert decision.size_fraction == Decimal("0.2")

    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers.get("accept-encoding") == "identity"
    assert sent.body["model"] == "fake-model-1"  # options cannot replace the model
    assert sent.body["temperature"] == 0.2 and sent.body["stream"] is False
    assert sent.body["messages"] == [{"role": "user", "content": "Decide."}]


async def test_system_message_goes_first(client: OpenAICompatibleClient, server: FakeLlm) -> None:
    await client.complete(REQUEST)
    assert [m["role"] for m in server.requests[0].body["messages"]] == ["system", "user"]


async def test_fenced_json(client: OpenAICompatibleClient, server: FakeLlm) -> None:
    text = await _answer(
        client,
        server,
        'Here you go:\n```json\n{"operation": "close", "symbol": "eth", "reason": "done"}\n```\n',
    )
    [decision] = parse_model_output(text)
    assert (decision.operation, decision.symbol, decision.reasoning) == ("close", "ETH", "done")


async def test_list_and_decisions_wrapper(client: OpenAICompatibleClient, server: FakeLlm) -> None:
    items = (
        '[{"operation": "hold", "symbol": "BTC"}, '
        '{"operation": "short", "symbol": "SOL", "size_pct": 5}]'
    )
    listed = parse_model_output(await _answer(client, server, items))
    wrapped = parse_model_output(await _answer(client, server, f'{{"decisions": {items}}}'))
    assert listed == wrapped
    assert [d.operation for d in listed] == ["hold", "short"]


async def test_both_decision_schemas(client: OpenAICompatibleClient, server: FakeLlm) -> None:
    guide = await _answer(
        client,
        server,
        '{"operation": "long", "symbol": "BTC", "size_pct": 25, "leverage": 2, '
        '"take_profit_pct": 4, "stop_loss_pct": 2, "reasoning": "r"}',
    )
    concepts = await _answer(
        client,
        server,
        '{"operation": "buy", "symbol": "BTC", "target_portion_of_balance": 0.25, '
        '"leverage": 2, "take_profit_price": 70000, "stop_loss_price": 60000, "reason": "r"}',
    )
    [a], [b] = parse_model_output(guide), parse_model_output(concepts)
    assert (a.operation, a.size_fraction, a.reasoning) == (
        b.operation,
        b.size_fraction,
        b.reasoning,
    )
    assert (a.take_profit_pct, b.take_profit_price) == (Decimal(4), Decimal(70000))


async def test_content_as_a_list_of_parts(client: OpenAICompatibleClient, server: FakeLlm) -> None:
    parts = [{"type": "text", "text": '{"operation": '}, {"type": "text", "text": '"hold"}'}]
    assert await _answer(client, server, parts) == '{"operation": "hold"}'


async def test_malformed_json_is_a_parse_failure(
    client: OpenAICompatibleClient, server: FakeLlm
) -> None:
    text = await _answer(client, server, '{"operation": "long", "symbol": "BTC",')
    with pytest.raises(DecisionParseError, match="not valid JSON"):
        parse_model_output(text)


async def test_empty_and_reasoning_only_content(
    client: OpenAICompatibleClient, server: FakeLlm
) -> None:
    assert await _answer(client, server, None) == ""
    server.queue(Reply(body=completion("", reasoning="BTC looks strong, I would go long")))
    response = await client.complete(REQUEST)
    assert response.text == ""
    assert response.reasoning == "BTC looks strong, I would go long"
    with pytest.raises(DecisionParseError, match="no content"):
        parse_model_output(response.text)


@pytest.mark.parametrize("chunked", [False, True])
async def test_huge_answer_is_cut_at_the_cap(
    client: OpenAICompatibleClient, server: FakeLlm, chunked: bool
) -> None:
    server.queue(Reply(body=completion("x" * (4 * CAP)), chunked=chunked))
    with pytest.raises(LlmError) as caught:
        await client.complete(REQUEST)
    assert caught.value.kind is LlmErrorKind.BAD_RESPONSE
    assert "too large" in str(caught.value)
    assert caught.value.attempts == 1


async def test_slow_answer_times_out(
    server: FakeLlm, http: httpx.AsyncClient, sleeps: RecordedSleeps
) -> None:
    impatient = OpenAICompatibleClient(
        http,
        base_url=server.base_url,
        model="m",
        api_key=API_KEY,
        timeout_seconds=0.3,
        retry=RetryPolicy(sleep=sleeps),
    )
    server.queue(Reply(delay=30))
    with pytest.raises(LlmError) as caught:
        await impatient.complete(REQUEST)
    assert caught.value.kind is LlmErrorKind.TIMEOUT
    assert str(caught.value) == "the model did not answer within 0.3 s"
    # A trickle that keeps every read alive still hits the attempt's deadline.
    server.queue(Reply(trickle=0.05))
    with pytest.raises(LlmError) as trickled:
        await impatient.complete(REQUEST)
    assert trickled.value.kind is LlmErrorKind.TIMEOUT
    assert sleeps.delays == []  # timeouts are not retried


async def test_429_then_success_honours_retry_after(
    client: OpenAICompatibleClient, server: FakeLlm, sleeps: RecordedSleeps
) -> None:
    server.queue(
        Reply(status=429, body={"error": {"message": "slow down"}}, headers={"Retry-After": "7"}),
        Reply(),
    )
    response = await client.complete(REQUEST)
    assert response.attempts == 2
    assert sleeps.delays == [7.0]
    assert len(server.requests) == 2


async def test_5xx_backoff_then_failure(
    client: OpenAICompatibleClient, server: FakeLlm, sleeps: RecordedSleeps
) -> None:
    server.queue(
        Reply(status=500, body={"error": {"message": "boom"}}),
        Reply(status=502, body=b"<html>bad gateway</html>"),
        Reply(status=503, body={"error": {"message": "overloaded, try later"}}),
        Reply(),
    )
    with pytest.raises(LlmError) as caught:
        await client.complete(REQUEST)
    error = caught.value
    assert (error.kind, error.status_code, error.attempts) == (LlmErrorKind.PROVIDER_ERROR, 503, 3)
    assert str(error) == "the model's server answered 503: overloaded, try later"
    # base 1 s doubling, plus half the jitter (random() is 0.5 here).
    assert sleeps.delays == [1.25, 2.5]
    assert len(server.requests) == 3


async def test_retry_after_beyond_the_budget_gives_up_at_once(
    client: OpenAICompatibleClient, server: FakeLlm, sleeps: RecordedSleeps
) -> None:
    server.queue(Reply(status=429, body={"error": "quota"}, headers={"Retry-After": "3600"}))
    with pytest.raises(LlmError) as caught:
        await client.complete(REQUEST)
    assert caught.value.kind is LlmErrorKind.RATE_LIMITED and caught.value.attempts == 1
    assert sleeps.delays == []


async def test_client_errors_are_not_retried_and_never_carry_the_key(
    client: OpenAICompatibleClient, server: FakeLlm, sleeps: RecordedSleeps
) -> None:
    echoed = f"Incorrect API key provided: {API_KEY}. Find yours at example.test."
    server.queue(Reply(status=401, body={"error": {"message": echoed, "type": "auth"}}))
    with pytest.raises(LlmError) as caught:
        await client.complete(REQUEST)
    error = caught.value
    assert error.kind is LlmErrorKind.PROVIDER_ERROR and error.status_code == 401
    assert API_KEY not in str(error) and API_KEY not in repr(error.args)
    assert "Incorrect API key provided: ***" in str(error)
    # Raised "from None": no chained httpx exception travels with it.
    assert error.__cause__ is None and error.__suppress_context__
    assert sleeps.delays == []


async def test_redirects_are_not_followed(client: OpenAICompatibleClient, server: FakeLlm) -> None:
    server.queue(Reply(status=302, body=b"", headers={"Location": "http://169.254.169.254/"}))
    with pytest.raises(LlmError) as caught:
        await client.complete(REQUEST)
    assert caught.value.kind is LlmErrorKind.BAD_RESPONSE and "redirect" in str(caught.value)
    assert len(server.requests) == 1


async def test_not_a_chat_completion(client: OpenAICompatibleClient, server: FakeLlm) -> None:
    server.queue(Reply(body={"object": "list", "data": []}), Reply(body=b"not json"))
    for _ in range(2):
        with pytest.raises(LlmError) as caught:
            await client.complete(REQUEST)
        assert caught.value.kind is LlmErrorKind.BAD_RESPONSE


async def test_loopback_outside_the_allowlist_is_never_contacted(
    http: httpx.AsyncClient, sleeps: RecordedSleeps
) -> None:
    async with fake_llm() as canary:
        reckless = OpenAICompatibleClient(
            http,
            base_url=canary.base_url,
            model="m",
            api_key=API_KEY,
            retry=RetryPolicy(sleep=sleeps),
        )
        with pytest.raises(LlmError) as caught:
            await reckless.complete(REQUEST)
        assert caught.value.kind is LlmErrorKind.UNREACHABLE
        assert str(caught.value) == "could not connect to the model's server"
        assert canary.connections == 0


async def test_closed_port_gives_the_same_answer_as_a_refused_destination(
    settings: Settings, sleeps: RecordedSleeps
) -> None:
    async with fake_llm() as gone:
        port = gone.port
    allowing = Settings(_env_file=None, llm_allowed_hosts=f"127.0.0.1:{port}")  # type: ignore[call-arg]
    async with llm_http_client(build_outbound_guard(allowing), allowing) as http:
        client = OpenAICompatibleClient(
            http,
            base_url=f"http://127.0.0.1:{port}/v1",
            model="m",
            api_key=API_KEY,
            retry=RetryPolicy(sleep=sleeps),
        )
        with pytest.raises(LlmError) as caught:
            await client.complete(REQUEST)
    assert caught.value.kind is LlmErrorKind.UNREACHABLE
    assert str(caught.value) == "could not connect to the model's server"


def test_missing_configuration_is_reported(http: httpx.AsyncClient) -> None:
    with pytest.raises(LlmError, match="base URL"):
        OpenAICompatibleClient(http, base_url="", model="m", api_key=None)
    with pytest.raises(LlmError, match="model name"):
        OpenAICompatibleClient(http, base_url="https://api.example/v1", model="", api_key=None)


def test_endpoint_url() -> None:
    assert chat_completions_url("https://api.openai.com/v1") == (
        "https://api.openai.com/v1/chat/completions"
    )
    assert chat_completions_url("http://localhost:11434/v1/") == (
        "http://localhost:11434/v1/chat/completions"
    )
    assert chat_completions_url("https://gw.example/v1/chat/completions") == (
        "https://gw.example/v1/chat/completions"
    )


def test_retry_after_forms() -> None:
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = retry_after_seconds(format_datetime(utcnow() + timedelta(seconds=90), usegmt=True))
    assert later is not None and 80 <= later <= 90


async def test_proxy_variables_from_the_environment_are_ignored(
    monkeypatch: pytest.MonkeyPatch, server: FakeLlm, settings: Settings, sleeps: RecordedSleeps
) -> None:
    async with fake_llm() as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with llm_http_client(build_outbound_guard(settings), settings) as http:
            client = OpenAICompatibleClient(
                http,
                base_url=server.base_url,
                model="m",
                api_key=API_KEY,
                retry=RetryPolicy(sleep=sleeps),
            )
            await client.complete(REQUEST)
        assert proxy.connections == 0
        assert len(server.requests) == 1
