"""Factors where the platform uses them: signals (``indicator: "factor:<name>"``),
programs (``data.get_factor``) and prompts (``{factor_values}``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.factors.bars import bars_from_candles
from hyperoru.factors.catalogue import builtin_tree
from hyperoru.factors.evaluate import evaluate
from hyperoru.factors.lines import documented_names, latest_from_candles
from hyperoru.market.providers.base import Candle
from hyperoru.settings import Settings
from hyperoru.signals.config import ConfigError, parse_config
from hyperoru.signals.evaluator import Frame
from hyperoru.signals.evaluator import evaluate as evaluate_signal
from tests.accounts.helpers import create_trader
from tests.conftest import asgi_client, running
from tests.factors.data import random_bars
from tests.helpers import Api
from tests.programs.programs import strategy


def _candles(count: int = 300) -> list[Candle]:
    bars = random_bars(symbols=1, bars=count, seed=3)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Candle(
            start + timedelta(hours=i),
            *(
                Decimal(repr(float(getattr(bars, c)[0, i])))
                for c in ("open", "high", "low", "close", "volume")
            ),
        )
        for i in range(count)
    ]


def test_signal_reads_a_builtin_factor_on_closed_candles() -> None:
    candles = _candles()
    expected = evaluate(builtin_tree("roc_5"), bars_from_candles([("BTC", candles)]))[0]
    spec = parse_config(
        "threshold", {"indicator": "factor:roc_5", "operator": ">", "threshold": -1}
    )
    assert spec.indicator.label == "factor:roc_5"
    reading = evaluate_signal(spec, Frame(candles, price=123456.0))  # the live price is ignored
    assert reading.fired is True
    assert reading.value == pytest.approx(float(expected[-1]), rel=1e-12)
    crossing = parse_config(
        "crossover", {"indicator": "factor:rsi_factor", "operator": "crosses_above", "threshold": 0}
    )
    assert crossing.bars_needed() >= 100  # normalize over 100 bars after the RSI's warm-up
    for bad in ("factor:nope", "factor:", "factor:__class__"):
        with pytest.raises(ConfigError, match="built-in factor"):
            parse_config("threshold", {"indicator": bad, "operator": ">", "threshold": 0})


def test_latest_values_from_candles_match_the_evaluator() -> None:
    candles = _candles()
    values = latest_from_candles(candles)
    assert len(values) == 64
    bars = bars_from_candles([("X", candles)])
    for name in ("trend_ema_cross", "realized_vol", "stoch_rsi", "obv_slope"):
        assert values[name] == pytest.approx(float(evaluate(builtin_tree(name), bars)[0, -1]))
    short = latest_from_candles(candles[:10])
    assert short["trend_direction"] is None  # EMA 200 has no value after 10 bars
    assert latest_from_candles([], ["roc_5", "unknown"]) == {"roc_5": None}
    assert len(documented_names()) == 15


@pytest.fixture
async def factor_app(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[FastAPI, Api]]:
    app = create_app(make_settings(factor_engine="enabled", factor_refresh_minutes=0))
    async with running(app), asgi_client(app) as client:
        yield app, Api(client)


async def _test_run(api: Api, token: str, code: str) -> dict:
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
    return run.json()


GET_FACTOR = strategy(
    "a = data.get_factor('BTC', 'roc_5')\n"
    "data.log(isinstance(a, float), a is not None and -1 < a < 1,\n"
    "         data.get_factor('BTC', 'nope'), data.get_factor('ETH', 'roc_5'))\n"
    "return Decision('hold', 'BTC')"
)


async def test_program_reads_factors_when_the_engine_is_on(factor_app: tuple[FastAPI, Api]) -> None:
    _app, api = factor_app
    _, token = await api.user()
    run = await _test_run(api, token, GET_FACTOR)
    assert run["status"] == "ok", run.get("error")
    # A number for a built-in of a cycle symbol; None for unknown names and other symbols.
    assert run["logs"] == ["True True None None"]


async def test_program_gets_none_while_the_engine_is_off(api: Api) -> None:
    _, token = await api.user()
    run = await _test_run(api, token, GET_FACTOR)
    assert run["status"] == "ok", run.get("error")
    assert run["logs"] == ["False False None None"]


async def test_prompt_variable_lists_the_documented_factors(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    response = await api.client.post(
        "/api/prompts/preview",
        json={
            "account_id": trader["id"],
            "content": "F:\n{factor_values}",
            "symbols": ["BTC", "ETH"],
        },
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    assert response.json()["variables_used"] == ["factor_values"]
    text = response.json()["rendered"]
    lines = [line for line in text.splitlines() if line.startswith(("BTC", "ETH"))]
    assert [line.split(" ")[0] for line in lines] == ["BTC", "ETH"]
    for name in documented_names():
        assert f"{name} " in lines[0]
    numbers = [part.rsplit(" ", 1)[1] for part in lines[0].split(": ", 1)[1].split(", ")]
    assert sum(1 for n in numbers if n != "n/a") >= 10
    assert all(n == "n/a" or np.isfinite(float(n)) for n in numbers)
