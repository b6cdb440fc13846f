"""Reading a finished backtest cheaply and in the contract's JSON types: ``?include=``
picks the long parts, the trades and the curve have their own paged routes, numbers are
JSON numbers equal to the stored exact values, times end in Z, and the fingerprint is
still the one over the stored trade list."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.orm import undefer

from hyperoru.backtests.models import Backtest
from hyperoru.jobs.models import Job
from hyperoru.replay.fingerprint import fingerprint
from tests.backtests.support import create_program, request_body, settled, submit
from tests.helpers import Api, assert_error

LONG_PARTS = ("trades", "equity_curve", "logs")
# Takes turns (support.TAKING_TURNS) and logs every decision, so every part has content.
LOGGING_TURNS = """
class Strategy:
    def init(self, params):
        self.bars = 0

    def should_trade(self, data):
        self.bars += 1
        data.log("bar", self.bars)
        if self.bars % 3:
            return Decision("hold")
        if data.get_positions():
            return Decision("close", "BTC", reasoning="turn over")
        return Decision("long", "BTC", leverage=2, size_pct=20, reasoning="turn over")
"""
TRADE_NUMBERS = ("quantity", "entry_price", "realized_pnl", "fees", "funding", "pnl")


async def _finished(api: Api, token: str) -> dict[str, Any]:
    program_id = await create_program(api, token, code=LOGGING_TURNS)
    job = await submit(api, token, request_body(program_id))
    done = await settled(api, token, job["id"])
    assert done["status"] == "completed", done
    assert len(done["trades"]) >= 5, "the program should trade several times"
    return done


async def _stored(app: FastAPI, backtest_id: int) -> Backtest:
    async with app.state.services.sessionmaker() as session:
        row = await session.get(
            Backtest,
            backtest_id,
            options=[undefer(Backtest.trades), undefer(Backtest.equity_curve)],
        )
        assert row is not None
        return row


async def _get(api: Api, token: str, path: str, **params: Any) -> Any:
    response = await api.client.get(path, params=params, headers=api.bearer(token))
    assert response.status_code == 200, response.text
    return response


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


async def test_include_picks_the_long_parts_of_the_answer(api: Api) -> None:
    _, token = await api.user()
    done = await _finished(api, token)
    path = done["status_url"]

    # By default (contract §12) a completed backtest carries everything.
    assert all(done[part] for part in LONG_PARTS)
    light = await _get(api, token, path, include="none")
    body = light.json()
    assert not set(LONG_PARTS) & set(body), "left-out parts are absent, not empty"
    assert body["status"] == "completed" and body["fingerprint"] == done["fingerprint"]
    assert body["total_trades"] == done["total_trades"] and body["metrics"] == done["metrics"]
    full = await _get(api, token, path)
    assert len(light.content) * 3 < len(full.content)
    assert (await _get(api, token, path, include="")).json() == body

    only_trades = (await _get(api, token, path, include="trades")).json()
    assert only_trades["trades"] == done["trades"]
    assert "equity_curve" not in only_trades and "logs" not in only_trades
    both = (await _get(api, token, path, include=" Equity_Curve , logs")).json()
    assert both["equity_curve"] == done["equity_curve"] and both["logs"] == done["logs"]
    assert "trades" not in both

    refused = await api.client.get(
        path, params={"include": "trades,snapshots"}, headers=api.bearer(token)
    )
    body = assert_error(refused, 400, "VALIDATION_ERROR")
    assert body["details"]["fields"][0]["field"] == "include"
    assert "snapshots" in body["message"]


async def test_trades_and_curve_are_paged_on_their_own_routes(api: Api) -> None:
    _, token = await api.user()
    done = await _finished(api, token)
    assert done["trades_url"] == f"/api/backtests/{done['id']}/trades"
    assert done["equity_url"] == f"/api/backtests/{done['id']}/equity"

    lists = ((done["trades_url"], done["trades"]), (done["equity_url"], done["equity_curve"]))
    for url, whole in lists:
        first = await _get(api, token, url, limit=2)
        assert first.json() == whole[:2]
        assert first.headers["x-total-count"] == str(len(whole))
        assert (await _get(api, token, url, limit=3, offset=2)).json() == whole[2:5]
        pages = []
        for page in range(1, len(whole) // 2 + 2):
            pages.extend((await _get(api, token, url, page=page, per_page=2)).json())
        assert pages == whole
        assert (await _get(api, token, url)).json() == whole[:100]
        assert (await _get(api, token, url, offset=len(whole))).json() == []
        bad = await api.client.get(url, params={"limit": 0}, headers=api.bearer(token))
        assert_error(bad, 400, "VALIDATION_ERROR")


async def test_the_paged_routes_are_empty_until_completed_and_owned(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    _, intruder = await api.user()
    done = await _finished(api, token)
    for url in (done["trades_url"], done["equity_url"]):
        assert_error(await api.client.get(url, headers=api.bearer(intruder)), 403, "FORBIDDEN")
        missing = url.replace(f"/{done['id']}/", "/2000000000/")
        gone = await api.client.get(missing, headers=api.bearer(token))
        assert_error(gone, 404, "BACKTEST_NOT_FOUND")

    # Back to running (as while a rerun goes on): results are not shown before completion.
    async with app.state.services.sessionmaker() as session:
        await session.execute(update(Job).where(Job.id == done["id"]).values(status="running"))
        await session.commit()
    for url in (done["trades_url"], done["equity_url"]):
        empty = await _get(api, token, url)
        assert empty.json() == [] and empty.headers["x-total-count"] == "0"


async def test_numbers_are_json_numbers_equal_to_the_stored_values(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    done = await _finished(api, token)
    stored = await _stored(app, done["id"])

    # Metrics: numbers or null, never decimal strings.
    assert done["metrics"] and all(_number(v) or v is None for v in done["metrics"].values()), done[
        "metrics"
    ]
    assert isinstance(done["metrics"]["total_trades"], int)
    for name in ("total_pnl", "final_equity", "win_rate", "total_pnl_percent"):
        assert _number(done[name]) and done[name] == done["metrics"][name], name

    # Trades: the stored exact decimals, sent as the nearest JSON number.
    assert stored.trades is not None and len(done["trades"]) == len(stored.trades)
    for shown, exact in zip(done["trades"], stored.trades, strict=True):
        assert set(shown) == set(exact)
        for name in TRADE_NUMBERS:
            assert _number(shown[name]), (name, shown[name])
            assert shown[name] == float(Decimal(exact[name])), name
        assert shown["entry_time"] == exact["entry_time"] and shown["entry_time"].endswith("Z")
        assert shown["fill_ids"] == exact["fill_ids"]

    # The curve: the contract's `timestamp` (the asset curve's name), numbers, Z.
    assert stored.equity_curve is not None
    for shown, exact in zip(done["equity_curve"], stored.equity_curve, strict=True):
        assert set(shown) == {"timestamp", "equity"}
        assert shown["timestamp"] == exact["time"] and shown["timestamp"].endswith("Z")
        assert _number(shown["equity"]) and shown["equity"] == float(Decimal(exact["equity"]))

    # The fingerprint is still the one over the stored trade list, unchanged by the
    # presentation (a rerun reproduces it: test_backtest_jobs).
    assert done["fingerprint"] == fingerprint(stored.trades)
    assert all(_number(done["config"][k]) for k in ("initial_balance", "taker_fee_pct"))
    assert done["config"]["start_date"].endswith("Z")
