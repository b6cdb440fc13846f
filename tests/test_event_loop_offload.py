"""Nothing heavy on the event loop: the server imports its heavy modules while starting,
so a trader's first cycle imports nothing, and the indicator and regime work of a cycle
(prompt variables, program inputs, the builtin model) runs on the worker threads of
``hyperoru.offload``, never on the loop's thread. No timings are asserted here; the
latencies are measured by bench/stall_probe.py."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hyperoru.accounts.models import Account
from hyperoru.app import create_app
from hyperoru.backtests import bars_loader
from hyperoru.market import indicators
from hyperoru.offload import CPU_WORKERS, off_loop, on_worker_thread
from hyperoru.programs.program_inputs import program_payload
from hyperoru.strategies.variables import DecisionInputs
from tests.accounts.helpers import create_trader
from tests.conftest import asgi_client
from tests.helpers import Api, child_env

# Run in a fresh interpreter: this test process has long imported everything.
FIRST_CYCLE = """
import asyncio, json, sys
from pathlib import Path

from hyperoru.app import create_app
from hyperoru.demo import ensure_demo
from hyperoru.strategies.trigger import Trigger
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow

HEAVY = ("numpy", "scipy", "scipy.signal")


async def main() -> None:
    before = [name for name in HEAVY if name in sys.modules]
    settings = Settings(
        _env_file=None, data_dir=Path(sys.argv[1]), secret_key="k" * 40, runtime="off"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        started = [name for name in HEAVY if name in sys.modules]
        loaded = set(sys.modules)
        await app.state.services.market.cache.refresh()
        async with app.state.services.sessionmaker() as session:
            demo = await ensure_demo(app, session)
        records = [
            await app.state.pipeline.run(trader, Trigger(kind="manual", at=utcnow()))
            for trader in demo.trader_ids
        ]
        imported = sorted(set(sys.modules) - loaded)
    print(json.dumps({
        "imported_by_create_app": before,
        "loaded_after_startup": started,
        "imported_by_first_cycles": imported,
        "statuses": [record.status for record in records],
        "prompts": [record.rendered_prompt for record in records],
    }))


asyncio.run(main())
"""


def test_heavy_modules_load_at_startup_and_the_first_cycles_import_nothing(
    tmp_path: Path,
) -> None:
    env = child_env()
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CYCLE, str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # scipy is not a cost of importing the app (the CLI and tools import it too) ...
    assert "scipy.signal" not in seen["imported_by_create_app"]
    # ... but it is loaded before the server answers anything,
    assert seen["loaded_after_startup"] == ["numpy", "scipy", "scipy.signal"]
    # so the first cycles, which compute indicators and regimes, import nothing at all.
    assert seen["statuses"] == ["ok", "ok"]
    assert all("RSI14" in prompt and "Bollinger" in prompt for prompt in seen["prompts"])
    assert seen["imported_by_first_cycles"] == []


@pytest.fixture
def indicator_threads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """(thread id, on an offload worker?) of every indicator computed from now on: every
    indicator, also inside the regime, checks its input through ``_valid_tail``."""
    calls: list[tuple[int, bool]] = []
    checked = indicators._valid_tail

    def recording(**named: Any) -> Any:
        calls.append((threading.get_ident(), on_worker_thread()))
        return checked(**named)

    monkeypatch.setattr(indicators, "_valid_tail", recording)
    return calls


async def test_a_cycles_indicators_and_regimes_run_on_worker_threads(
    app: FastAPI, indicator_threads: list[tuple[int, bool]]
) -> None:
    loop_thread = threading.get_ident()
    async with asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user()
        trader = await create_trader(api, token, llm_provider="builtin")
        auth = api.bearer(token)
        path = f"/api/account/{trader['id']}"
        await client.put(f"{path}/strategy", json={"symbols": ["BTC", "ETH"]}, headers=auth)
        answer = await client.post(f"{path}/trigger", headers=auth)
    record = answer.json()
    assert answer.status_code == 200 and record["status"] == "ok", record
    # The default prompt shows indicators and regimes, and the builtin model reads EMAs
    # and RSI: all of them were computed, none on the loop's thread.
    assert "RSI14" in record["rendered_prompt"] and "trend efficiency" in record["rendered_prompt"]
    assert indicator_threads
    assert all(thread != loop_thread and worker for thread, worker in indicator_threads)


async def test_program_inputs_compute_their_tables_on_worker_threads(
    app: FastAPI, indicator_threads: list[tuple[int, bool]]
) -> None:
    loop_thread = threading.get_ident()
    async with asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user()
        trader = await create_trader(api, token)
    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, trader["id"])
    inputs = DecisionInputs(
        account=account,
        symbols=["BTC", "SOL"],
        market=app.state.services.market,
        sessionmaker=app.state.services.sessionmaker,
    )
    payload = await program_payload(inputs)
    assert payload["indicators"]["BTC"]["rsi"] is not None
    assert payload["regimes"]["SOL"] is not None
    assert indicator_threads
    assert all(thread != loop_thread and worker for thread, worker in indicator_threads)


async def test_backtest_bars_are_built_on_worker_threads(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    built_on_workers: list[bool] = []
    build = bars_loader.bars_of

    def recording(*args: Any) -> Any:
        built_on_workers.append(on_worker_thread())
        return build(*args)

    monkeypatch.setattr(bars_loader, "bars_of", recording)
    end = datetime(2026, 6, 1, tzinfo=UTC)
    bars = await bars_loader.load_bars(
        app.state.services.sessionmaker,
        app.state.services.market.provider,
        symbols=["BTC", "ETH"],
        interval="1h",
        start=end - timedelta(days=2),
        end=end,
    )
    assert [len(bars[s].close) for s in ("BTC", "ETH")] == [48, 48]
    assert bars["BTC"].funding_rates is not None and None not in bars["BTC"].funding_rates
    assert built_on_workers == [True, True]


async def test_the_api_schema_is_built_on_a_worker_thread_once_per_process(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Building it takes FastAPI a second or more: on the loop it held every request.
    built_on: list[bool] = []
    build = app.openapi

    def recording() -> dict[str, Any]:
        built_on.append(on_worker_thread())
        return build()

    monkeypatch.setattr(app, "openapi", recording)
    first = await client.get("/openapi.json")
    again = await client.get("/openapi.json")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and "/api/account/list" in first.json()["paths"]
    assert built_on == [True]  # the answer is kept: the second request builds nothing
    # Another app of this process with the same routes shares the built schema.
    other = create_app(app.state.settings)
    assert other.openapi() is app.openapi_schema


async def test_many_callers_share_a_few_threads() -> None:
    threads: set[int] = set()
    release = threading.Event()

    def work() -> None:
        threads.add(threading.get_ident())
        release.wait(timeout=30)

    calls = [asyncio.ensure_future(off_loop(work)) for _ in range(50)]
    await asyncio.sleep(0)  # let every call be submitted
    release.set()
    await asyncio.gather(*calls)
    assert 1 <= len(threads) <= CPU_WORKERS
