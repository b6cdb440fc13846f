"""Programs, requests and waits shared by the backtest tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.helpers import Api
from tests.market.waiting import eventually

# Three days of hourly candles: few enough that a sandboxed replay takes well under a
# second, enough for several round trips.
START = "2026-01-01T00:00:00Z"
END = "2026-01-04T00:00:00Z"

# Opens a long every ``every`` bars and closes it the time after: trades on any market.
TAKING_TURNS = """
class Strategy:
    def init(self, params):
        self.bars = 0
        self.every = params.get("every", 5)

    def should_trade(self, data):
        self.bars += 1
        if self.bars % self.every:
            return Decision("hold")
        if data.get_positions():
            return Decision("close", "BTC", reasoning="turn over")
        return Decision("long", "BTC", leverage=2, size_pct=20, reasoning="turn over")
"""

# Busy for a while on every bar (so that progress is reported), then forever from the
# 31st bar: only a cancel (or the sandbox's own limits, minutes later) ends it.
SLOW = """
class Strategy:
    def init(self, params):
        self.bars = 0

    def should_trade(self, data):
        self.bars += 1
        total = 0
        for i in range(400000):
            total += i % 7
        while self.bars > 30:
            total += 1
        return Decision("hold")
"""

FAILING = """
class Strategy:
    def init(self, params):
        self.bars = 0

    def should_trade(self, data):
        self.bars += 1
        if self.bars == 4:
            raise ValueError("the fourth bar is cursed")
        return Decision("hold")
"""


async def create_program(api: Api, token: str, code: str = TAKING_TURNS, **fields: Any) -> int:
    body = {"name": "turns", "code": code, **fields}
    response = await api.client.post("/api/programs/", json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def request_body(program_id: int, **config: Any) -> dict[str, Any]:
    return {
        "program_id": program_id,
        "config": {"symbols": ["BTC"], "start_date": START, "end_date": END, **config},
    }


async def submit(api: Api, token: str, body: dict[str, Any], path: str = "/api/backtests") -> dict:
    response = await api.client.post(path, json=body, headers=api.bearer(token))
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/backtests/{response.json()['id']}"
    return response.json()


async def read(api: Api, token: str, backtest_id: int) -> dict[str, Any]:
    response = await api.client.get(f"/api/backtests/{backtest_id}", headers=api.bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def settled(api: Api, token: str, backtest_id: int) -> dict[str, Any]:
    return await eventually(
        lambda: read(api, token, backtest_id),
        lambda body: body["status"] in ("completed", "failed", "cancelled"),
        attempts=1200,
    )


def sandbox_children() -> list[int]:
    """Processes this test process started that run the program sandbox."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == me and b"sandbox" in command:
            found.append(int(entry.name))
    return found


async def live_sandboxes() -> list[int]:
    return sandbox_children()


def caught_running(body: dict[str, Any]) -> bool:
    """Running with the replay under way, or already over (which the test then reports)."""
    if body["status"] == "running":
        return body["progress"] > 10
    return body["status"] != "queued"
