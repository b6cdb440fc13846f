"""A user's custom factors where built-ins are read in a cycle: ``data.get_factor`` in
programs and ``{factor_values}`` in prompts. Only the owner's: another user's factor of
the same name never resolves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.programs.programs import strategy


@pytest.fixture
async def factor_api(make_settings: Callable[..., Settings]) -> AsyncIterator[Api]:
    app: FastAPI = create_app(make_settings(factor_engine="enabled", factor_refresh_minutes=0))
    async with running(app), asgi_client(app) as client:
        yield Api(client)


async def _factor(api: Api, token: str, name: str, expression: str) -> None:
    response = await api.client.post(
        "/api/factors/custom",
        json={"name": name, "expression": expression},
        headers=api.bearer(token),
    )
    assert response.status_code == 201, response.text


async def _logs(api: Api, token: str, code: str) -> list[str]:
    made = await api.client.post(
        "/api/programs/", json={"name": "factors", "code": code}, headers=api.bearer(token)
    )
    assert made.status_code == 201, made.text
    run = await api.client.post(
        "/api/programs/test-run",
        json={"program_id": made.json()["id"], "symbol": "BTC"},
        headers=api.bearer(token),
    )
    assert run.status_code == 200, run.text
    assert run.json()["status"] == "ok", run.json().get("error")
    return list(run.json()["logs"])


READ_MINE = strategy(
    "data.log(repr(data.get_factor('BTC', 'my_roc')), repr(data.get_factor('BTC', 'roc_5')),\n"
    "         repr(data.get_factor('BTC', 'my_half')))\n"
    "return Decision('hold', 'BTC')"
)


async def test_a_program_reads_its_owners_custom_factors_only(factor_api: Api) -> None:
    api = factor_api
    _, owner = await api.user()
    _, stranger = await api.user()
    # The same arithmetic as the built-in roc_5, and a factor built on a built-in.
    await _factor(api, owner, "my_roc", "roc(close, 5)")
    await _factor(api, owner, "my_half", "roc_5 / 2")
    [line] = await _logs(api, owner, READ_MINE)
    mine, builtin, half = (None if v == "None" else float(v) for v in line.split(" "))
    assert builtin is not None and mine == builtin
    assert half == pytest.approx(builtin / 2, rel=1e-12)
    # Another user reads the same names: nothing, whatever the owner defined.
    [line] = await _logs(api, stranger, READ_MINE)
    assert line.split(" ")[0] == "None" and line.split(" ")[2] == "None"
    # Their own factor of the same name is theirs alone.
    await _factor(api, stranger, "my_roc", "0 - roc(close, 5)")
    [line] = await _logs(api, stranger, READ_MINE)
    assert float(line.split(" ")[0]) == -float(line.split(" ")[1])


async def _factor_values(api: Api, token: str) -> dict[str, str]:
    trader = await create_trader(api, token)
    response = await api.client.post(
        "/api/prompts/preview",
        json={"account_id": trader["id"], "content": "{factor_values}", "symbols": ["BTC"]},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    [line] = [x for x in response.json()["rendered"].splitlines() if x.startswith("BTC")]
    pairs = line.split(": ", 1)[1].split(", ")
    return dict(pair.rsplit(" ", 1) for pair in pairs)


async def test_the_prompt_variable_shows_the_trader_owners_custom_factors(
    factor_api: Api,
) -> None:
    api = factor_api
    _, owner = await api.user()
    _, stranger = await api.user()
    await _factor(api, owner, "my_roc", "roc(close, 5)")
    mine = await _factor_values(api, owner)
    assert list(mine)[-1] == "my_roc"  # after the documented built-ins
    assert mine["my_roc"] == mine["roc_5"] and mine["roc_5"] != "n/a"
    theirs = await _factor_values(api, stranger)
    assert "my_roc" not in theirs and "roc_5" in theirs
