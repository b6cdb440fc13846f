"""Issue 16: ``data.get_indicator`` answers any period from 2 to 500 (1 to 500 for
``price_change_pct``), in backtests and live runs, with the values of the shared
indicators; an unknown name or an unusable period is an error the user reads (validate,
test run, live cycle, backtest), never a ``None`` that silently stops a strategy."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hyperoru.market import indicators
from hyperoru.market.indicator_catalog import IndicatorRequestError, resolve
from hyperoru.programs.program_inputs import PREPARED, indicator_values, row_columns
from hyperoru.programs.program_runs import _remembered, run_program
from hyperoru.programs.sandbox.fair_queue import Kind
from hyperoru.programs.sandbox.launcher import Sandbox, SandboxResult
from hyperoru.replay.settings import ReplaySettings
from hyperoru.signals.config import parse_config
from hyperoru.signals.evaluator import Frame, evaluate
from tests.accounts.helpers import create_trader
from tests.backtests.support import create_program, request_body, settled, submit
from tests.helpers import Api
from tests.programs.programs import strategy
from tests.replay.candles import by_hand
from tests.signals.paths import candles

# Closes 1, 2, …, 60: SMA 30 at the last bar is the mean of 31…60 = 45.5. EMA 37 is
# seeded at bar 36 with the mean of 1…37 = 19 = close - 18, and a linear series keeps an
# EMA exactly (period - 1) / 2 = 18 below the close from there on: 42 at the last bar.
LINEAR = by_hand([(c, c + 0.5, c - 0.5, c) for c in (float(k) for k in range(1, 61))])
SETTINGS = ReplaySettings(symbols=("BTC",), interval="1h", sz_decimals={"BTC": 3})

READ_BOTH = strategy(
    "data.log(data.get_indicator('BTC', 'sma', 30), data.get_indicator('BTC', 'ema', 37))\n"
    "return None"
)


async def test_unlisted_periods_have_their_known_answers_in_a_backtest() -> None:
    outcome = await Sandbox().run_backtest(
        READ_BOTH, params={}, settings=SETTINGS, bars={"BTC": LINEAR}
    )
    assert outcome.status == "ok", outcome.error
    values = [line.split(" ") for line in outcome.logs]
    assert values[28] == ["None", "None"]  # bar 29: SMA 30 still warming up
    assert values[29] == ["15.5", "None"]  # mean of 1…30
    assert values[35][1] == "None" and float(values[36][1]) == pytest.approx(19.0, abs=1e-12)
    sma, ema = (float(v) for v in values[59])
    assert sma == pytest.approx(45.5, abs=1e-12)
    assert ema == pytest.approx(42.0, abs=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("'smaa', 30", "get_indicator: unknown indicator 'smaa'; known: rsi, ema, sma"),
        ("'sma', 1", "period 1 of 'sma' is outside the allowed range 2 to 500"),
        ("'ema', 501", "period 501 of 'ema' is outside the allowed range 2 to 500"),
        ("'sma', 30.0", "the period of 'sma' must be a whole number from 2 to 500, not 30.0"),
        ("'rsi', True", "must be a whole number from 2 to 500, not True (bool)"),
        ("'macd', 26", "'macd' is MACD 12/26/9 and takes no period (got 26)"),
        ("'price_change_pct', 0", "outside the allowed range 1 to 500"),
    ],
)
async def test_a_bad_request_fails_the_backtest_with_its_reason(call: str, message: str) -> None:
    # A good period first, so a series is cached: the bad request is refused all the same.
    code = strategy(
        f"data.get_indicator('BTC', 'sma', 30)\nreturn data.get_indicator('BTC', {call})"
    )
    outcome = await Sandbox().run_backtest(code, params={}, settings=SETTINGS, bars={"BTC": LINEAR})
    assert outcome.status == "error"
    error = str(outcome.error)
    assert error.startswith("IndicatorRequestError (line 5): get_indicator: "), error
    assert message in error and error.endswith("at the decision of 2026-01-01T01:00:00Z")


def test_the_catalog_fills_defaults_and_refuses_what_it_does_not_know() -> None:
    assert resolve("SMA") == ("sma", 20)
    assert resolve("rsi", 500) == ("rsi", 500)
    assert resolve("price_change_pct", 1) == ("price_change_pct", 1)
    assert resolve("macd_hist") == ("macd_hist", None)
    for name, period in (("sma", "30"), (None, 3), ("bbands", 20), ("atr", 2**70)):
        with pytest.raises(IndicatorRequestError):
            resolve(name, period)


# -- live: test runs and cycles on the simulated market, over the API (both databases) --

LIVE_READER = strategy(
    "closes = [row['close'] for row in data.get_klines('BTC', '1h', 1000)]\n"
    "sma = data.get_indicator('BTC', 'sma', 30)\n"
    "ema = data.get_indicator('BTC', 'ema', self_period(data))\n"
    "longest = data.get_indicator('BTC', 'rsi', 500)\n"
    "data.log(len(closes), repr(sma), repr(ema), longest is not None, closes)\n"
    "if sma is None or ema is None:\n"
    "    return Decision('hold', 'BTC', reasoning='no value')\n"
    "return Decision('long', 'BTC', size_pct=10, reasoning=f'sma30 {sma:.2f}')",
    imports="def self_period(data):\n    return data.params.get('ema', 37)\n",
)


async def _program(api: Api, token: str, code: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "periods", "code": code, **fields}
    response = await api.client.post("/api/programs/", json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def _test_run(api: Api, token: str, program_id: int) -> dict[str, Any]:
    response = await api.client.post(
        "/api/programs/test-run",
        json={"program_id": program_id, "symbol": "BTC"},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_test_run_reads_unlisted_periods_live_and_trades(api: Api) -> None:
    _, token = await api.user()
    program = await _program(api, token, LIVE_READER, params={"ema": 37})
    run = await _test_run(api, token, program["id"])
    assert run["status"] == "ok", run
    [decision] = run["result"]["decisions"]
    assert decision["operation"] == "long" and decision["symbol"] == "BTC"
    # One log line: the run that lacked the two periods was dropped, and the rerun had them.
    [line] = run["logs"]
    count, sma, ema, longest, closes_text = line.split(" ", 4)
    closes = [float(c) for c in closes_text.strip("[]").split(", ")]
    # Enough hourly candles for the longest period, and the values of the shared module.
    assert int(count) == len(closes) == 501 and longest == "True"
    assert float(sma) == float(indicators.sma(closes, 30)[-1])
    assert math.isclose(float(ema), float(indicators.ema(closes, 37)[-1]), rel_tol=1e-12)
    # Remembered: the next run of this source gets them before it starts.
    assert any(["BTC", "ema", 37] in known for known in _remembered.values())


async def test_a_program_trader_cycle_trades_on_an_unlisted_period(api: Api) -> None:
    _, token = await api.user()

    program = await _program(api, token, LIVE_READER, params={"ema": 41})
    trader = await create_trader(api, token, account_type="program", max_leverage=3)
    response = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC"], "program_id": program["id"]},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    trigger = await api.client.post(
        f"/api/account/{trader['id']}/trigger", headers=api.bearer(token)
    )
    record = trigger.json()
    assert record["status"] == "ok" and record["error"] is None, record
    assert record["operation"] == "long" and record["executed"] is True, record
    assert record["reasoning"].startswith("sma30 ")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ema": 1}, "IndicatorRequestError (line 8): get_indicator: period 1 of 'ema' is "
         "outside the allowed range 2 to 500"),
        ({"ema": 37.5}, "the period of 'ema' must be a whole number from 2 to 500, not 37.5"),
    ],
)  # fmt: skip
async def test_a_bad_period_fails_the_test_run_with_its_reason(
    api: Api, params: dict[str, Any], message: str
) -> None:
    _, token = await api.user()
    program = await _program(api, token, LIVE_READER, params=params)
    run = await _test_run(api, token, program["id"])
    assert run["status"] == "error"
    assert message in run["error"], run


async def test_an_unknown_name_fails_a_live_cycle_with_its_reason(api: Api) -> None:
    _, token = await api.user()

    code = strategy("return data.get_indicator('BTC', data.params['name'], 30)")
    program = await _program(api, token, code, params={"name": "vwap"})
    trader = await create_trader(api, token, account_type="program", max_leverage=3)
    await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC"], "program_id": program["id"]},
        headers=api.bearer(token),
    )
    record = (
        await api.client.post(f"/api/account/{trader['id']}/trigger", headers=api.bearer(token))
    ).json()
    assert record["status"] == "failed"
    assert "get_indicator: unknown indicator 'vwap'; known: rsi, ema" in record["error"], record


async def test_validate_names_bad_literal_requests_with_their_lines(api: Api) -> None:
    _, token = await api.user()
    code = strategy(
        "a = data.get_indicator('BTC', 'sma', 30)\n"
        "b = data.get_indicator('BTC', 'sma', 0)\n"
        "c = data.get_indicator('BTC', name='bbands', period=20)\n"
        "d = data.get_indicator('BTC', 'ema', data.params['p'])\n"
        "return None"
    )
    response = await api.client.post(
        "/api/programs/validate", json={"code": code}, headers=api.bearer(token)
    )
    body = response.json()
    assert body["valid"] is False
    assert body["errors"] == [
        {
            "line": 5,
            "message": "get_indicator: period 0 of 'sma' is outside the allowed range 2 to 500",
        },
        {
            "line": 6,
            "message": "get_indicator: unknown indicator 'bbands'; known: rsi, ema, sma, atr, "
            "bb_upper, bb_middle, bb_lower, price_change_pct, macd, macd_signal, macd_hist",
        },
    ]


# -- backtests over the API ------------------------------------------------------------

SMA_30_CROSS = """
class Strategy:
    def should_trade(self, data):
        sma = data.get_indicator("BTC", "sma", 30)
        if sma is None:
            return None
        price = data.get_price("BTC")
        held = "BTC" in data.get_positions()
        if price > sma and not held:
            return Decision("long", "BTC", size_pct=20, reasoning="above sma 30")
        if price < sma and held:
            return Decision("close", "BTC", reasoning="below sma 30")
        return None
