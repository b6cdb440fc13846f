"""GET/PUT /api/account/{id}/strategy: the trigger configuration."""

from __future__ import annotations

from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error
from tests.programs.programs import RSI_PROGRAM
from tests.signals.test_api import user_story


async def test_defaults_then_partial_updates(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    url, headers = f"/api/account/{trader['id']}/strategy", api.bearer(token)

    initial = await api.client.get(url, headers=headers)
    assert initial.status_code == 200
    assert initial.json() == {
        "account_id": trader["id"],
        "prompt_id": None,
        "program_id": None,
        "symbols": [],
        "trigger_interval": 150,
        "scheduled_trigger_enabled": True,
        "signal_pool_ids": [],
        "enabled": True,
        "updated_at": None,
    }

    prompt = await api.client.post(
        "/api/prompts/", json={"name": "mine", "content": "Trade {symbols}"}, headers=headers
    )
    prompt_id = prompt.json()["id"]
    _, pool = await user_story(api, token)
    second = await api.client.post(
        "/api/signals/pools",
        json={"name": "second", "signal_ids": pool["signal_ids"], "symbols": ["SOL"]},
        headers=headers,
    )
    other_pool = second.json()
    saved = await api.client.put(
        url,
        json={
            "prompt_id": prompt_id,
            "symbols": ["btc", "ETH", "BTC"],
            "signal_pool_ids": [pool["id"], pool["id"], other_pool["id"]],
        },
        headers=headers,
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["prompt_id"] == prompt_id and body["program_id"] is None
    assert body["symbols"] == ["BTC", "ETH"]
    assert body["signal_pool_ids"] == [pool["id"], other_pool["id"]]
    assert body["updated_at"].endswith("Z")

    program = (
        await api.client.post(
            "/api/programs/", json={"name": "rsi", "code": RSI_PROGRAM}, headers=headers
        )
    ).json()
    switched = await api.client.put(
        url,
        json={"program_id": program["id"], "trigger_interval": 300, "enabled": False},
        headers=headers,
    )
    body = switched.json()
    assert body["program_id"] == program["id"] and body["prompt_id"] is None  # one at a time
    assert body["trigger_interval"] == 300 and body["enabled"] is False
    assert body["symbols"] == ["BTC", "ETH"]  # untouched
    assert (await api.client.get(url, headers=headers)).json() == body


async def test_invalid_strategy_updates(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    url, headers = f"/api/account/{trader['id']}/strategy", api.bearer(token)
    for interval in (1, 29, 86_401):
        response = await api.client.put(url, json={"trigger_interval": interval}, headers=headers)
        assert_error(response, 422, "INVALID_TRIGGER_INTERVAL")
    for body in (
        {"prompt_id": 1, "program_id": 2},
        {"symbols": ["BTC/USDT"]},
        {"symbols": ["X"] * 51},
        {"signal_pool_ids": [0]},
        {"prompt_id": 2**40},
        {"trigger_interval": "often"},
    ):
        response = await api.client.put(url, json=body, headers=headers)
        assert_error(response, 400, "VALIDATION_ERROR")
    missing_body = await api.client.put(url, headers=headers)
    assert_error(missing_body, 400, "VALIDATION_ERROR")


async def test_a_strategy_can_only_use_readable_prompts(api: Api) -> None:
    _, owner = await api.user()
    _, other = await api.user()
    trader = await create_trader(api, owner)
    theirs = await api.client.post(
        "/api/prompts/", json={"name": "theirs", "content": "x"}, headers=api.bearer(other)
    )
    url = f"/api/account/{trader['id']}/strategy"
    forbidden = await api.client.put(
        url, json={"prompt_id": theirs.json()["id"]}, headers=api.bearer(owner)
    )
    assert_error(forbidden, 403, "FORBIDDEN")
    missing = await api.client.put(url, json={"prompt_id": 999_999}, headers=api.bearer(owner))
    assert_error(missing, 404, "PROMPT_NOT_FOUND")
    builtins = await api.client.get("/api/prompts/", headers=api.bearer(owner))
    builtin_id = next(p["id"] for p in builtins.json() if p["is_system"])
    ok = await api.client.put(url, json={"prompt_id": builtin_id}, headers=api.bearer(owner))
    assert ok.status_code == 200 and ok.json()["prompt_id"] == builtin_id


async def test_a_strategy_can_only_use_its_owners_programs_and_pools(api: Api) -> None:
    _, owner = await api.user()
    _, other = await api.user()
    trader = await create_trader(api, owner)
    url = f"/api/account/{trader['id']}/strategy"
    program = await api.client.post(
        "/api/programs/", json={"name": "theirs", "code": RSI_PROGRAM}, headers=api.bearer(other)
    )
    _, pool = await user_story(api, other)
    for body in ({"program_id": program.json()["id"]}, {"signal_pool_ids": [pool["id"]]}):
        response = await api.client.put(url, json=body, headers=api.bearer(owner))
        assert_error(response, 403, "FORBIDDEN")
    missing = await api.client.put(url, json={"program_id": 999_999}, headers=api.bearer(owner))
    assert_error(missing, 404, "PROGRAM_NOT_FOUND")
    strategy = await api.client.get(url, headers=api.bearer(owner))
    assert strategy.json()["program_id"] is None and strategy.json()["signal_pool_ids"] == []
