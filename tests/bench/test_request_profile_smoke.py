"""bench/request_profile.py runs end to end on SQLite and prints what it promises: calls
and statements per request for each route, and the table by where the code lives. No
timing is asserted."""

from __future__ import annotations

import re

from tests.bench.run_bench import run_bench


def test_the_request_profile_prints_each_routes_calls_and_statements() -> None:
    stdout = run_bench("request_profile.py", "--requests", "10")
    found = re.findall(r"^\| ([^|]+) \| ([\d,]+) \| [\d.]+ \| [\d,]+ \|$", stdout, re.M)
    rows = dict(found)
    assert set(rows) == {
        "bare FastAPI endpoint",
        "`GET /api/users/profile`",
        "trader list, 10 traders",
        "backtest status poll, 200",
        "backtest status poll, If-None-Match → 304",
    }, stdout
    # Every authenticated route does more than the bare endpoint: the counting works.
    bare = int(rows.pop("bare FastAPI endpoint").replace(",", ""))
    assert all(int(calls.replace(",", "")) > bare > 0 for calls in rows.values()), rows
    assert "function calls per request by where the code lives" in stdout
