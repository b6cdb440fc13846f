"""The operator commands of contract §0, run as real processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import serve
from tests.helpers import STRONG_PASSWORD, child_env


def _run(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = child_env(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "hyperoru", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _eventually_unauthorized(client: httpx.Client, headers: dict[str, str]) -> None:
    """The server caches verified tokens for a few seconds (HYPERORU_TOKEN_CACHE_SECONDS),
    so a revocation made by another process lands within that time, not instantly."""
    deadline = time.monotonic() + 10
    while client.get("/api/users/profile", headers=headers).status_code != 401:
        assert time.monotonic() < deadline, "revocation did not reach the server"
        time.sleep(0.25)


def _login(client: httpx.Client, username: str) -> httpx.Response:
    return client.post("/api/users/login", json={"username": username, "password": STRONG_PASSWORD})


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        result = _run(tmp_path, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
    assert (tmp_path / "hyperoru.db").exists()


def test_users_create_admin_deactivate_and_revoke(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = _run(
        data, "users", "create", "--username", "root-op", "--admin", stdin=STRONG_PASSWORD + "\n"
    )
    assert created.returncode == 0, created.stderr
    assert "as admin" in created.stdout
    assert STRONG_PASSWORD not in created.stdout + created.stderr
    plain = _run(
        data,
        "users",
        "create",
        "--username",
        "member",
        "--email",
        "m@example.com",
        stdin=STRONG_PASSWORD + "\n",
    )
    assert plain.returncode == 0, plain.stderr
    weak = _run(data, "users", "create", "--username", "weakling", stdin="password123\n")
    assert weak.returncode == 1 and "WEAK_PASSWORD" in weak.stderr

    with serve(data) as server, httpx.Client(base_url=server.base_url) as client:
        admin_token = _login(client, "root-op").json()["session_token"]
        listed = client.get("/api/users/", headers={"Authorization": f"Bearer {admin_token}"})
        assert [u["username"] for u in listed.json()] == ["root-op", "member"]
        member_token = _login(client, "member").json()["session_token"]
        member = {"Authorization": f"Bearer {member_token}"}

        revoked = _run(data, "users", "revoke-sessions", "member")
        assert revoked.returncode == 0 and "revoked 1 session" in revoked.stdout
        _eventually_unauthorized(client, member)

        member_token = _login(client, "member").json()["session_token"]
        member = {"Authorization": f"Bearer {member_token}"}
        deactivated = _run(data, "users", "deactivate", "member")
        assert deactivated.returncode == 0, deactivated.stderr
        _eventually_unauthorized(client, member)
        assert _login(client, "member").status_code == 401

        everyone = _run(data, "users", "revoke-sessions", "--all")
        assert everyone.returncode == 0
        _eventually_unauthorized(client, {"Authorization": f"Bearer {admin_token}"})


@pytest.mark.parametrize(
    "args",
    [
        ("users", "deactivate", "ghost"),
        ("users", "revoke-sessions", "ghost"),
        (
            "users",
            "revoke-sessions",
        ),
    ],
)
def test_user_commands_fail_clearly(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _run(tmp_path, *args)
    assert result.returncode == 1
    assert result.stderr.strip()
