"""The read routes dashboards poll, against a bare FastAPI endpoint, in one run.

The bare app and hyperoru each run as their own uvicorn process (``bench/auth/serve.py``,
the settings of ``hyperoru serve``); wrk loads one route at a time. Hyperoru's user gets
``--traders`` traders (created through the API) before the loads:

    .venv/bin/python bench/read_paths_quick.py                      # SQLite, about 70 s
    .venv/bin/python bench/read_paths_quick.py --database-url postgresql+asyncpg://u@127.0.0.1/db

Prints req/s, p50/p99 and the ratio to bare for each route with the 1-minute load average;
exits non-zero when wrk saw any error or non-2xx answer. ``bench/api_read_paths.py`` is
the full bench of issue 14; this one is the quick check of the cached read paths.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from auth_profile import LoadResult, run_wrk, running_server, sign_in


def _traders(base_url: str, token: str, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    ids = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client:
        for index in range(count):
            created = client.post(
                "/api/account/",
                json={
                    "name": f"bench {index}",
                    "llm_provider": "builtin",
                    # Paused: the bench measures reads, not decision cycles sharing the CPU.
                    "auto_trading_enabled": False,
                },
            )
            created.raise_for_status()
            ids.append(created.json()["id"])
        listed = client.get("/api/account/list")
        listed.raise_for_status()
        if len(listed.json()) != count:
            raise SystemExit(f"the list shows {len(listed.json())} traders, not {count}")
    return ids


def _load(url: str, token: str, args: argparse.Namespace) -> LoadResult:
    shape = {"threads": args.threads, "connections": args.connections}
    run_wrk(url, token, seconds=args.warmup, **shape)
    result = run_wrk(url, token, seconds=args.duration, **shape)
    if result.failures:
        raise SystemExit(f"{url}: wrk reported {result.failures} failed requests: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--traders", type=int, default=10)
    parser.add_argument("--database-url", help="hyperoru's database (default: SQLite)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    results: list[tuple[str, LoadResult]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hyperoru-reads-") as tmp:
        work = Path(tmp)
        with running_server("bare", work, None) as (base_url, _):
            bare = _load(base_url + "/api/users/profile", "hyo_" + "0" * 43, args)
        with running_server("hyperoru", work, args.database_url) as (base_url, _):
            token = sign_in(base_url)
            ids = _traders(base_url, token, args.traders)
            routes = {
                "profile": "/api/users/profile",
                f"trader list ({args.traders})": "/api/account/list",
                "overview": "/api/account/overview",
                "trader overview": f"/api/account/{ids[0]}/overview",
                "positions": f"/api/account/{ids[0]}/positions",
                "balances (state)": f"/api/hyperliquid/account/{ids[0]}/state",
            }
            for name, path in routes.items():
                results.append((name, _load(base_url + path, token, args)))
    load_after = os.getloadavg()

    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"database: {database}; wrk -t{args.threads} -c{args.connections} -d{args.duration}s")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print("| route | req/s | p50 ms | p99 ms | ÷ bare |")
    print("|---|---:|---:|---:|---:|")
    for name, result in [("bare FastAPI", bare), *results]:
        ratio = result.requests_per_second / bare.requests_per_second
        print(
            f"| {name} | {result.requests_per_second:,.0f} | {result.p50_us / 1000:.2f} "
            f"| {result.p99_us / 1000:.2f} | {ratio:.2f} |"
        )


if __name__ == "__main__":
    main()
