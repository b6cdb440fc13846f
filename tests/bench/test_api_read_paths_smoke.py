"""bench/api_read_paths.py --smoke: every route of issue 14's bench answers without an
error on real servers (SQLite), and the table names them all. No timing is asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROUTES = (
    "bare FastAPI endpoint",
    "`GET /api/users/profile`",
    "trader list, 10 traders",
    "trader overview",
    "positions",
    "asset curve",
    "backtest status poll",
    "order create + execute (orders/s)",
)


def test_the_smoke_run_loads_every_route_without_an_error() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "api_read_paths.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # | database | route | server stack | req/s | ...
    cells = [line.strip("| ").split(" | ") for line in done.stdout.splitlines()]
    rows = {row[1]: row for row in cells if len(row) > 3 and row[0] == "SQLite"}
    for route in ROUTES:
        assert route in rows, done.stdout
        requests_per_second = float(rows[route][3].replace(",", ""))
        assert requests_per_second > 0, rows[route]
