"""The data folder is private: created 0700, its database and key files 0600.

It holds the SQLite database (password hashes, e-mails, session digests, every user's
programs) and, in development, the master key. Sandbox children run as ``nobody``; with
a world-readable folder they could read all of it. Whatever we create here is private
whatever the umask. A folder or file that already exists is the operator's: we never
change its mode behind their back, we log a warning naming it at start-up instead.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger("hyperoru.data_dir")

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# SQLite's companions of a database file (they take the database file's mode).
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def warn_if_shared(path: Path) -> bool:
    """Log a warning when ``path`` grants any access to its group or to others."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if not mode & 0o077:
        return False
    private = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
    log.warning(
        "%s is accessible to other users (mode %o): it holds the server's data; "
        "chmod %o it (the sandbox runs as another user)",
        path,
        mode,
        private,
        extra={"event": "data_permissions", "path": str(path), "mode": f"{mode:o}"},
    )
    return True


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700 (its parents with the default mode) unless it exists;
    an existing one is left as it is and only warned about."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # another process won the race: theirs, as it is
            pass
        else:
            # The umask narrows mkdir's mode; set it exactly, since the folder is ours.
            os.chmod(path, PRIVATE_DIR_MODE)
            return path
    warn_if_shared(path)
    return path


def ensure_private_file(path: Path) -> Path:
    """Create an empty ``path`` with mode 0600 unless it exists (then only warn)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        warn_if_shared(path)
        return path
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
    finally:
        os.close(descriptor)
    return path


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; ``None`` for other databases or in-memory ones."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def prepare_sqlite(url: str, data_dir: Path) -> None:
    """Before SQLite opens ``url``: the data folder private, the database file created
    0600 by us (an empty file is an empty database; SQLite would create it with the
    umask's mode, and its -wal and -shm files copy that mode), or warned about."""
    ensure_private_dir(data_dir)
    database = sqlite_file(url)
    if database is None or not database.parent.is_dir():
        return
    ensure_private_file(database)
    for suffix in SQLITE_COMPANIONS:
        warn_if_shared(database.with_name(database.name + suffix))
