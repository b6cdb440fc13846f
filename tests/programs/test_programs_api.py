"""/api/programs: CRUD with ownership, validate with line numbers, test runs on the
simulated market, the developer guide, and the fixed paths other domains own."""

from __future__ import annotations

from typing import Any

from hyperoru.programs.sandbox.policy import MAX_SOURCE_BYTES
from hyperoru.strategies.decision import parse_model_output
from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error
from tests.programs.programs import RSI_PROGRAM, strategy


async def _create(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "RSI dip", "code": RSI_PROGRAM, **fields}
    response = await api.client.post("/api/programs/", json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def test_crud_and_ownership(api: Api) -> None:
    _, token = await api.user()
    _, other = await api.user()
    program = await _create(api, token, description="buys dips", params={"oversold": 25})
    assert program["params"] == {"oversold": 25} and program["description"] == "buys dips"
    path = f"/api/programs/{program['id']}"

    listed = await api.client.get("/api/programs/", headers=api.bearer(token))
    assert [p["id"] for p in listed.json()] == [program["id"]]
    assert (await api.client.get("/api/programs/", headers=api.bearer(other))).json() == []

    updated = await api.client.put(
        path, json={"name": "RSI 2", "description": None}, headers=api.bearer(token)
    )
    assert updated.status_code == 200
    assert updated.json()["name"] == "RSI 2" and updated.json()["description"] is None
    assert updated.json()["code"] == RSI_PROGRAM

    for method in ("GET", "PUT", "DELETE"):
        response = await api.client.request(method, path, json={}, headers=api.bearer(other))
        assert_error(response, 403, "FORBIDDEN")

    deleted = await api.client.delete(path, headers=api.bearer(token))
    assert deleted.json() == {"status": "ok"}
    assert_error(await api.client.get(path, headers=api.bearer(token)), 404, "PROGRAM_NOT_FOUND")
    missing = await api.client.get("/api/programs/999999", headers=api.bearer(token))
    assert_error(missing, 404, "PROGRAM_NOT_FOUND")


async def test_code_size_is_capped(api: Api) -> None:
    _, token = await api.user()
    huge = RSI_PROGRAM + "#" * MAX_SOURCE_BYTES
    response = await api.client.post(
        "/api/programs/", json={"name": "big", "code": huge}, headers=api.bearer(token)
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_other_fixed_paths_are_not_read_as_program_ids(api: Api) -> None:
    _, token = await api.user()
    for path in ("/api/programs/signal-pools/", "/api/programs/accounts/"):
        response = await api.client.get(path, headers=api.bearer(token))
        body = response.json()
        code = body.get("code") if isinstance(body, dict) else None
        assert code not in ("PROGRAM_NOT_FOUND", "VALIDATION_ERROR"), (path, body)


async def _validate(api: Api, token: str, code: str) -> dict[str, Any]:
    response = await api.client.post(
        "/api/programs/validate", json={"code": code}, headers=api.bearer(token)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_validate_reports_lines(api: Api) -> None:
    _, token = await api.user()
    assert await _validate(api, token, RSI_PROGRAM) == {"valid": True, "errors": []}

    syntax = await _validate(api, token, "class Strategy:\n    def should_trade(self, data)\n")
    assert syntax["valid"] is False
    assert syntax["errors"][0]["line"] == 2 and "syntax error" in syntax["errors"][0]["message"]

    missing = await _validate(api, token, "x = 1\n")
    assert missing["valid"] is False and "class Strategy" in missing["errors"][0]["message"]

    hostile = strategy("import os\nreturn ().__class__.__mro__", imports="import socket")
    result = await _validate(api, token, hostile)
    assert result["valid"] is False
    by_line = {(e["line"], e["message"].split(" ")[0]) for e in result["errors"]}
    assert (1, "import") in by_line  # socket
    assert (4, "import") in by_line  # os, inside should_trade
    assert (5, "attribute") in by_line  # __class__ and __mro__


async def test_dev_guide_documents_the_data_api(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.get("/api/programs/dev-guide", headers=api.bearer(token))
    guide = response.json()["guide"]
    for name in (
        "get_price",
        "get_klines",
        "get_indicator",
        "get_positions",
        "get_balance",
        "get_regime",
        "get_factor",
        "log",
        "trigger",
        "Decision",
        "size_pct",
    ):
        assert name in guide, name


async def test_test_run_returns_a_pipeline_decision(api: Api) -> None:
    _, token = await api.user()
    program = await _create(api, token, params={"oversold": 101, "symbol": "ETH"})
    response = await api.client.post(
        "/api/programs/test-run",
        json={"program_id": program["id"], "symbol": "ETH"},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["status"] == "ok", run
    [decision] = run["result"]["decisions"]
    assert decision["operation"] == "long" and decision["symbol"] == "ETH"
    assert decision["size_fraction"] == 0.1 and decision["leverage"] == 2
    assert run["logs"][0].startswith("rsi ") and "candles 50" in run["logs"][0]
    assert isinstance(run["execution_time_ms"], int)
    # The same answer parses into the pipeline's Decision.
    [parsed] = parse_model_output('{"operation": "long", "symbol": "ETH", "size_pct": 10}')
    assert parsed.size_fraction is not None and str(parsed.size_fraction) == "0.1"


async def test_test_run_with_an_account_sees_its_book(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, max_leverage=7)
    code = strategy(
        "b = data.get_balance()\n"
        "data.log(b['available'] > 0, data.max_leverage, data.get_positions(), data.trigger_type)\n"
        "return Decision('hold', 'BTC')"
    )
    program = await _create(api, token, code=code)
    response = await api.client.post(
        "/api/programs/test-run",
        json={"program_id": program["id"], "account_id": trader["id"], "symbol": "BTC"},
        headers=api.bearer(token),
    )
    run = response.json()
    assert run["status"] == "ok", run
    assert run["logs"] == ["True 7 {} preview"]


async def test_test_run_refuses_other_users_programs_and_accounts(api: Api) -> None:
    _, token = await api.user()
    _, other = await api.user()
    mine = await _create(api, token)
    theirs = await _create(api, other)
    their_trader = await create_trader(api, other)
    response = await api.client.post(
        "/api/programs/test-run", json={"program_id": theirs["id"]}, headers=api.bearer(token)
    )
    assert_error(response, 403, "FORBIDDEN")
    response = await api.client.post(
        "/api/programs/test-run",
        json={"program_id": mine["id"], "account_id": their_trader["id"]},
        headers=api.bearer(token),
    )
    assert_error(response, 403, "FORBIDDEN")
