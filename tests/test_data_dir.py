"""The data folder is private (issue 15): every command that creates it creates it 0700,
its database, WAL files and keys 0600, whatever the umask, so the sandbox's user
(``nobody``) cannot read a byte of it; an existing folder or database that others can
read is warned about at start-up, by path, and left as it is."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperoru.app import create_app
from hyperoru.data_dir import prepare_sqlite
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import STRONG_PASSWORD, Api, child_env

NOBODY = 65534


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_parent() -> Iterator[Path]:
    """A folder everyone may enter (pytest's tmp_path is 0700, which would hide the data
    folder from ``nobody`` whatever its own mode, and prove nothing)."""
    parent = Path(tempfile.mkdtemp(prefix="hyperoru-data-dir-"))
    parent.chmod(0o755)
    try:
        yield parent
    finally:
        shutil.rmtree(parent)


def hyperoru(data_dir: Path, *args: str, stdin: str = "") -> None:
    env = child_env(data_dir)
    result = subprocess.run(
        [sys.executable, "-m", "hyperoru", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=0,  # the most permissive umask: the modes must not come from it
    )
    assert result.returncode == 0, result.stderr


def assert_private(data_dir: Path) -> list[Path]:
    assert mode(data_dir) == 0o700
    files = sorted(p for p in data_dir.iterdir())
    assert files
    for path in files:
        assert path.is_file() and mode(path) == 0o600, (path, oct(mode(path)))
    return files


def readable_by_nobody(path: Path) -> bool:
    result = subprocess.run(
        ["cat", str(path)],
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return result.returncode == 0


async def test_serving_creates_a_private_folder(open_parent: Path) -> None:
    """`hyperoru serve` (and `serve --demo`): the app's start-up makes the folder, the
    database and, without HYPERORU_SECRET_KEY, the development key."""
    data_dir = open_parent / "served"
    settings = Settings(_env_file=None, data_dir=data_dir, runtime="off")  # type: ignore[call-arg]
    previous = os.umask(0)
    try:
        app = create_app(settings)
        async with running(app), asgi_client(app) as client:
            await Api(client).user()  # a write, so the WAL and shared-memory files exist
            files = assert_private(data_dir)
            names = {p.name for p in files}
            assert {"hyperoru.db", "hyperoru.db-wal", "hyperoru.db-shm", "secret.key"} <= names
    finally:
        os.umask(previous)


@pytest.mark.parametrize(
    "command",
    [("db", "upgrade"), ("users", "create", "--username", "operator")],
    ids=["db upgrade", "users create"],
)
def test_commands_create_a_private_folder(open_parent: Path, command: tuple[str, ...]) -> None:
    data_dir = open_parent / "nested" / "data"
    hyperoru(data_dir, *command, stdin=STRONG_PASSWORD + "\n")
    assert "hyperoru.db" in {p.name for p in assert_private(data_dir)}


def test_nobody_cannot_read_the_database(open_parent: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("reading as nobody needs root (to switch to uid 65534)")
    data_dir = open_parent / "data"
    hyperoru(data_dir, "users", "create", "--username", "operator", stdin=STRONG_PASSWORD + "\n")
    database = data_dir / "hyperoru.db"
    assert database.stat().st_size > 0
    # The check can see a readable file: one with the modes we used to create.
    control = open_parent / "control"
    control.write_text("readable")
    control.chmod(0o644)
    assert readable_by_nobody(control)
    assert not readable_by_nobody(database)
    # Not even with the file's own mode opened up: the folder alone keeps nobody out.
    database.chmod(0o644)
    assert not readable_by_nobody(database)


def test_an_existing_shared_folder_is_warned_about_and_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "existing"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    database = data_dir / "hyperoru.db"
    database.write_bytes(b"")
    database.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="hyperoru.data_dir"):
        prepare_sqlite(f"sqlite+aiosqlite:///{database}", data_dir)
    warned = {r.path for r in caplog.records if getattr(r, "event", "") == "data_permissions"}
    assert warned == {str(data_dir), str(database)}
    assert str(data_dir) in caplog.text and "chmod 700" in caplog.text
    assert mode(data_dir) == 0o755 and mode(database) == 0o644  # not changed behind anyone

    caplog.clear()
    data_dir.chmod(0o700)
    database.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="hyperoru.data_dir"):
        prepare_sqlite(f"sqlite+aiosqlite:///{database}", data_dir)
    assert not caplog.records
