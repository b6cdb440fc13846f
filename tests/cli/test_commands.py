"""The command line itself: version, help, quiet logging, user commands, local backtests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from hyperoru import __version__
from hyperoru.app import create_app
from hyperoru.backtests.local import run_local_backtest
from hyperoru.backtests.schemas import BacktestConfig
from hyperoru.cli import app
from hyperoru.db.engine import create_engine, create_sessionmaker
from hyperoru.db.migrate import upgrade_database
from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers.sim.provider import SimProvider
from hyperoru.market.runtime import MarketRuntime
from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.settings import Settings
from tests.backtests.support import FAILING, TAKING_TURNS
from tests.cli.run import run_cli
from tests.conftest import asgi_client, running
from tests.helpers import STRONG_PASSWORD

NEW_PASSWORD = "purple elephant umbrella sunrise"
RANGE = ("--from", "2026-01-01", "--to", "2026-01-04", "--interval", "1h")


def _options(command: Any, path: str = "hyperoru") -> list[tuple[str, Any]]:
    """Every option of every command, by the command's path (typer ships its own click,
    so its classes are read by their attributes)."""
    found = [(path, p) for p in command.params if p.param_type_name == "option"]
    for name, sub in getattr(command, "commands", {}).items():
        found.extend(_options(sub, f"{path} {name}"))
    return found


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"hyperoru {__version__}"


def test_every_switch_is_a_plain_flag() -> None:
    """`--demo`, not `--demo / --no-demo`: a switch's help shows the one flag to pass."""
    options = _options(typer.main.get_command(app))
    switches = [(path, o) for path, o in options if o.is_flag and o.is_bool_flag]
    assert {o.opts[0] for _, o in switches} >= {"--demo", "--admin", "--json", "--all"}
    assert [(path, o.secondary_opts) for path, o in switches if o.secondary_opts] == []
    serve_help = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "120"}).stdout
    assert "--demo" in serve_help and "--no-demo" not in serve_help


def _commands(command: Any, path: str = "hyperoru") -> set[str]:
    found = {path}
    for name, sub in getattr(command, "commands", {}).items():
        found |= _commands(sub, f"{path} {name}")
    return found


def test_every_documented_command_exists() -> None:
    names = _commands(typer.main.get_command(app))
    for command in (
        "hyperoru serve",
        "hyperoru worker",
        "hyperoru backtest",
        "hyperoru db upgrade",
        "hyperoru db backup",
        "hyperoru db restore",
        "hyperoru users create",
        "hyperoru users list",
        "hyperoru users set-password",
        "hyperoru users deactivate",
        "hyperoru users revoke-sessions",
        "hyperoru candles import",
        "hyperoru candles export",
        "hyperoru candles list",
        "hyperoru secrets rotate",
    ):
        assert command in names


def test_migrations_are_quiet_unless_verbose(tmp_path: Path) -> None:
    quiet = run_cli(tmp_path / "a", "users", "list")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert "no users yet" in quiet.stdout
    loud = run_cli(tmp_path / "b", "-v", "users", "list")
    assert loud.returncode == 0
    assert "Running upgrade" in loud.stderr


async def _login(data_dir: Path, username: str, password: str) -> int:
    settings = Settings(_env_file=None, data_dir=data_dir, runtime="off")  # type: ignore[call-arg]
    application = create_app(settings)
    async with running(application), asgi_client(application) as c:
        response = await c.post(
            "/api/users/login", json={"username": username, "password": password}
        )
        return response.status_code


