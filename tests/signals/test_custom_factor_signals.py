"""A user's custom factors in signals (``indicator: "factor:<name>"``): accepted for the
owner only, evaluated by the owner's expression in the live runtime and in backtest
replays, never by another user's factor of the same name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select

from hyperoru.app import create_app, replace_services
from hyperoru.factors.lines import builtin_line
from hyperoru.settings import Settings
from hyperoru.signals.config import ConfigError, parse_config
from hyperoru.signals.domain import signal_runtime_for
from hyperoru.signals.evaluator import Frame, evaluate
from hyperoru.signals.history import PoolSnapshot
from hyperoru.signals.models import SignalDefinition, SignalPool, SignalPoolRuntime
from hyperoru.timeutils import utcnow
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error
from tests.signals.market import CandleMarket
from tests.signals.paths import OVERSOLD_PATH, candles

FALLING = {"indicator": "factor:my_move", "operator": "<", "threshold": 0}


@pytest.fixture
async def factor_world(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[FastAPI, Api, CandleMarket]]:
    app = create_app(make_settings(factor_engine="enabled", factor_refresh_minutes=0))
    market = CandleMarket()
    market.set_closes("BTC", OVERSOLD_PATH)
    async with running(app), asgi_client(app) as client:
        replace_services(app, market=market.runtime())
        await market.set("BTC", str(OVERSOLD_PATH[-1]))
        yield app, Api(client), market


async def _factor(api: Api, token: str, name: str, expression: str) -> None:
    response = await api.client.post(
        "/api/factors/custom",
        json={"name": name, "expression": expression},
        headers=api.bearer(token),
    )
    assert response.status_code == 201, response.text


def test_a_spec_carries_the_owners_expression() -> None:
    mine = parse_config("threshold", FALLING, {"my_move": "roc(close, 5)"})
    theirs = parse_config("threshold", FALLING, {"my_move": "0 - roc(close, 5)"})
    assert mine.indicator.expression == "roc(close, 5)"
    assert mine != theirs and mine.indicator.label == theirs.indicator.label
    # One frame shared by both owners' signals (the runtime shares frames across pools):
    # each reads its own line, never the other's cached under the same name.
    rows = candles(OVERSOLD_PATH)
    frame = Frame(rows, None)
    roc = builtin_line(
        "roc_5",
        open=frame.opens,
        high=frame.closed_high,
        low=frame.closed_low,
        close=frame.closed_close,
        volume=frame.volume,
    )
    assert evaluate(mine, frame).value == pytest.approx(float(roc[-1]))
    assert evaluate(theirs, frame).value == pytest.approx(-float(roc[-1]))
    with pytest.raises(ConfigError, match="custom factors"):
        parse_config("threshold", FALLING)  # without the owner's factors: unknown


async def test_only_the_owner_may_use_a_custom_factor_in_a_signal(
    factor_world: tuple[FastAPI, Api, CandleMarket],
) -> None:
    _app, api, _market = factor_world
    _, owner = await api.user()
    _, stranger = await api.user()
    await _factor(api, owner, "my_move", "roc(close, 5)")
    body = {"name": "dropping", "type": "threshold", "config": FALLING}
    made = await api.client.post("/api/signals/definitions", json=body, headers=api.bearer(owner))
    assert made.status_code == 201, made.text
    refused = await api.client.post(
        "/api/signals/definitions", json=body, headers=api.bearer(stranger)
    )
    error = assert_error(refused, 400, "VALIDATION_ERROR")
    assert [f["field"] for f in error["details"]["fields"]] == ["config.indicator"]
    inline = await api.client.post(
        "/api/signals/pools",
        json={"name": "p", "symbols": ["BTC"], "signals": [FALLING]},
        headers=api.bearer(stranger),
    )
    assert "custom factors" in assert_error(inline, 400, "VALIDATION_ERROR")["message"]


async def _condition(app: FastAPI, pool_id: int) -> dict[str, bool]:
    async with app.state.services.sessionmaker() as session:
        row = await session.scalar(
            select(SignalPoolRuntime).where(SignalPoolRuntime.pool_id == pool_id)
        )
    return dict(row.condition) if row is not None else {}


async def test_the_runtime_reads_each_owners_own_factor(
    factor_world: tuple[FastAPI, Api, CandleMarket],
) -> None:
    app, api, _market = factor_world
    _, owner = await api.user()
    _, stranger = await api.user()
    intruder, _ = await api.user()
    intruder_id = intruder["id"]
    # The same name, opposite expressions.
    await _factor(api, owner, "my_move", "roc(close, 5)")
    await _factor(api, stranger, "my_move", "0 - roc(close, 5)")
    pools = {}
    for who, token in (("owner", owner), ("stranger", stranger)):
        made = await api.client.post(
            "/api/signals/pools",
            json={"name": who, "symbols": ["BTC"], "signals": [FALLING]},
            headers=api.bearer(token),
        )
        assert made.status_code == 201, made.text
        pools[who] = made.json()["id"]
    # A user without such a factor, whose rows were written behind the API's back: the
    # name resolves to nobody else's factor, so the signal is skipped.
    now = utcnow()
    async with app.state.services.sessionmaker() as session:
        signal_id = (
            await session.execute(
                insert(SignalDefinition)
                .values(
                    user_id=intruder_id,
                    name="borrowed",
                    type="threshold",
                    config=FALLING,
                    enabled=True,
                    created_at=now,
                    updated_at=now,
                )
                .returning(SignalDefinition.id)
            )
        ).scalar_one()
        pool = SignalPool(
            user_id=intruder_id,
            name="borrowed",
            signal_ids=[signal_id],
            symbols=["BTC"],
            logic="and",
            enabled=True,
            cooldown_seconds=0,
            created_at=now,
            updated_at=now,
        )
        session.add(pool)
        await session.commit()
        pools["intruder"] = pool.id

    runtime = signal_runtime_for(app)
    assert await runtime.tick() == []  # the first look is the baseline, never a firing
    closes = np.array(OVERSOLD_PATH)
    falling = bool(closes[-1] / closes[-6] - 1 < 0)
    assert await _condition(app, pools["owner"]) == {"BTC": falling}
    assert await _condition(app, pools["stranger"]) == {"BTC": not falling}
    assert await _condition(app, pools["intruder"]) in ({}, {"BTC": False})


def test_a_backtest_snapshot_freezes_the_owners_expression() -> None:
    pool = SignalPool(
        id=5, user_id=1, name="p", signal_ids=[9], symbols=["BTC"], logic="and",
        cooldown_seconds=0,
    )  # fmt: skip
    definition = SignalDefinition(
        id=9, user_id=1, name="s", type="threshold", config=FALLING, enabled=True
    )
    snapshot = PoolSnapshot.of(pool, {9: definition}, {"my_move": "roc(close, 5)", "x": "close"})
    plain = snapshot.to_plain()
    assert plain["signals"][0]["custom_factors"] == {"my_move": "roc(close, 5)"}
    # Read back later (the user may have edited or deleted the factor since).
    rules = PoolSnapshot.from_plain(plain).rules()
    assert [s.spec.indicator.expression for s in rules.signals] == ["roc(close, 5)"]
    # A snapshot taken without the factor skips the signal, as the live runtime does.
    assert PoolSnapshot.of(pool, {9: definition}).rules().signals == ()
