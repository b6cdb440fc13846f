"""The decision pipeline end to end: a real model server on loopback (or the builtin
model), the simulated market, the paper exchange, the decision record and its push."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.realtime.events import ModelChatEvent
from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error
from tests.strategies.fake_llm import FakeLlm, Reply, completion

API_KEY = "sk-SENTINEL-pipeline-0123456789abcdef"
DECISION_FIELDS = {
    "id",
    "account_id",
    "status",
    "trigger",
    "trigger_type",
    "strategy_type",
    "prompt_id",
    "program_id",
    "binding_id",
    "model",
    "rendered_prompt",
    "raw_output",
    "reasoning",
    "decisions",
    "outcomes",
    "operation",
    "symbol",
    "executed",
    "order_ids",
    "error",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "realized_pnl",
    "created_at",
}


def answer(**decision: Any) -> Reply:
    return Reply(body=completion(json.dumps(decision)))


@pytest.fixture
async def world(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> AsyncIterator[tuple[FastAPI, Api]]:
    app = create_app(make_settings(llm_allowed_hosts=f"127.0.0.1:{llm.port}"))
    async with running(app), asgi_client(app) as client:
        assert await app.state.services.market.cache.refresh()
        yield app, Api(client)


async def _llm_trader(api: Api, token: str, llm: FakeLlm, **fields: Any) -> dict[str, Any]:
    trader = await create_trader(
        api,
        token,
        llm_provider="openai",
        llm_model="fake-model-1",
        llm_base_url=llm.base_url,
        llm_api_key=API_KEY,
        max_leverage=5,
        **fields,
    )
    response = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC", "ETH"]},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    return trader


async def _trigger(api: Api, token: str, trader_id: int) -> dict[str, Any]:
    response = await api.client.post(f"/api/account/{trader_id}/trigger", headers=api.bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_approved_decision_is_executed_and_fully_recorded(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    _, token = await api.user()
    trader = await _llm_trader(api, token, llm)
    events: list[ModelChatEvent] = []

    def collect(event: Any) -> None:
        if isinstance(event, ModelChatEvent):
            events.append(event)

    app.state.services.bus.subscribe(collect)
    llm.queue(
        answer(
            operation="long",
            symbol="BTC",
            leverage=2,
            size_pct=10,
            take_profit_pct=5,
            stop_loss_pct=2,
            reasoning="trend up, RSI 55",
        )
    )
    record = await _trigger(api, token, trader["id"])

    assert set(record) == DECISION_FIELDS
    assert record["status"] == "ok" and record["error"] is None
    assert record["trigger"]["type"] == "manual" and record["trigger_type"] == "manual"
    assert record["model"] == "fake-model-1"
    assert "BTC" in record["rendered_prompt"] and "{" not in record["rendered_prompt"][:1]
    assert json.loads(record["raw_output"])["operation"] == "long"
    assert record["reasoning"] == "trend up, RSI 55"
    assert record["operation"] == "long" and record["symbol"] == "BTC"
    [outcome] = record["outcomes"]
    assert outcome["approved"] is True and outcome["execution_status"] == "filled"
    assert record["executed"] is True and record["order_ids"] == outcome["order_ids"]
    assert record["prompt_tokens"] == 120 and record["completion_tokens"] == 30
    assert record["latency_ms"] is not None

    # The model got the rendered prompt, authenticated with the trader's decrypted key.
    [request] = llm.requests
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert "BTC" in json.dumps(request.body["messages"])

    positions = await api.client.get(
        f"/api/account/{trader['id']}/positions", headers=api.bearer(token)
    )
    [position] = positions.json()
    assert position["symbol"] == "BTC" and position["side"] == "long"
    assert position["leverage"] == 2

    log = await api.client.get(f"/api/account/{trader['id']}/decisions", headers=api.bearer(token))
    assert [d["id"] for d in log.json()] == [record["id"]]
    assert API_KEY not in log.text
    assert [e.data["id"] for e in events] == [record["id"]]
    assert events[0].account_id == trader["id"]


@pytest.mark.parametrize(
    ("decision", "reason"),
    [
        ({"operation": "long", "symbol": "BTC", "leverage": 100, "size_pct": 10}, "exceeds"),
        ({"operation": "long", "symbol": "DOGE", "leverage": 2, "size_pct": 10}, "not in"),
        ({"operation": "short", "symbol": "ETH", "leverage": 2, "size_pct": 150}, "outside"),
        ({"operation": "close", "symbol": "BTC"}, "no open BTC position"),
    ],
)
async def test_risk_rules_reject_without_trading(
    world: tuple[FastAPI, Api], llm: FakeLlm, decision: dict[str, Any], reason: str
) -> None:
    _, api = world
    _, token = await api.user()
    trader = await _llm_trader(api, token, llm)
    llm.queue(answer(**decision))
    record = await _trigger(api, token, trader["id"])
    assert record["status"] == "ok"  # the model decided; the rules said no
    [outcome] = record["outcomes"]
    assert outcome["approved"] is False and reason in outcome["reason"]
    assert record["executed"] is False and record["order_ids"] == []
    orders = await api.client.get(f"/api/orders/account/{trader['id']}", headers=api.bearer(token))
    assert orders.json() == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(body=completion("buy some BTC maybe")), "not valid JSON"),
        (Reply(body=completion("")), "no content"),
        (Reply(status=401, body={"error": {"message": "invalid api key"}}), "model call failed"),
    ],
)
async def test_unusable_answers_are_failed_decisions(
    world: tuple[FastAPI, Api], llm: FakeLlm, reply: Reply, error: str
) -> None:
    _, api = world
    _, token = await api.user()
    trader = await _llm_trader(api, token, llm)
    llm.queue(reply)
    record = await _trigger(api, token, trader["id"])
    assert record["status"] == "failed" and error in record["error"]
    assert record["decisions"] == [] and record["executed"] is False
    assert API_KEY not in json.dumps(record)


async def test_builtin_trader_decides_without_any_key(world: tuple[FastAPI, Api]) -> None:
    _, api = world
    _, token = await api.user()
    trader = await create_trader(api, token, llm_provider="builtin")
    await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC", "ETH", "SOL"]},
        headers=api.bearer(token),
    )
    record = await _trigger(api, token, trader["id"])
    assert record["status"] == "ok", record["error"]
    assert record["model"].startswith("builtin") and record["decisions"]
    assert all(o["approved"] or o["reason"] for o in record["outcomes"])


async def test_trigger_is_owner_only(world: tuple[FastAPI, Api], llm: FakeLlm) -> None:
    _, api = world
    _, owner = await api.user()
    _, other = await api.user()
    trader = await _llm_trader(api, owner, llm)
    response = await api.client.post(
        f"/api/account/{trader['id']}/trigger", headers=api.bearer(other)
    )
    assert_error(response, 403, "FORBIDDEN")
    assert llm.requests == []
