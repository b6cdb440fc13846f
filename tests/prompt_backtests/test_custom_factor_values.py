"""``{factor_values}`` in a prompt backtest shows the owner's custom factors as they were
when the backtest was submitted (frozen with it), computed at each snapshot's moment."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.prompt_backtests.models import PromptBacktest
from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.prompt_backtests.helpers import own_prompt, snapshots, submit, wait_finished


@pytest.fixture
async def factor_world(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[FastAPI, Api]]:
    app = create_app(
        make_settings(factor_engine="enabled", factor_refresh_minutes=0, jobs_poll_seconds=0.1)
    )
    async with running(app), asgi_client(app) as client:
        yield app, Api(client)


def _values(rendered: str) -> dict[str, str]:
    [line] = [x for x in rendered.splitlines() if x.startswith("BTC")]
    return dict(pair.rsplit(" ", 1) for pair in line.split(": ", 1)[1].split(", "))


async def test_snapshots_show_the_owners_custom_factors(
    factor_world: tuple[FastAPI, Api],
) -> None:
    app, api = factor_world
    _, token = await api.user()
    made = await api.client.post(
        "/api/factors/custom",
        json={"name": "my_roc", "expression": "roc(close, 5)"},
        headers=api.bearer(token),
    )
    assert made.status_code == 201, made.text
    trader = await create_trader(api, token, llm_provider="builtin")
    prompt = await own_prompt(api, token, "{factor_values}\n{output_format}")
    task = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
    # Edited right after submit: the task still reads the expression it was given.
    await api.client.put(
        f"/api/factors/custom/{made.json()['id']}",
        json={"expression": "close"},
        headers=api.bearer(token),
    )
    assert (await wait_finished(api, token, task["id"]))["status"] == "completed"
    taken = await snapshots(api, token, task["id"])
    assert taken
    shown = [_values(s["rendered_prompt"]) for s in taken]
    assert all(list(v)[-1] == "my_roc" and v["my_roc"] == v["roc_5"] for v in shown)
    assert any(v["my_roc"] != "n/a" for v in shown)
    async with app.state.services.sessionmaker() as session:
        stored = await session.get(PromptBacktest, task["id"])
        assert stored is not None
        assert stored.replay_settings["factors"] == {"my_roc": "roc(close, 5)"}

    # Another user's backtest of the same template shows the built-ins only.
    _, stranger = await api.user()
    theirs = await create_trader(api, stranger, llm_provider="builtin")
    their_prompt = await own_prompt(api, stranger, "{factor_values}\n{output_format}")
    other = await submit(api, stranger, trader_id=theirs["id"], prompt_id=their_prompt["id"])
    assert (await wait_finished(api, stranger, other["id"]))["status"] == "completed"
    their_values = [
        _values(s["rendered_prompt"]) for s in await snapshots(api, stranger, other["id"])
    ]
    assert their_values and all("my_roc" not in v and "roc_5" in v for v in their_values)
