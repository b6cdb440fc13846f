"""Which processes are using a SQLite database file right now.

``hyperoru serve`` and ``hyperoru worker`` hold a shared ``flock`` on a companion file of
the database (``hyperoru.db.in-use``) for their whole life; ``hyperoru db restore`` needs
the exclusive lock and so refuses while any of them runs. A process that dies, even by
``kill -9``, releases its lock with its file descriptors: there is no stale pid file to
clean up. The file names the last holder's pid, only for the message.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hyperoru.data_dir import ensure_private_file

IN_USE_SUFFIX = ".in-use"


class DatabaseInUse(RuntimeError):
    """Another process (a server or worker) has the database open."""


def _marker(database: Path) -> Path:
    return database.with_name(database.name + IN_USE_SUFFIX)


def hold_shared(database: Path) -> int:
    """Mark ``database`` as used by this process until it exits; returns the descriptor
    (kept open on purpose: closing it would release the mark)."""
    marker = ensure_private_file(_marker(database))
    descriptor = os.open(marker, os.O_RDWR | os.O_CLOEXEC)
    fcntl.flock(descriptor, fcntl.LOCK_SH)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
    return descriptor


@contextmanager
def exclusive(database: Path) -> Iterator[None]:
    """Hold ``database`` alone for the block, or raise ``DatabaseInUse`` at once."""
    marker = ensure_private_file(_marker(database))
    descriptor = os.open(marker, os.O_RDWR | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
            raise DatabaseInUse(
                f"{database} is in use by a running hyperoru process"
                + (f" (pid {holder})" if holder else "")
                + ": stop the server and workers first"
            ) from None
        yield
    finally:
        os.close(descriptor)
