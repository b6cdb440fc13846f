"""Price endpoints served from the cache: requests/s under wrk against a real uvicorn.

Starts ``hyperoru`` (sim market, SQLite in a temporary folder, rate limits raised out of
the way) in its own process on 127.0.0.1, registers and logs in a user over HTTP, then
loads each endpoint with wrk carrying the bearer token. Refuses to report a run with
socket errors or non-2xx answers.

    .venv/bin/python bench/market_prices.py [--duration 10] [--connections 64]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ENDPOINTS = (
    ("GET /api/crypto/price/BTC (one symbol)", "/api/crypto/price/BTC"),
    ("GET /api/crypto/price?symbol=ETH (query form)", "/api/crypto/price?symbol=ETH"),
    ("GET /api/crypto/prices (6 symbols)", "/api/crypto/prices?symbols=BTC,ETH,SOL,BNB,DOGE,XRP"),
    # The floor every authenticated route pays (token lookup, budget, log line).
    ("GET /api/users/profile (authentication only)", "/api/users/profile"),
)
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def serve(port: int, data_dir: str) -> None:
    """The server process: what ``hyperoru serve`` runs, with budgets out of the way."""
    import uvicorn

    from hyperoru.app import create_app
    from hyperoru.logging_setup import configure_logging
    from hyperoru.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=Path(data_dir),
        secret_key="bench-secret-key-0123456789abcdef0123456789",
        rate_limit_user_per_minute=10**9,
        rate_limit_ip_per_minute=10**9,
        rate_limit_auth_per_minute=10**9,
        market_refresh_seconds=1.0,
    )
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_config=None,
        server_header=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait_ready(base: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=2) as response:
                if json.loads(response.read()).get("market_data") == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not become ready")


def _latency_ms(text: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def _wrk(url: str, token: str, args: argparse.Namespace) -> dict[str, float]:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    if args.warmup:
        subprocess.run(
            [*command[:3], f"-d{args.warmup}s", *command[4:]], check=True, capture_output=True
        )
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise SystemExit(f"wrk saw errors; not reporting this run:\n{output}")
    requests = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert requests and rate, output
    return {
        "requests": int(requests.group(1)),
        "rps": float(rate.group(1)),
        "p50": _latency_ms(output, "50"),
        "p99": _latency_ms(output, "99"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.data_dir)
        return

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        log_path = Path(data_dir) / "server.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [sys.executable, __file__, "--serve", "--port", str(port), "--data-dir", data_dir],
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONPATH": "src"},
            )
        try:
            _wait_ready(base)
            password = "bench password that is long enough"
            _post(f"{base}/api/users/register", {"username": "bench", "password": password})
            token = _post(f"{base}/api/users/login", {"username": "bench", "password": password})[
                "session_token"
            ]
            assert _get(f"{base}/api/crypto/price/BTC", token)["stale"] is False
            load = os.getloadavg()[0]
            rows = [(label, _wrk(base + path, token, args)) for label, path in ENDPOINTS]
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(
        f"machine: {os.cpu_count()} CPUs, 1-min load before the runs {load:.2f}; "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s"
    )
    print("| endpoint | requests/s | p50 ms | p99 ms | requests |")
    print("|---|---:|---:|---:|---:|")
    for label, result in rows:
        print(
            f"| {label} | {result['rps']:,.0f} | {result['p50']:.2f} | {result['p99']:.2f} "
            f"| {result['requests']:,} |"
        )


if __name__ == "__main__":
    main()
