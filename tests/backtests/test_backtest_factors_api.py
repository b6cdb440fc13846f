"""``data.get_factor`` in a submitted backtest: the owner's custom factors, frozen at
submit (editing the factor later does not change what the job runs), never another
user's; reruns keep the fingerprint."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.backtests.models import Backtest
from hyperoru.settings import Settings
from tests.backtests.support import create_program, request_body, settled, submit
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.programs.programs import strategy

# Trades on the owner's factor, and logs it next to the built-in it copies.
ON_MY_FACTOR = strategy(
    "mine, builtin = data.get_factor('BTC', 'my_roc'), data.get_factor('BTC', 'roc_5')\n"
    "data.log(repr(mine), repr(builtin))\n"
    "if mine is not None and mine > 0:\n"
    "    return Decision('long', 'BTC', size_pct=20)\n"
    "if mine is not None and mine < 0 and data.get_positions():\n"
    "    return Decision('close', 'BTC')\n"
    "return None"
)


@pytest.fixture
async def world(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[FastAPI, Api]]:
    app = create_app(make_settings(factor_engine="enabled", factor_refresh_minutes=0))
    async with running(app), asgi_client(app) as client:
        yield app, Api(client)


async def _backtest(api: Api, token: str) -> dict:
    program_id = await create_program(api, token, ON_MY_FACTOR)
    queued = await submit(api, token, request_body(program_id))
    done = await settled(api, token, queued["id"])
    assert done["status"] == "completed", done
    return done


async def test_a_backtest_reads_the_owners_custom_factor_frozen_at_submit(
    world: tuple[FastAPI, Api],
) -> None:
    app, api = world
    _, owner = await api.user()
    _, stranger = await api.user()
    made = await api.client.post(
        "/api/factors/custom",
        json={"name": "my_roc", "expression": "roc(close, 5)"},
        headers=api.bearer(owner),
    )
    assert made.status_code == 201, made.text

    done = await _backtest(api, owner)
    pairs = [line.split(" ") for line in done["logs"]]
    assert len(pairs) == 72
    assert pairs[-1][0] != "None" and all(mine == builtin for mine, builtin in pairs)
    assert done["total_trades"] > 0
    async with app.state.services.sessionmaker() as session:
        stored = await session.get(Backtest, done["id"])
        assert stored is not None
        assert stored.replay_settings["factors"] == {"my_roc": "roc(close, 5)"}

    # Edited afterwards: a new run reads the new expression, the old one's stays frozen.
    edited = await api.client.put(
        f"/api/factors/custom/{made.json()['id']}",
        json={"expression": "0 - roc(close, 5)"},
        headers=api.bearer(owner),
    )
    assert edited.status_code == 200, edited.text
    after = await _backtest(api, owner)
    flipped = [line.split(" ") for line in after["logs"]]
    assert flipped[-1][0] == repr(-float(flipped[-1][1]))
    assert after["fingerprint"] != done["fingerprint"]
    async with app.state.services.sessionmaker() as session:
        stored = await session.get(Backtest, done["id"])
        assert stored is not None
        assert stored.replay_settings["factors"] == {"my_roc": "roc(close, 5)"}

    # Another user's backtest of the same program: the name resolves to nothing.
    theirs = await _backtest(api, stranger)
    assert all(line.split(" ")[0] == "None" for line in theirs["logs"])
    assert theirs["logs"][-1].split(" ")[1] != "None" and theirs["total_trades"] == 0

    # The same inputs again: the same trades.
    edited_back = await api.client.put(
        f"/api/factors/custom/{made.json()['id']}",
        json={"expression": "roc(close, 5)"},
        headers=api.bearer(owner),
    )
    assert edited_back.status_code == 200
    rerun = await _backtest(api, owner)
    assert rerun["fingerprint"] == done["fingerprint"] and rerun["trades"] == done["trades"]
