"""What can be seen of SQLite connections from outside the server: every connection holds
the database file open, so the server process's descriptors on that file count its open
connections (idle ones in the pool included; which are in use is not visible)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from scale.measure import ConnectionSample


def open_handles(pid: int, path: Path) -> int:
    target = str(path.resolve())
    fd_dir = Path(f"/proc/{pid}/fd")
    count = 0
    try:
        entries = list(fd_dir.iterdir())
    except OSError:  # the process has gone
        return 0
    for entry in entries:
        try:
            count += os.readlink(entry) == target
        except OSError:  # closed while we looked
            continue
    return count


async def sample_open_connections(
    pid: int, path: Path, samples: list[ConnectionSample], every_seconds: float = 1.0
) -> None:
    while True:
        samples.append(ConnectionSample(time.time(), open_handles(pid, path), None))
        await asyncio.sleep(every_seconds)