"""


async def test_a_backtest_on_sma_30_trades(api: Api) -> None:
    _, token = await api.user()
    program_id = await create_program(api, token, code=SMA_30_CROSS)
    done = await settled(api, token, (await submit(api, token, request_body(program_id)))["id"])
    assert done["status"] == "completed", done
    assert done["total_trades"] > 0 and done["trades"], done


async def test_a_backtest_with_a_bad_period_fails_with_its_reason(api: Api) -> None:
    _, token = await api.user()
    code = strategy("return data.get_indicator('BTC', 'sma', data.params.get('p', 600))")
    program_id = await create_program(api, token, code=code)
    done = await settled(api, token, (await submit(api, token, request_body(program_id)))["id"])
    assert done["status"] == "failed", done
    assert (
        "IndicatorRequestError (line 4): get_indicator: period 600 of 'sma' is outside the "
        "allowed range 2 to 500 at the decision of"
    ) in done["error"], done


# -- signals: their grammar has always taken any period up to 500; the same values -----


def test_a_signal_on_an_unlisted_period_reads_the_known_answer() -> None:
    closes = [float(k) for k in range(1, 60)]
    # The live price 60 is the forming bar: SMA 30 of 31…60 = 45.5, EMA 37 = 60 - 18 = 42.
    above = parse_config("threshold", {"indicator": "sma", "period": 30, "operator": ">",
                                       "threshold": 45.4})  # fmt: skip
    reading = evaluate(above, Frame(candles(closes), 60.0))
    assert reading.fired and reading.value == pytest.approx(45.5, abs=1e-12)
    cross = parse_config("threshold", {"indicator": "price", "operator": ">",
                                       "threshold": "ema_37"})  # fmt: skip
    reading = evaluate(cross, Frame(candles(closes), 60.0))
    assert reading.fired and reading.threshold == pytest.approx(42.0, abs=1e-12)


class CountingSandbox(Sandbox):
    """The real sandbox, counting its runs."""

    runs = 0

    async def run(self, code: str, **kwargs: Any) -> SandboxResult:
        self.runs += 1
        return await super().run(code, **kwargs)


async def test_a_live_run_gets_unprepared_periods_by_running_again_then_up_front() -> None:
    rows = [["t", c, c + 0.5, c - 0.5, c, 1.0] for c in (float(k) for k in range(1, 61))]
    table = indicator_values(row_columns(rows), PREPARED)
    payload = {"symbols": ["BTC"], "klines": {"BTC": {"1h": rows}}, "indicators": {"BTC": table}}
    # The program even swallows the error its None causes: the answer is dropped anyway.
    code = strategy(
        "sma = data.get_indicator('BTC', 'sma', 30)\n"
        "ema = data.get_indicator('btc', 'EMA', 37)\n"
        "try:\n"
        "    sma + ema\n"
        "except Exception:\n"
        "    return Decision('hold', reasoning='swallowed')\n"
        "return Decision('long', 'BTC', size_pct=10, reasoning=f'{sma} {ema}')\n"
    )
    sandbox = CountingSandbox()
    for expected_runs in (2, 1):  # then remembered for this source
        sandbox.runs = 0
        outcome = await run_program(
            sandbox, code, payload=payload, params={}, user_id=1, kind=Kind.TEST_RUN
        )
        assert outcome.status == "ok", outcome.error
        assert sandbox.runs == expected_runs
        sma, ema = (float(v) for v in outcome.result["reasoning"].split(" "))
        assert sma == pytest.approx(45.5, abs=1e-12) and ema == pytest.approx(42.0, abs=1e-12)
