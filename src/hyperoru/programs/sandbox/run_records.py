"""A file per running sandbox process, so that a server started after a crash finds and
kills the ones a dead server left behind, and hands their jobs back.

Sandbox children already die with their server (``lifeline``); these records catch what
that misses (a program that escaped and cleared its parent-death signal, a kernel
without ``prctl``). Each record is ``<folder>/<host>-<server pid>-<child pid>.json``
with the start times of both processes (from ``/proc/<pid>/stat``, so a reused pid is
never mistaken for the original) and the caller's tag (a backtest: its job and lease).
A record is an orphan when the server that wrote it is no longer running; several
server processes may share one data folder and leave each other's records alone.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("hyperoru.sandbox")

Tag = Mapping[str, Any]


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot); None when there is none."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def _parent_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


@dataclass(frozen=True, slots=True)
class RunRecord:
    path: Path
    pid: int
    started: int
    owner_pid: int
    owner_started: int
    tag: dict[str, Any]

    def owner_alive(self) -> bool:
        return start_ticks(self.owner_pid) == self.owner_started

    def child_alive(self) -> bool:
        return start_ticks(self.pid) == self.started


class RunRecords:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._host = socket.gethostname().replace("/", "_")
        self._me = os.getpid()
        self._my_start = start_ticks(self._me) or 0

    def add(self, pid: int, tag: Tag | None = None) -> Path | None:
        """Record a child just started; None when it already ended (nothing to find)."""
        started = start_ticks(pid)
        if started is None:
            return None
        # Private like the data folder it lives in (created so if it is missing).
        self.folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.mkdir(mode=0o700, exist_ok=True)
        path = self.folder / f"{self._host}-{self._me}-{pid}.json"
        body = {
            "pid": pid,
            "started": started,
            "owner_pid": self._me,
            "owner_started": self._my_start,
            "tag": dict(tag or {}),
        }
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(body))
        os.replace(partial, path)  # a reader never sees half a record
        return path

    @staticmethod
    def remove(path: Path | None) -> None:
        if path is not None:
            with suppress(FileNotFoundError):
                path.unlink()

    def orphans(self) -> list[RunRecord]:
        """Records of this host whose server is gone (unreadable ones are dropped)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob(f"{self._host}-*.json")):
            record = _read(path)
            if record is None:
                self.remove(path)
            elif not record.owner_alive():
                found.append(record)
        return found

    def reap(self) -> list[dict[str, Any]]:
        """Kill every orphan still running (its whole process group), reap it when it
        was handed to this process, drop its record; answer their tags."""
        tags = []
        for record in self.orphans():
            if record.child_alive():
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(record.pid, signal.SIGKILL)
                log.warning(
                    "killed a sandbox process left by a stopped server",
                    extra={"event": "sandbox_orphan_killed", "pid": record.pid, **record.tag},
                )
                if _parent_of(record.pid) == self._me:  # this process is PID 1 or a subreaper
                    with suppress(ChildProcessError):
                        os.waitpid(record.pid, 0)
            self.remove(record.path)
            tags.append(record.tag)
        return tags


def _read(path: Path) -> RunRecord | None:
    try:
        body = json.loads(path.read_text())
        return RunRecord(
            path=path,
            pid=int(body["pid"]),
            started=int(body["started"]),
            owner_pid=int(body["owner_pid"]),
            owner_started=int(body["owner_started"]),
            tag=dict(body.get("tag") or {}),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
