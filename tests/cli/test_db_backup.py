"""`hyperoru db backup` and `hyperoru db restore`: what a backup holds comes back exactly,
and a restore never runs over a live server or from a file it cannot trust."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.cli.run import run_cli, run_cli_for
from tests.conftest import asgi_client, running
from tests.helpers import Api, child_env
from tests.signals.traders import decisions, quiet_trader
from tests.trading.helpers import Trader


async def _book(api: Api, trader: Trader) -> dict[str, Any]:
    """What a backup must bring back: cash, positions, trades, orders and the decision log
    (equity is left out: it moves with the simulated prices)."""
    accounts = await trader.get("/api/account/list")
    (account,) = [a for a in accounts if a["id"] == trader.id]
    positions = await trader.get(f"/api/account/{trader.id}/positions")
    return {
        "cash": (account["current_cash"], account["frozen_cash"]),
        "positions": [
            (p["symbol"], p["side"], p["size"], p["entry_price"], p["opened_at"]) for p in positions
        ],
        "trades": await trader.get(f"/api/account/{trader.id}/trades"),
        "orders": await trader.get(f"/api/orders/account/{trader.id}"),
        "decisions": await decisions(api, trader.token, trader.id),
    }


async def _trade_and_decide(trader: Trader, quantity: str) -> None:
    # SOL is outside the trader's strategy symbols (BTC, ETH), so the decision that follows
    # never closes this position: the builtin model reads the simulated market at wall
    # time, and on a falling BTC it would close a BTC long and leave no position to check.
    await trader.trade(side="buy", quantity=quantity, symbol="SOL")
    response = await trader.api.client.post(
        f"/api/account/{trader.id}/trigger", headers=trader.headers
    )
    assert response.status_code == 200, response.text


async def test_a_restored_backup_brings_back_balances_trades_and_the_decision_log(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    backup = tmp_path / "saved.backup"

    async with running(app := create_app(settings)), asgi_client(app) as client:
        api = Api(client)
        user, token = await api.user()
        account = await quiet_trader(api, token, "kept")
        trader = Trader(api, token, account, user)
        await _trade_and_decide(trader, "1")
        saved = await _book(api, trader)
        assert saved["trades"] and saved["decisions"] and saved["positions"]

        made = await run_cli_for(settings, "db", "backup", str(backup))
        assert made.returncode == 0, made.stderr
        assert "backup written" in made.stdout
        assert oct(backup.stat().st_mode & 0o777) == "0o600"

        # Life goes on after the backup: more trading, more decisions.
        await _trade_and_decide(trader, "2")
        assert await _book(api, trader) != saved

    restored = await run_cli_for(settings, "db", "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "restored from" in restored.stdout

    async with running(app := create_app(settings)), asgi_client(app) as client:
        api = Api(client)
        trader = Trader(api, token, account, user)
        assert await _book(api, trader) == saved


def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "db", "upgrade").returncode == 0
    existing = tmp_path / "existing"
    existing.write_text("precious")
    result = run_cli(data, "db", "backup", str(existing))
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert existing.read_text() == "precious"


def test_a_restore_refuses_what_is_not_a_hyperoru_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "db", "upgrade").returncode == 0
    before = (data / "hyperoru.db").read_bytes()

    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"not a database at all" * 100)
    result = run_cli(data, "db", "restore", str(garbage), "--yes")
    assert result.returncode == 1 and "not a readable hyperoru database" in result.stderr

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    result = run_cli(data, "db", "restore", str(foreign), "--yes")
    assert result.returncode == 1 and "not a hyperoru database" in result.stderr

    newer = tmp_path / "newer.backup"
    assert run_cli(data, "db", "backup", str(newer)).returncode == 0
    with sqlite3.connect(newer) as connection:
        connection.execute("INSERT INTO alembic_version VALUES ('from_the_future')")
    result = run_cli(data, "db", "restore", str(newer), "--yes")
    assert result.returncode == 1 and "newer hyperoru" in result.stderr
    assert "from_the_future" in result.stderr

    assert (data / "hyperoru.db").read_bytes() == before
    assert not list(data.glob("*.before-restore-*"))


def test_a_restore_refuses_while_a_server_runs_and_keeps_the_replaced_database(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "db", "upgrade").returncode == 0
    backup = tmp_path / "saved.backup"
    assert run_cli(data, "db", "backup", str(backup)).returncode == 0

    env = child_env(data)
    server = subprocess.Popen(
        [sys.executable, "-m", "hyperoru", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The server marks the database before it opens it: wait for the mark, not a time.
        marker = data / "hyperoru.db.in-use"
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text().strip() == str(server.pid)):
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "the server never marked its database"
            time.sleep(0.05)
        refused = run_cli(data, "db", "restore", str(backup), "--yes")
        assert refused.returncode == 1
        assert f"in use by a running hyperoru process (pid {server.pid})" in refused.stderr
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()

    # A process killed with -9 leaves no stale mark behind.
    restored = run_cli(data, "db", "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    (kept,) = data.glob("hyperoru.db.before-restore-*")
    assert f"kept as {kept}" in restored.stdout
    with sqlite3.connect(kept) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("answer", ["n\n", ""])
def test_a_restore_asks_first(tmp_path: Path, answer: str) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "db", "upgrade").returncode == 0
    backup = tmp_path / "saved.backup"
    assert run_cli(data, "db", "backup", str(backup)).returncode == 0
    result = run_cli(data, "db", "restore", str(backup), stdin=answer)
    assert result.returncode == 1 and "nothing restored" in result.stderr
    assert not list(data.glob("*.before-restore-*"))
