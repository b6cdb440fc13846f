"""Program traders run through the one decision pipeline: the program's Decision is
parsed, risk-checked, executed on the paper exchange and recorded like an LLM's."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update

from hyperoru.strategies.models import AccountStrategy
from tests.accounts.helpers import create_trader
from tests.helpers import Api
from tests.programs.programs import RSI_PROGRAM, strategy


async def _program(api: Api, token: str, code: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "prog", "code": code, **fields}
    response = await api.client.post("/api/programs/", json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def _program_trader(api: Api, token: str, program_id: int) -> dict[str, Any]:
    trader = await create_trader(api, token, account_type="program", max_leverage=3)
    response = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC"], "program_id": program_id},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    return trader


async def _trigger(api: Api, token: str, trader_id: int) -> dict[str, Any]:
    response = await api.client.post(f"/api/account/{trader_id}/trigger", headers=api.bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_program_decision_is_executed_and_recorded(api: Api) -> None:
    _, token = await api.user()
    program = await _program(api, token, RSI_PROGRAM, name="RSI", params={"oversold": 101})
    trader = await _program_trader(api, token, program["id"])

    record = await _trigger(api, token, trader["id"])

    assert record["status"] == "ok" and record["error"] is None, record
    assert record["strategy_type"] == "program"
    assert record["model"] == f"program:{program['id']}:RSI"
    assert record["operation"] == "long" and record["symbol"] == "BTC"
    [outcome] = record["outcomes"]
    assert outcome["approved"] is True and outcome["execution_status"] == "filled"
    assert record["executed"] is True and record["order_ids"]
    assert record["reasoning"].startswith("RSI ")
    raw = json.loads(record["raw_output"])
    assert raw["logs"][0].startswith("rsi ")
    # What the program saw is recorded as the cycle's input.
    assert set(json.loads(record["rendered_prompt"])["prices"]) == {"BTC"}

    positions = await api.client.get(
        f"/api/account/{trader['id']}/positions", headers=api.bearer(token)
    )
    assert positions.status_code == 200
    assert [p["symbol"] for p in positions.json()] == ["BTC"]


async def test_the_risk_rules_apply_to_programs(api: Api) -> None:
    _, token = await api.user()
    code = strategy("return Decision('long', 'BTC', leverage=50, size_pct=10)")
    trader = await _program_trader(api, token, (await _program(api, token, code))["id"])
    record = await _trigger(api, token, trader["id"])
    [outcome] = record["outcomes"]
    assert outcome["approved"] is False and "leverage" in outcome["reason"]
    assert record["executed"] is False


async def test_a_failing_program_is_a_failed_cycle(api: Api) -> None:
    _, token = await api.user()
    code = strategy("return 1 / 0")
    trader = await _program_trader(api, token, (await _program(api, token, code))["id"])
    record = await _trigger(api, token, trader["id"])
    assert record["status"] == "failed"
    assert "ZeroDivisionError (line 4)" in record["error"]


async def test_another_users_program_is_never_run(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    _, other = await api.user()
    theirs = await _program(api, other, RSI_PROGRAM)
    mine = await _program(api, token, RSI_PROGRAM)
    trader = await _program_trader(api, token, mine["id"])
    # The API refuses to bind it...
    refused = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"program_id": theirs["id"]},
        headers=api.bearer(token),
    )
    assert refused.status_code == 403, refused.text
    # ...and a row that names it anyway (written behind the API's back) is never run.
    async with app.state.services.sessionmaker() as session:
        await session.execute(
            update(AccountStrategy)
            .where(AccountStrategy.account_id == trader["id"])
            .values(program_id=theirs["id"])
        )
        await session.commit()
    record = await _trigger(api, token, trader["id"])
    assert record["status"] == "failed" and "another user" in record["error"]
    assert record["decisions"] == []


async def test_a_live_program_cannot_move_or_reach_past_what_it_was_given(api: Api) -> None:
    """Issue 15, finding 4, live: ``data`` is read-only and holds nothing after now."""
    _, token = await api.user()
    writes = strategy("data.bar = -1\nreturn Decision('hold')")
    trader = await _program_trader(api, token, (await _program(api, token, writes))["id"])
    record = await _trigger(api, token, trader["id"])
    assert record["status"] == "failed"
    assert (
        "AttributeError (line 4): data is read-only: data.bar cannot be assigned"
        in (record["error"])
    )

    private = strategy("return data._payload['klines']")
    trader = await _program_trader(api, token, (await _program(api, token, private))["id"])
    record = await _trigger(api, token, trader["id"])
    assert record["status"] == "failed"
    assert "attribute '_payload' is not allowed" in record["error"]

    reads = strategy(
        "rows = data.get_klines('BTC', '1h', 10**6)\n"
        "rows.append({'time': '9999'})\n"
        "again = data.get_klines('BTC', '1h', 10**6)\n"
        "data.log(len(rows) - 1 == len(again), again[-1]['time'] <= data.now,\n"
        "         data.get_klines('BTC', '1h', -1), data.get_indicator('DOGE', 'sma', 20))\n"
        "return Decision('hold')"
    )
    trader = await _program_trader(api, token, (await _program(api, token, reads))["id"])
    record = await _trigger(api, token, trader["id"])
    assert record["status"] == "ok", record
    assert json.loads(record["raw_output"])["logs"] == ["True True [] None"]
