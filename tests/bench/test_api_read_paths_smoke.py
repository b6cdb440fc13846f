"""bench/api_read_paths.py --smoke: every route of issue 14's bench answers without an
error on real servers (SQLite), and the table names them all. No timing is asserted."""

from __future__ import annotations

from tests.bench.run_bench import run_bench

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
    stdout = run_bench("api_read_paths.py", "--smoke")
    # | database | route | server stack | req/s | ...
    cells = [line.strip("| ").split(" | ") for line in stdout.splitlines()]
    rows = {row[1]: row for row in cells if len(row) > 3 and row[0] == "SQLite"}
    for route in ROUTES:
        assert route in rows, stdout
        requests_per_second = float(rows[route][3].replace(",", ""))
        assert requests_per_second > 0, rows[route]
