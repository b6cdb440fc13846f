"""/api/factors end to end on SQLite and PostgreSQL: the switch, custom factors with their
owner checks, hostile expressions through the API, evaluation and effectiveness runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from hyperoru.app import create_app
from hyperoru.auth.models import User
from hyperoru.factors import runs
from hyperoru.jobs.models import Job
from hyperoru.market.providers.base import MarketDataUnavailable
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error
from tests.market.waiting import eventually

ENABLED = {
    "factor_engine": "enabled",
    "factor_symbols": "BTC,ETH,SOL",
    "factor_lookback_days": 7,
    "factor_refresh_minutes": 0,
    "jobs_poll_seconds": 0.05,
}


@pytest.fixture
async def world(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[FastAPI, Api]]:
    app = create_app(make_settings(**ENABLED))
    async with running(app), asgi_client(app) as client:
        yield app, Api(client)


async def _user(api: Api) -> tuple[httpx.AsyncClient, dict[str, str]]:
    _, token = await api.user()
    return api.client, api.bearer(token)


async def test_every_route_answers_403_while_the_engine_is_off(api: Api) -> None:
    client, auth = await _user(api)
    for method, path in (
        ("GET", "/api/factors"),
        ("GET", "/api/factors/custom"),
        ("POST", "/api/factors/custom"),
        ("GET", "/api/factors/effectiveness"),
        ("GET", "/api/factors/effectiveness/roc_5/history"),
    ):
        body = {"name": "x", "expression": "close"} if method == "POST" else None
        response = await client.request(method, path, json=body, headers=auth)
        assert_error(response, 403, "FACTOR_ENGINE_DISABLED")
    # Still authenticated first: no token is 401, not a hint about the engine.
    assert (await client.get("/api/factors")).status_code == 401


async def test_catalogue_lists_64_builtins_then_own_factors(world: tuple[FastAPI, Api]) -> None:
    _app, api = world
    client, auth = await _user(api)
    created = await client.post(
        "/api/factors/custom", json={"name": "mine", "expression": "close / open"}, headers=auth
    )
    assert created.status_code == 201
    listed = (await client.get("/api/factors", headers=auth)).json()
    builtins = [f for f in listed if f["source"] == "builtin"]
    assert len(builtins) == 64
    assert {f["category"] for f in builtins} == {
        "trend",
        "momentum",
        "volatility",
        "volume",
        "statistical",
        "composite",
    }
    by_name = {f["name"]: f for f in listed}
    assert by_name["trend_ema_cross"]["expression"] == "ema(20) / ema(50) - 1"
    assert by_name["trend_ema_cross"]["documented"] is True
    assert by_name["mine"] == {
        "id": created.json()["id"],
        "name": "mine",
        "category": "custom",
        "expression": "close / open",
        "description": None,
        "source": "custom",
        "documented": False,
    }


async def test_custom_factor_crud_in_every_documented_shape(world: tuple[FastAPI, Api]) -> None:
    _app, api = world
    client, auth = await _user(api)
    # The reference's shape.
    first = await client.post(
        "/api/factors/custom",
        json={
            "name": "vol_momentum",
            "expression": "volume_change * momentum_1d",
            "description": "volume times momentum",
        },
        headers=auth,
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert {"id", "name", "expression", "created_at", "category", "source"} <= set(body)
    assert body["created_at"].endswith("Z")
    # The feature page's route and shape (its user_id is ignored: the caller owns it).
    second = await client.post(
        "/api/factors",
        json={
            "name": "my_momentum",
            "expression": "roc(close, 10) * (volume / sma(volume, 20))",
            "description": "Volume-weighted 10-period momentum",
            "user_id": "your-user-id",
        },
        headers=auth,
    )
    assert second.status_code == 201 and second.json()["user_id"] == body["user_id"]
    # The typed reference's shape: no name, one is made from the expression.
    third = await client.post(
        "/api/factors/custom",
        json={"context": {}, "expression": "rsi(14) / 100", "symbol": "BTC"},
        headers=auth,
    )
    assert third.status_code == 201 and third.json()["name"].startswith("custom_")

    listed = (await client.get("/api/factors/custom", headers=auth)).json()
    assert [f["name"] for f in listed] == ["vol_momentum", "my_momentum", third.json()["name"]]

    updated = await client.put(
        f"/api/factors/custom/{body['id']}",
        json={"expression": "volume_change * momentum_1d * 1.5"},
        headers=auth,
    )
    assert updated.status_code == 200
    assert updated.json()["expression"] == "volume_change * momentum_1d * 1.5"
    assert updated.json()["name"] == "vol_momentum"
    got = await client.get(f"/api/factors/custom/{body['id']}", headers=auth)
    assert got.json()["expression"] == "volume_change * momentum_1d * 1.5"

    deleted = await client.delete(f"/api/factors/custom/{body['id']}", headers=auth)
    assert deleted.status_code == 200 and deleted.json() == {"status": "ok"}
    missing = await client.get(f"/api/factors/custom/{body['id']}", headers=auth)
    assert_error(missing, 404, "FACTOR_NOT_FOUND")


async def test_owner_checks_names_and_limits(world: tuple[FastAPI, Api]) -> None:
    _app, api = world
    client, alice = await _user(api)
    _, bob = await _user(api)
    made = await client.post(
        "/api/factors/custom", json={"name": "secret", "expression": "close"}, headers=alice
    )
    factor_id = made.json()["id"]
    for method in ("GET", "PUT", "DELETE"):
        body = {"expression": "open"} if method == "PUT" else None
        response = await client.request(
            method, f"/api/factors/custom/{factor_id}", json=body, headers=bob
        )
        assert_error(response, 403, "FORBIDDEN")
    assert (await client.get("/api/factors/custom", headers=bob)).json() == []
    # Bob may use the same name for his own factor; Alice may not twice.
    again = {"name": "secret", "expression": "open"}
    assert (await client.post("/api/factors/custom", json=again, headers=bob)).status_code == 201
    dup = await client.post("/api/factors/custom", json=again, headers=alice)
    assert_error(dup, 409, "FACTOR_NAME_TAKEN")
    for taken in ("roc_5", "ema", "close"):
        clash = await client.post(
            "/api/factors/custom", json={"name": taken, "expression": "close"}, headers=alice
        )
        assert_error(clash, 409, "FACTOR_NAME_TAKEN")
    bad_name = await client.post(
        "/api/factors/custom", json={"name": "Bad Name", "expression": "close"}, headers=alice
    )
    assert_error(bad_name, 400, "VALIDATION_ERROR")
    no_expression = await client.post("/api/factors/custom", json={"name": "x"}, headers=alice)
    assert_error(no_expression, 400, "VALIDATION_ERROR")
    assert_error(
        await client.get("/api/factors/custom/999999", headers=alice), 404, "FACTOR_NOT_FOUND"
    )


HOSTILE = [
    "close.__class__.__mro__",
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "eval('1')",
    "exec('x=1')",
    "getattr(close, 'real')",
    "close.real",
    "open('/etc/passwd')",
    "lambda x: x",
    "[x for x in close]",
    "{1: 2}",
    "close if 1 else 2",
    "(" * 5000 + "1" + ")" * 5000,
    "-" * 800 + "1",
    "abs(" * 100 + "close" + ")" * 100,
    "1" * 400,
    "9" * 20 + "e9",
    "1e308 * 1e308",
    "ema(close, 99999999)",
    "sma(close, -1)",
    "close +" * 150 + "close",
    "+".join(["close"] * 999),
    "close \u0000",
    "close\N{FULLWIDTH FULL STOP}real",
    "clos\u0435",  # a Cyrillic e
    "+".join(f"hurst(close, {2000 - i})" for i in range(100)),  # too much work
]


@pytest.mark.parametrize("expression", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_expressions_are_refused_with_a_position(
    world: tuple[FastAPI, Api], expression: str
) -> None:
    _app, api = world
    client, auth = await _user(api)
    for path, body in (
        ("/api/factors/custom", {"name": "evil", "expression": expression}),
        ("/api/factors/evaluate", {"expression": expression, "symbol": "BTC"}),
    ):
        response = await client.post(path, json=body, headers=auth)
        if response.status_code == 400:
            # Over the body model's bound, or text that is not text (U+0000): refused
            # before the parser, still in the contract's shape.
            code = response.json()["code"]
            assert code in ("VALIDATION_ERROR", "INVALID_JSON")
            assert_error(response, 400, code)
            continue
        error = assert_error(response, 422, "INVALID_FACTOR_EXPRESSION")
        assert isinstance(error["details"]["position"], int)
        assert 0 <= error["details"]["position"] <= len(expression)
    assert (await client.get("/api/factors/custom", headers=auth)).json() == []


async def test_evaluate_answers_values_and_null_for_undefined(world: tuple[FastAPI, Api]) -> None:
    _app, api = world
    client, auth = await _user(api)
    response = await client.post(
        "/api/factors/evaluate",
        json={"expression": "ema(close, 5) / close - 1", "symbols": ["btc", "ETH"], "bars": 20},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["canonical"] == "((ema(close, 5) / close) - 1)"
    assert [s["symbol"] for s in body["series"]] == ["BTC", "ETH"]
    for series in body["series"]:
        assert len(series["values"]) == len(series["times"]) == 20
        assert all(isinstance(v, float) for v in series["values"])
        assert series["latest"] == series["values"][-1]
    zero = await client.post(
        "/api/factors/evaluate",
        json={"expression": "close / (high - high) + 1 / 0", "symbol": "BTC", "bars": 5},
        headers=auth,
    )
    assert zero.status_code == 200
    assert zero.json()["series"][0]["values"] == [None] * 5  # JSON null, never NaN or inf
    unknown = await client.post(
        "/api/factors/evaluate", json={"expression": "close", "symbol": "NOPE"}, headers=auth
    )
    assert_error(unknown, 400, "VALIDATION_ERROR")


async def test_evaluate_answers_503_while_the_market_cannot_answer(
    world: tuple[FastAPI, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, api = world
    client, auth = await _user(api)

    async def down(*_args: object, **_kwargs: object) -> None:
        raise MarketDataUnavailable("the candle source is down", retry_after=7)

    monkeypatch.setattr(app.state.services.market.provider, "candles", down)
    response = await client.post(
        "/api/factors/evaluate", json={"expression": "close", "symbol": "BTC"}, headers=auth
    )
    assert_error(response, 503, "MARKET_DATA_UNAVAILABLE")
    assert response.headers["retry-after"] == "7"


async def _run(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    started = await client.post("/api/factors/effectiveness/compute", headers=auth)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == started.json()["status_url"]

    async def read() -> dict[str, Any]:
        response = await client.get(started.json()["status_url"], headers=auth)
        assert response.status_code == 200
        return response.json()

    return await eventually(read, lambda b: b["status"] in ("completed", "failed"), attempts=2400)


async def test_effectiveness_run_and_every_read(world: tuple[FastAPI, Api]) -> None:
    _app, api = world
    client, auth = await _user(api)
    _, other = await _user(api)
    await client.post(
        "/api/factors/custom", json={"name": "mine", "expression": "-roc(close, 3)"}, headers=auth
    )
    assert (await client.get("/api/factors/effectiveness", headers=auth)).json() == []
    not_ready = await client.get("/api/factors/effectiveness/roc_5/history", headers=auth)
    assert_error(not_ready, 404, "EFFECTIVENESS_NOT_READY")
    unknown = await client.get("/api/factors/effectiveness/nope/history", headers=auth)
    assert_error(unknown, 404, "FACTOR_NOT_FOUND")

    done = await _run(client, auth)
    assert done["status"] == "completed", done
    assert done["result"]["factors"] == 65 and done["result"]["symbols"] == ["BTC", "ETH", "SOL"]

    rows = (await client.get("/api/factors/effectiveness", headers=auth)).json()
    assert len(rows) == 65 and rows[-1]["factor_name"] == "mine"
    row = next(r for r in rows if r["factor_name"] == "momentum_1d")
    assert {"factor_name", "ic", "rank_ic", "win_rate", "icir", "kind"} <= set(row)
    assert row["kind"] == "time_series" and row["interval"] == "1h" and row["horizon_bars"] == 1
    assert -1 <= row["ic"] <= 1 and 0 <= row["win_rate"] <= 1 and row["periods"] > 0
    cross = (
        await client.get("/api/factors/effectiveness?kind=cross_sectional", headers=auth)
    ).json()
    assert {r["kind"] for r in cross} == {"cross_sectional"}
    assert_error(
        await client.get("/api/factors/effectiveness?kind=weekly", headers=auth),
        400,
        "VALIDATION_ERROR",
    )
    # Another user sees the shared built-ins but not this user's factor.
    theirs = (await client.get("/api/factors/effectiveness", headers=other)).json()
    assert len(theirs) == 64 and "mine" not in {r["factor_name"] for r in theirs}
    assert_error(
        await client.get("/api/factors/effectiveness/mine/history", headers=other),
        404,
        "FACTOR_NOT_FOUND",
    )

    history = (await client.get("/api/factors/effectiveness/mine/history", headers=auth)).json()
    assert history and all({"date", "ic", "rank_ic", "kind"} <= set(h) for h in history)
    assert [h["date"] for h in history] == sorted(h["date"] for h in history)
    windows = (await client.get("/api/factors/effectiveness/roc_5/by-window", headers=auth)).json()
    assert [w["window"] for w in windows] == ["7d", "30d", "90d", "365d"]
    detail = (await client.get("/api/factors/effectiveness/roc_5", headers=auth)).json()
    assert set(detail["per_symbol"]) == {"BTC", "ETH", "SOL"}
    assert detail["decay"]["horizons"] == list(range(1, 13))
    assert detail["other"]["kind"] == "cross_sectional"

    # Changing the expression forgets the stale numbers.
    mine = (await client.get("/api/factors/custom", headers=auth)).json()[0]
    await client.put(
        f"/api/factors/custom/{mine['id']}", json={"expression": "roc(close, 3)"}, headers=auth
    )
    assert_error(
        await client.get("/api/factors/effectiveness/mine/history", headers=auth),
        404,
        "EFFECTIVENESS_NOT_READY",
    )


async def test_the_schedule_queues_one_shared_run_under_the_first_admin(
    world: tuple[FastAPI, Api],
) -> None:
    app, api = world
    sessionmaker = app.state.services.sessionmaker
    every = timedelta(minutes=60)
    now = utcnow()
    assert await runs.schedule_once(sessionmaker, every, now) is None  # no users yet
    user, _ = await api.user()
    admin, _ = await api.user()
    async with sessionmaker() as session:
        await session.execute(update(User).where(User.id == admin["id"]).values(is_admin=True))
        await session.commit()
    job = await runs.schedule_once(sessionmaker, every, now)
    assert job is not None and job.owner_id == admin["id"] and job.kind == runs.KIND
    assert job.params == {"user_id": None, "everyone": True}
    # Queued or recently made: not again within the interval, again after it.
    assert await runs.schedule_once(sessionmaker, every, now) is None
    async with sessionmaker() as session:
        await session.execute(update(Job).where(Job.id == job.id).values(status="completed"))
        await session.commit()
    assert await runs.schedule_once(sessionmaker, every, now + every / 2) is None
    later = await runs.schedule_once(sessionmaker, every, now + every * 2)
    assert later is not None and later.id != job.id
    assert user["id"] != admin["id"]


def test_the_documented_switch_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value, expected in (
        ("FACTOR_ENGINE_ENABLED", "true", "enabled"),
        ("FACTOR_ENGINE_ENABLED", "false", "disabled"),
        ("HYPERORU_FACTOR_ENGINE", "enabled", "enabled"),
        ("HYPERORU_FACTOR_ENGINE", "disabled", "disabled"),
    ):
        monkeypatch.delenv("FACTOR_ENGINE_ENABLED", raising=False)
        monkeypatch.delenv("HYPERORU_FACTOR_ENGINE", raising=False)
        monkeypatch.setenv(name, value)
        assert Settings(_env_file=None).factor_engine == expected  # type: ignore[call-arg]
    monkeypatch.setenv("HYPERORU_FACTOR_ENGINE", "sometimes")
    with pytest.raises(ValueError, match=r"enabled.*disabled"):
        Settings(_env_file=None)  # type: ignore[call-arg]
