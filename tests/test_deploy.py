"""The deployment examples in deploy/ name only real settings and commands, and the
production settings they describe pass the production checks."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperoru.production import production_problems
from hyperoru.settings import Settings
from tests.cli.run import run_cli

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SETTING = re.compile(r"\bHYPERORU_[A-Z0-9_]+\b")


def _env_file(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return {name.strip(): value.strip() for name, value in pairs}


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _settings_from(environment: dict[str, str]) -> Settings:
    values = {
        name.removeprefix("HYPERORU_").lower(): value
        for name, value in environment.items()
        if value != ""
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_every_setting_named_in_deploy_exists() -> None:
    known = {f"HYPERORU_{name.upper()}" for name in Settings.model_fields}
    named = {
        (path.name, name)
        for path in DEPLOY.rglob("*")
        if path.is_file()
        for name in SETTING.findall(path.read_text())
    }
    assert named, "deploy/ names no settings"
    assert [(where, name) for where, name in sorted(named) if name not in known] == []


def test_the_example_environment_passes_the_production_checks_once_filled_in() -> None:
    example = _env_file(DEPLOY / "hyperoru.env.example")
    assert example["HYPERORU_ENV"] == "production"
    # No key or token ships with the example: the operator must make their own.
    assert example["HYPERORU_SECRET_KEY"] == "" and example["HYPERORU_METRICS_TOKEN"] == ""
    unfilled = production_problems(_settings_from(example))
    assert [p for p in unfilled if p.startswith("HYPERORU_SECRET_KEY")], unfilled

    filled = {**example, "HYPERORU_SECRET_KEY": "s" * 48}
    compose = _compose()
    for service in ("api", "worker"):
        environment = {
            name: str(value).replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}", "pw")
            for name, value in compose["services"][service]["environment"].items()
        }
        assert production_problems(_settings_from({**filled, **environment})) == []


def test_compose_runs_two_api_processes_and_two_workers_on_postgres_and_redis() -> None:
    services = _compose()["services"]
    api, worker = services["api"], services["worker"]
    assert api["command"][:2] == ["hyperoru", "serve"]
    assert api["command"][api["command"].index("--workers") + 1] == "2"
    assert api["environment"]["HYPERORU_RUNTIME"] == "off"
    assert worker["command"][:2] == ["hyperoru", "worker"]
    assert worker["deploy"]["replicas"] == 2
    for service in (api, worker):
        assert service["environment"]["HYPERORU_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert service["environment"]["HYPERORU_REDIS_URL"].startswith("redis://redis:")
        assert set(service["depends_on"]) == {"postgres", "redis"}
    # Published on the host's loopback only: the proxy in front is the way in.
    assert all(port.startswith("127.0.0.1:") for port in api["ports"])


def test_compose_publishes_each_workers_metrics_port_on_the_hosts_loopback() -> None:
    worker = _compose()["services"]["worker"]
    command = worker["command"]
    help_text = run_cli(Path("/nonexistent"), "worker", "--help")
    assert help_text.returncode == 0, help_text.stderr
    for option in (word for word in command[2:] if word.startswith("--")):
        assert option in help_text.stdout, f"compose: {option} is not an option of worker"
    port = command[command.index("--metrics-port") + 1]
    (published,) = worker["ports"]
    host, host_ports, container_port = published.rsplit(":", 2)
    assert host == "127.0.0.1" and container_port == port
    # One host port for each replica.
    first, last = (int(p) for p in host_ports.split("-"))
    assert last - first + 1 == worker["deploy"]["replicas"]


@pytest.mark.parametrize("unit", ["hyperoru-api.service", "hyperoru-worker@.service"])
def test_systemd_units_run_real_commands(unit: str) -> None:
    text = (DEPLOY / "systemd" / unit).read_text()
    (exec_start,) = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    command = shlex.split(exec_start.removeprefix("ExecStart="))
    assert command[0].endswith("/bin/hyperoru")
    help_text = run_cli(Path("/nonexistent"), *command[1:2], "--help")
    assert help_text.returncode == 0, help_text.stderr
    for option in (word for word in command[2:] if word.startswith("--")):
        assert option in help_text.stdout, f"{unit}: {option} is not an option of {command[1]}"
    assert "EnvironmentFile=/etc/hyperoru/hyperoru.env" in text
    if command[1] == "worker":
        # Each instance's metrics on its own loopback port (the default address).
        assert command[command.index("--metrics-port") + 1] == "910%i"
        assert "--metrics-host" not in command


def test_production_refuses_development_defaults_and_lists_every_problem(
    tmp_path: Path,
) -> None:
    result = run_cli(tmp_path / "data", "serve", env={"HYPERORU_ENV": "production"})
    assert result.returncode == 1
    for setting in ("HYPERORU_SECRET_KEY", "HYPERORU_MARKET_DATA"):
        assert setting in result.stderr
    assert "Uvicorn running" not in result.stderr
