"""The server's side of the sandbox: one fresh, limited process per run.

Walls, outermost first (docs/SECURITY.md has the full table):

- a separate interpreter (``python -I -S -B runner.py``), never a fork of the server,
  started with an empty environment, no inherited descriptors, its own session (so the
  whole process group can be killed) and a fresh empty temporary directory as cwd;
- when the server runs as root, the child runs as ``nobody`` (it cannot read the data
  directory's private files, signal the server or read ``/proc/<server>/environ``; the
  server is also made non-dumpable), and in its own network namespace when ``unshare``
  works (no network at all: no loopback, no DNS);
- ``resource`` limits the runner sets on itself before it reads the request: CPU time,
  address space, file size 0, few open files, few processes, no core dumps;
- a wall clock enforced here (SIGKILL to the process group), and capped output;
- the AST policy and restricted builtins inside the runner.

Each child also dies with the server (``lifeline``) and is recorded while it runs
(``run_records``), so a server started after a crash kills what a dead one left. Runs
wait their turn for a slot in ``fair_use`` (priority classes, round robin between
users, per-user caps and CPU budgets).

Which OS layers are available is probed on first use and logged once.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hyperoru.programs.sandbox.fair_queue import Kind, QueueRules
from hyperoru.programs.sandbox.fair_use import FairUse
from hyperoru.programs.sandbox.run_records import RunRecords, Tag

if TYPE_CHECKING:
    from hyperoru.replay.bars import Bars
    from hyperoru.replay.settings import ReplaySettings

log = logging.getLogger("hyperoru.sandbox")

RUNNER = Path(__file__).with_name("runner.py")
BACKTEST_RUNNER = Path(__file__).with_name("backtest_runner.py")
# The directory holding the ``hyperoru`` package: the backtest child imports the pure
# replay and engine from it.
PACKAGE_ROOT = Path(__file__).resolve().parents[3]
NOBODY = 65534
MAX_ANSWER_BYTES = 256 * 1024
MAX_STDERR_BYTES = 64 * 1024
CHILD_ENV = {"LANG": "C.UTF-8"}
# RLIMIT_NPROC=1 forbids threads: numpy's BLAS must not try to start any.
BACKTEST_ENV = {
    **CHILD_ENV,
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
# Progress reports reach the caller at most this often.
PROGRESS_INTERVAL_SECONDS = 0.1
_LARGE_ANSWER_BYTES = 1024 * 1024
SYSTEM_INTERPRETERS = ("/usr/bin/python3", "/usr/local/bin/python3")
_PR_SET_DUMPABLE = 4
_PROBE_PROGRAM = (
    "class Strategy:\n    def should_trade(self, data):\n        return Decision('hold')\n"
)

RunStatus = Literal["ok", "error", "timeout"]


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    wall_seconds: float = 30.0
    cpu_seconds: int = 10
    memory_bytes: int = 512 * 1024 * 1024
    open_files: int = 16
    # Counted per user: 1 means no fork and no threads at all (the runner needs neither).
    processes: int = 1
    answer_bytes: int = MAX_ANSWER_BYTES

    @property
    def hard_cpu_seconds(self) -> int:
        """The CPU time after which the kernel kills the run (the runner's hard limit)."""
        return self.cpu_seconds + 1

    def for_runner(self) -> str:
        return json.dumps(
            {
                "cpu_seconds": self.cpu_seconds,
                "memory_bytes": self.memory_bytes,
                "open_files": self.open_files,
                "processes": self.processes,
                # The child checks that this process is still its parent (``lifeline``).
                "parent_pid": os.getpid(),
            }
        )


# A whole backtest in one process: a year of minute bars, numpy for indicators, and an
# answer carrying every trade. The settings layer may override these.
BACKTEST_LIMITS = SandboxLimits(
    wall_seconds=300.0,
    cpu_seconds=240,
    memory_bytes=2 * 1024 * 1024 * 1024,
    open_files=32,
    answer_bytes=64 * 1024 * 1024,
)

ProgressCallback = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SandboxResult:
    status: RunStatus
    result: Any = None
    logs: list[str] = field(default_factory=list)
    error: str | None = None
    execution_time_ms: int = 0
    # A live run that asked for indicators its payload lacked: ``[symbol, name, period]``
    # each, unchecked (the program's own words); the run's answer is then not usable.
    indicators_wanted: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Isolation:
    """How children are started: argv prefix and Popen options, and what that gives."""

    interpreter: str
    prefix: tuple[str, ...] = ()
    popen: Mapping[str, Any] = field(default_factory=dict)
    network_namespace: bool = False
    separate_user: bool = False

    def argv(self, limits: SandboxLimits, script: Path = RUNNER) -> list[str]:
        runner = [self.interpreter, "-I", "-S", "-B", str(script), limits.for_runner()]
        return [*self.prefix, *runner]

    def describe(self) -> dict[str, bool | str]:
        return {
            "interpreter": self.interpreter,
            "network_namespace": self.network_namespace,
            "separate_user": self.separate_user,
        }


def make_server_undumpable() -> bool:
    """prctl(PR_SET_DUMPABLE, 0): a same-UID child can no longer read this process's
    memory or /proc/<pid>/environ. Returns whether it took effect."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _candidates() -> list[Isolation]:
    """Strongest first; the first whose probe run succeeds is used."""
    # The server's own interpreter may live where ``nobody`` cannot read (a root-owned
    # pyenv, say); the runner needs only the standard library of any Python >= 3.10.
    system = [p for p in SYSTEM_INTERPRETERS if os.access(p, os.X_OK)]
    interpreters = list(dict.fromkeys([sys.executable, *system]))
    unshare = shutil.which("unshare")
    root = os.geteuid() == 0
    found: list[Isolation] = []
    for python in interpreters:
        if root and unshare:
            ids = (f"--setgid={NOBODY}", f"--setuid={NOBODY}")
            found.append(
                Isolation(
                    python,
                    prefix=(unshare, "--net", *ids, "--"),
                    network_namespace=True,
                    separate_user=True,
                )
            )
        if root:
            popen = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
            found.append(Isolation(python, popen=popen, separate_user=True))
        if unshare and not root:
            prefix = (unshare, "--user", "--net", "--")
            found.append(Isolation(python, prefix=prefix, network_namespace=True))
    found.append(Isolation(sys.executable))
    return found


class Sandbox:
    """Runs programs, one slot (core) per process at a time, handed out by ``fair``
    (default: one slot per core, no budgets)."""

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        concurrency: int | None = None,
        backtest_limits: SandboxLimits | None = None,
        *,
        fair: FairUse | None = None,
        records: RunRecords | None = None,
    ):
        self.limits = limits or SandboxLimits()
        self.backtest_limits = backtest_limits or BACKTEST_LIMITS
        self.fair = fair or FairUse(QueueRules.for_slots(concurrency or os.cpu_count() or 1))
        self.records = records
        self._isolation: Isolation | None = None
        self._probe_lock = asyncio.Lock()

    async def isolation(self) -> Isolation:
        async with self._probe_lock:
            if self._isolation is None:
                self._isolation = await self._probe()
        return self._isolation

    async def _probe(self) -> Isolation:
        probe_limits = SandboxLimits(wall_seconds=10)
        for candidate in _candidates():
            result = await self._spawn(
                candidate, probe_limits, _request(_PROBE_PROGRAM, {}, {}), probing=True
            )
            if result.status != "ok":
                # Expected on many hosts (no user namespaces, an interpreter ``nobody``
                # cannot read): the next, weaker candidate is tried.
                log.info(
                    "sandbox isolation unavailable",
                    extra={
                        "event": "sandbox_isolation_refused",
                        "error": result.error,
                        **candidate.describe(),
                    },
                )
            else:
                log.info(
                    "sandbox isolation chosen",
                    extra={"event": "sandbox_isolation", **candidate.describe()},
                )
                return candidate
        raise RuntimeError("the program sandbox cannot start any interpreter")

    async def run(
        self,
        code: str,
        *,
        data: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
        user_id: int = 0,
        kind: Kind = Kind.TEST_RUN,
    ) -> SandboxResult:
        """Run ``Strategy().should_trade(data)`` once in a fresh sandbox process, as a
        run of ``kind`` on behalf of ``user_id``. Raises ``SandboxRefused`` when that user
        may not start one now."""
        isolation = await self.isolation()
        async with self.fair.turn(user_id, kind, max_charge=self.limits.hard_cpu_seconds):
            return await self._spawn(isolation, self.limits, _request(code, params or {}, data))

    async def run_script(self, script: Path, request: Mapping[str, Any]) -> SandboxResult:
        """Run another standard-library script under the same OS walls and protocol. The
        escape tests use it to show that those walls hold without the AST policy."""
        isolation = await self.isolation()
        async with self.fair.turn(0, Kind.TEST_RUN, max_charge=self.limits.hard_cpu_seconds):
            body = json.dumps(dict(request)).encode()
            return await self._spawn(isolation, self.limits, body, script)

    async def run_backtest(
        self,
        code: str,
        *,
        params: Mapping[str, Any],
        settings: ReplaySettings,
        bars: Mapping[str, Bars],
        on_progress: ProgressCallback | None = None,
        user_id: int = 0,
        tag: Tag | None = None,
    ) -> SandboxResult:
        """Run a whole backtest (``hyperoru.replay``) in one fresh sandbox process; on
        success ``result`` is ``ReplayResult.to_plain()``. ``on_progress`` is awaited
        with the fraction done, at most every ``PROGRESS_INTERVAL_SECONDS``. Cancelling
        the awaiting task kills the process group. ``tag`` is kept in the run's record
        and handed back by ``reap_orphans`` if the server dies meanwhile."""
        self.fair.admit(user_id, Kind.BACKTEST)  # before the request is built
        isolation = await self.isolation()
        request = await asyncio.to_thread(_backtest_request, code, params, settings, bars)
        limit = self.backtest_limits.hard_cpu_seconds
        async with self.fair.turn(user_id, Kind.BACKTEST, max_charge=limit):
            return await self._spawn(
                isolation,
                self.backtest_limits,
                request,
                BACKTEST_RUNNER,
                env=BACKTEST_ENV,
                on_progress=on_progress,
                tag=tag,
            )

    def reap_orphans(self) -> list[dict[str, Any]]:
        """Kill the sandbox processes that stopped servers left behind (blocking: call
        it off the loop); answers their tags."""
        return self.records.reap() if self.records is not None else []

    async def _spawn(
        self,
        isolation: Isolation,
        limits: SandboxLimits,
        request: bytes,
        script: Path = RUNNER,
        *,
        env: Mapping[str, str] = CHILD_ENV,
        on_progress: ProgressCallback | None = None,
        probing: bool = False,
        tag: Tag | None = None,
    ) -> SandboxResult:
        started = time.monotonic()
        workdir = tempfile.mkdtemp(prefix="hyperoru-sandbox-")
        os.chmod(workdir, 0o700)
        try:
            proc = await asyncio.create_subprocess_exec(
                *isolation.argv(limits, script),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=dict(env),
                cwd=workdir,
                close_fds=True,
                start_new_session=True,
                **isolation.popen,
            )
        except OSError as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            return SandboxResult("error", error=f"the sandbox could not start: {exc.strerror}")
        # Probes are short and run before any job: no record needed.
        record = self.records.add(proc.pid, tag) if self.records and not probing else None
        try:
            async with asyncio.timeout(limits.wall_seconds):
                answer, overflow = await _exchange(proc, request, limits.answer_bytes, on_progress)
        except asyncio.CancelledError:
            _kill_group(proc)
            await proc.wait()  # reaped here, so no zombie outlives the cancelled task
            raise
        except TimeoutError:
            _kill_group(proc)
            await proc.wait()
            log.warning("sandbox run killed", extra={"event": "sandbox_killed", "why": "wall"})
            return SandboxResult(
                "timeout",
                error=f"the program ran longer than {limits.wall_seconds:g} s and was stopped",
                execution_time_ms=_ms_since(started),
            )
        finally:
            _kill_group(proc)  # grandchildren, if any escaped the policy, go too
            RunRecords.remove(record)
            shutil.rmtree(workdir, ignore_errors=True)
        elapsed = _ms_since(started)
        if overflow:
            return SandboxResult(
                "error",
                error=f"the program's answer is larger than {limits.answer_bytes} bytes",
                execution_time_ms=elapsed,
            )
        if proc.returncode != 0:
            if not probing:
                log.warning(
                    "sandbox run died",
                    extra={"event": "sandbox_killed", "returncode": proc.returncode},
                )
            return SandboxResult(
                "error", error=_death_reason(proc.returncode), execution_time_ms=elapsed
            )
        if len(answer) > _LARGE_ANSWER_BYTES:
            return await asyncio.to_thread(_answer, answer, elapsed)
        return _answer(answer, elapsed)


def _backtest_request(
    code: str,
    params: Mapping[str, Any],
    settings: ReplaySettings,
    bars: Mapping[str, Bars],
) -> bytes:
    from hyperoru.replay.bars import to_wire

    numpy = find_spec("numpy")
    numpy_root = str(Path(numpy.origin).resolve().parents[1]) if numpy and numpy.origin else None
    header, block = to_wire(bars)
    # One JSON line, then the bars' binary columns (backtest_runner.read_request).
    head = json.dumps(
        {
            "code": code,
            "params": dict(params),
            "settings": settings.to_plain(),
            "bars": header,
            "package_root": str(PACKAGE_ROOT),
            "numpy_root": numpy_root,
            "python": list(sys.version_info[:2]),
        }
    ).encode()
    return b"\n".join((head, block))


def _request(code: str, params: Mapping[str, Any], data: Mapping[str, Any]) -> bytes:
    return json.dumps(
        {
            "code": code,
            "params": dict(params),
            "data": dict(data),
            # ``data.get_indicator`` checks requests with the package's catalog.
            "package_root": str(PACKAGE_ROOT),
        }
    ).encode()


async def _exchange(
    proc: asyncio.subprocess.Process,
    request: bytes,
    answer_cap: int = MAX_ANSWER_BYTES,
    on_progress: ProgressCallback | None = None,
) -> tuple[bytes, bool]:
    """Send the request, read a capped answer, drain stderr (reporting progress lines),
    wait for the exit."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    with suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(request)
        await proc.stdin.drain()
    proc.stdin.close()
    errors = (
        _read_capped(proc.stderr, MAX_STDERR_BYTES)
        if on_progress is None
        else _read_progress(proc.stderr, on_progress)
    )
    answer, _ = await asyncio.gather(_read_capped(proc.stdout, answer_cap), errors)
    if answer[1]:
        _kill_group(proc)
    await proc.wait()
    return answer


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[bytes, bool]:
    """Up to ``cap`` bytes; beyond that, keep draining (so the child never blocks on a
    full pipe before the kill) but drop the rest and report the overflow."""
    kept = bytearray()
    overflow = False
    while chunk := await stream.read(64 * 1024):
        if len(kept) + len(chunk) > cap:
            overflow = True
            kept.extend(chunk[: cap - len(kept)])
        else:
            kept.extend(chunk)
    return bytes(kept), overflow


async def _read_progress(stream: asyncio.StreamReader, on_progress: ProgressCallback) -> None:
    """Drain stderr; report ``progress <fraction>`` lines (clamped to 0..1, throttled).
    Anything else, and lines too long to be progress, is dropped unread."""
    pending = b""
    reported_at = 0.0
    while chunk := await stream.read(64 * 1024):
        *lines, pending = (pending + chunk).split(b"\n")
        pending = pending[-256:]
        fraction = None
        for line in lines:
            word, _, value = line.partition(b" ")
            if word == b"progress":
                with suppress(ValueError):
                    # NaN compares false both ways and lands on 0.
                    fraction = min(1.0, max(0.0, float(value)))
        now = time.monotonic()
        if fraction is not None and now - reported_at >= PROGRESS_INTERVAL_SECONDS:
            reported_at = now
            await on_progress(fraction)


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _death_reason(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        number = -returncode
        if number == signal.SIGXCPU or number == signal.SIGKILL:
            return "the program exceeded its CPU time or memory budget and was stopped"
        return f"the program crashed ({signal.Signals(number).name})"
    return f"the sandbox process failed (exit status {returncode})"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a program's answer")


def _answer(raw: bytes, elapsed: int) -> SandboxResult:
    try:
        document = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        return SandboxResult(
            "error", error=f"unusable sandbox answer: {exc}", execution_time_ms=elapsed
        )
    if not isinstance(document, dict) or document.get("status") not in ("ok", "error"):
        return SandboxResult("error", error="unusable sandbox answer", execution_time_ms=elapsed)
    logs = document.get("logs")
    lines = [str(line) for line in logs] if isinstance(logs, Sequence) else []
    error = document.get("error")
    wanted = document.get("indicators_wanted")
    return SandboxResult(
        status=document["status"],
        result=document.get("result"),
        logs=lines,
        error=str(error) if error is not None else None,
        execution_time_ms=elapsed,
        indicators_wanted=list(wanted) if isinstance(wanted, list) else [],
    )


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