async def test_users_list_and_set_password(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = run_cli(data, "users", "create", "--username", "alice", stdin=STRONG_PASSWORD)
    assert created.returncode == 0, created.stderr
    listed = run_cli(data, "users", "list", "--json")
    assert [(u["username"], u["is_admin"], u["is_active"]) for u in json.loads(listed.stdout)] == [
        ("alice", False, True)
    ]
    table = run_cli(data, "users", "list")
    assert "alice" in table.stdout

    changed = run_cli(
        data, "users", "set-password", "alice", "--password-stdin", stdin=NEW_PASSWORD + "\n"
    )
    assert changed.returncode == 0, changed.stderr
    assert "password set for alice" in changed.stdout
    assert NEW_PASSWORD not in changed.stdout + changed.stderr
    assert await _login(data, "alice", NEW_PASSWORD) == 200
    assert await _login(data, "alice", STRONG_PASSWORD) == 401

    weak = run_cli(data, "users", "set-password", "alice", stdin="password123\n")
    assert weak.returncode == 1 and "WEAK_PASSWORD" in weak.stderr
    ghost = run_cli(data, "users", "set-password", "ghost", stdin=NEW_PASSWORD + "\n")
    assert ghost.returncode == 1 and "no such user: ghost" in ghost.stderr


def test_local_backtest_prints_metrics_and_trades(tmp_path: Path) -> None:
    program = tmp_path / "turns.py"
    program.write_text(TAKING_TURNS)
    shown = run_cli(tmp_path / "data", "backtest", str(program), "--symbols", "BTC", *RANGE)
    assert shown.returncode == 0, shown.stderr
    assert "BTC, 1h, 2026-01-01T00:00:00Z to 2026-01-04T00:00:00Z: 72 bars" in shown.stdout
    for words in ("Metrics", "total_pnl", "Trades (", "fingerprint "):
        assert words in shown.stdout
    as_json = run_cli(
        tmp_path / "data", "backtest", str(program), "--symbols", "BTC", *RANGE, "--json"
    )
    result = json.loads(as_json.stdout)
    assert result["status"] == "completed"
    assert result["fingerprint"] in shown.stdout
    assert len(result["trades"]) == result["metrics"]["total_trades"] > 0


@pytest.mark.parametrize("as_json", [False, True])
def test_local_backtest_failures_are_clear(tmp_path: Path, as_json: bool) -> None:
    program = tmp_path / "failing.py"
    program.write_text(FAILING)
    extra = ("--json",) if as_json else ()
    failed = run_cli(tmp_path, "backtest", str(program), "--symbols", "BTC", *RANGE, *extra)
    assert failed.returncode == 1
    if as_json:
        body = json.loads(failed.stdout)
        assert body["status"] == "failed" and "cursed" in body["error"]
    else:
        assert "cursed" in failed.stderr and failed.stdout == ""
    unknown = run_cli(tmp_path, "backtest", str(program), "--symbols", "NOPE", *RANGE, *extra)
    assert unknown.returncode == 1
    assert "SYMBOL_NOT_FOUND" in (unknown.stdout if as_json else unknown.stderr)
    bad = run_cli(tmp_path, "backtest", str(program), "--symbols", "BTC", *RANGE, "--params", "[1]")
    assert bad.returncode == 1 and "--params must be a JSON object" in bad.stderr


async def test_local_backtest_reports_progress_to_the_end(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    engine = create_engine(settings)
    provider = SimProvider(seed=42)
    seen: list[float] = []

    async def record(done: float) -> None:
        seen.append(done)

    try:
        await upgrade_database(engine)
        market = MarketRuntime(
            provider, PriceCache(provider, symbols=["BTC"], refresh_seconds=5), "simulated"
        )
        config = BacktestConfig(symbols=["BTC"], start_date="2026-01-01", end_date="2026-01-04")
        done = await run_local_backtest(
            create_sessionmaker(engine),
            market,
            Sandbox(),
            code=TAKING_TURNS,
            config=config,
            params={},
            owner_id=None,
            max_candles=50_000,
            on_progress=record,
        )
    finally:
        await provider.aclose()
        await engine.dispose()
    assert done.bars == 72
    assert seen == sorted(seen)
    assert seen[0] == pytest.approx(0.1)  # the candles loaded
    assert seen[-1] == 1.0
