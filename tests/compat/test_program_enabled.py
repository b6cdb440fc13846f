"""The programs page's ``enabled`` field: accepted on create and update, stored and
returned (true unless sent), and a disabled program is not run by its traders' cycles,
which are recorded as failed saying so; turned back on, it runs again."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from hyperoru.programs.models import Program
from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error
from tests.programs.programs import RSI_PROGRAM, strategy


async def _create(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "Grid Bot", "code": RSI_PROGRAM, **fields}
    response = await api.client.post("/api/programs", json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def test_enabled_is_stored_and_returned(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    headers = api.bearer(token)
    default = await _create(api, token)
    off = await _create(api, token, enabled=False)
    assert default["enabled"] is True and off["enabled"] is False

    listed = await api.client.get("/api/programs/", headers=headers)
    assert [(p["id"], p["enabled"]) for p in listed.json()] == [
        (default["id"], True),
        (off["id"], False),
    ]
    path = f"/api/programs/{default['id']}"
    changed = await api.client.put(path, json={"enabled": False}, headers=headers)
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert changed.json()["code"] == RSI_PROGRAM  # nothing else changed
    untouched = await api.client.put(path, json={"name": "renamed"}, headers=headers)
    assert untouched.json()["enabled"] is False  # absent: unchanged
    assert (await api.client.get(path, headers=headers)).json()["enabled"] is False
    async with app.state.services.sessionmaker() as session:
        stored = await session.get(Program, default["id"])
        assert stored is not None and stored.enabled is False

    wrong = await api.client.put(path, json={"enabled": "maybe"}, headers=headers)
    body = assert_error(wrong, 400, "VALIDATION_ERROR")
    assert body["details"]["fields"][0]["field"] == "enabled"


async def test_a_disabled_program_is_not_run_by_its_trader(api: Api) -> None:
    _, token = await api.user()
    headers = api.bearer(token)
    program = await _create(api, token, code=strategy("return Decision('hold', 'BTC')"))
    trader = await create_trader(api, token, account_type="program")
    bound = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC"], "program_id": program["id"]},
        headers=headers,
    )
    assert bound.status_code == 200, bound.text
    trigger = f"/api/account/{trader['id']}/trigger"

    await api.client.put(f"/api/programs/{program['id']}", json={"enabled": False}, headers=headers)
    record = (await api.client.post(trigger, headers=headers)).json()
    assert record["status"] == "failed" and record["error"] is not None
    assert f"program {program['id']} is disabled" in record["error"]

    await api.client.put(f"/api/programs/{program['id']}", json={"enabled": True}, headers=headers)
    record = (await api.client.post(trigger, headers=headers)).json()
    assert record["status"] == "ok" and record["operation"] == "hold", record
