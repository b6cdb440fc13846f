"""The prompt at a snapshot shows only what was known at that moment: every candle in it
closed by the snapshot time (the newest hourly one is the last that had closed), and the
price is the closing price of the snapshot's bar."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI

from tests.accounts.helpers import create_trader
from tests.helpers import Api
from tests.prompt_backtests.helpers import own_prompt, snapshots, submit, wait_finished

TEMPLATE = "NOW {current_time_utc}\n{market_prices}\n{kline_data}\n{sampling_data}"
HOUR = timedelta(hours=1)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _last_full_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@pytest.mark.parametrize(
    ("interval", "width", "start", "end"),
    [
        ("4h", timedelta(hours=4), "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"),
        # Snapshots between hours: the hourly candle still forming must not show.
        ("15m", timedelta(minutes=15), "2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z"),
    ],
)
async def test_variables_at_a_snapshot_never_look_ahead(
    world: tuple[FastAPI, Api], interval: str, width: timedelta, start: str, end: str
) -> None:
    _, api = world
    _, token = await api.user()
    trader = await create_trader(api, token, llm_provider="builtin")
    prompt = await own_prompt(api, token, TEMPLATE)
    task = await submit(
        api,
        token,
        trader_id=trader["id"],
        prompt_id=prompt["id"],
        interval=interval,
        start_date=start,
        end_date=end,
    )
    assert (await wait_finished(api, token, task["id"]))["status"] == "completed"
    bars = await api.client.get(
        "/api/klines/data",
        params={"symbol": "BTC", "interval": interval, "start": start, "end": end},
        headers=api.bearer(token),
    )
    close_at = {_time(b["timestamp"]) + width: b["close"] for b in bars.json()}
    taken = await snapshots(api, token, task["id"])
    assert len(taken) == len(close_at) - 1
    for snapshot in taken:
        moment = _time(snapshot["time"])
        lines = snapshot["rendered_prompt"].splitlines()
        assert lines[0] == "NOW " + snapshot["time"]
        price = float(lines[1].split(":")[1].split("(")[0])
        assert price == close_at[moment]
        header = lines.index("time,open,high,low,close,volume")
        rows = [line.split(",") for line in lines[header + 1 : header + 25]]
        opened = [_time(row[0]) for row in rows]
        assert len(opened) == 24
        assert all(t + HOUR <= moment for t in opened)
        assert opened[-1] + HOUR == _last_full_hour(moment)
        if moment == _last_full_hour(moment):
            # The last hourly candle closes with the bar: the same close.
            assert float(rows[-1][4]) == close_at[moment]
