"""bench/request_profile.py runs end to end on SQLite and prints what it promises: calls
and statements per request for each route, and the table by where the code lives. No
timing is asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_request_profile_prints_each_routes_calls_and_statements() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "request_profile.py"), "--requests", "10"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = re.findall(r"^\| ([^|]+) \| ([\d,]+) \| [\d.]+ \| [\d,]+ \|$", done.stdout, re.M)
    rows = dict(found)
    assert set(rows) == {
        "bare FastAPI endpoint",
        "`GET /api/users/profile`",
        "trader list, 10 traders",
        "backtest status poll, 200",
        "backtest status poll, If-None-Match → 304",
    }, done.stdout
    # Every authenticated route does more than the bare endpoint: the counting works.
    bare = int(rows.pop("bare FastAPI endpoint").replace(",", ""))
    assert all(int(calls.replace(",", "")) > bare > 0 for calls in rows.values()), rows
    assert "function calls per request by where the code lives" in done.stdout
