"""Guides send ids such as ``"program-uuid"``: this server's ids are integers, and a
string where one is expected is the contract's 400 VALIDATION_ERROR (a wrong type, §2)
naming the field and saying that an integer id is expected, in a body, a query or a path."""

from __future__ import annotations

from typing import Any

import httpx

from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error


def _says_integer_id(response: httpx.Response, field: str, sent: str) -> dict[str, Any]:
    body = assert_error(response, 400, "VALIDATION_ERROR")
    [problem] = [f for f in body["details"]["fields"] if f["field"] == field]
    assert "must be an integer id" in problem["message"] and sent in problem["message"]
    assert body["message"].startswith(f"{field}: must be an integer id")
    return body


async def test_a_string_id_in_a_body_names_the_field(api: Api) -> None:
    _, token = await api.user()
    headers = api.bearer(token)
    run = await api.client.post(
        "/api/programs/test-run", json={"program_id": "program-uuid"}, headers=headers
    )
    _says_integer_id(run, "program_id", "program-uuid")
    backtest = await api.client.post(
        "/api/backtests",
        json={
            "program_id": "program-uuid",
            "config": {
                "symbols": ["BTC"],
                "start_date": "2025-01-01T00:00:00Z",
                "end_date": "2025-06-01T00:00:00Z",
            },
        },
        headers=headers,
    )
    _says_integer_id(backtest, "program_id", "program-uuid")
    trader = await create_trader(api, token)
    strategy = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"signal_pool_ids": [1, "pool-uuid"]},
        headers=headers,
    )
    _says_integer_id(strategy, "signal_pool_ids.1", "pool-uuid")


async def test_a_string_id_in_a_path_or_query_names_the_parameter(api: Api) -> None:
    _, token = await api.user()
    headers = api.bearer(token)
    path = await api.client.get("/api/account/trader-uuid", headers=headers)
    _says_integer_id(path, "account_id", "trader-uuid")
    trader = await create_trader(api, token)
    query = await api.client.post(
        f"/api/account/{trader['id']}/trigger", params={"binding_id": "b-1"}, headers=headers
    )
    _says_integer_id(query, "binding_id", "b-1")


async def test_other_type_errors_keep_their_own_message(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.post(
        "/api/account/", json={"name": "x", "max_leverage": "lots"}, headers=api.bearer(token)
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "integer id" not in body["message"] and "max_leverage" in body["message"]
