"""The sandbox's OS walls, with the AST policy out of the way: hostile code runs with full
builtins in the sandbox process (``unrestricted_runner.py``) and each escape still fails.

These tests run without the app: they need no database, only the sandbox itself."""

from __future__ import annotations

import os
import socket
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hyperoru.programs.sandbox.launcher import (
    RUNNER,
    Sandbox,
    SandboxLimits,
    SandboxResult,
    make_server_undumpable,
)

UNRESTRICTED = Path(__file__).with_name("unrestricted_runner.py")
SENTINEL = "HYPERORU_SANDBOX_SENTINEL"


@pytest.fixture
async def sandbox(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sandbox]:
    monkeypatch.setenv(SENTINEL, "s3cret-sentinel")
    assert make_server_undumpable()
    box = Sandbox(SandboxLimits(wall_seconds=3, cpu_seconds=1, memory_bytes=256 * 1024**2))
    isolation = await box.isolation()
    if not isolation.separate_user:
        pytest.skip("the OS walls tested here need root (to run children as nobody)")
    yield box


async def hostile(sandbox: Sandbox, code: str) -> SandboxResult:
    request: dict[str, Any] = {"runner_dir": str(RUNNER.parent), "code": textwrap.dedent(code)}
    return await sandbox.run_script(UNRESTRICTED, request)


def failed(outcome: SandboxResult, *words: str) -> None:
    assert outcome.status == "error", outcome
    assert any(w in (outcome.error or "") for w in words), outcome


async def test_commands_cannot_start(sandbox: Sandbox) -> None:
    failed(await hostile(sandbox, "import os; os.system('id')\nos.fork()"), "BlockingIOError")
    failed(await hostile(sandbox, "import subprocess; subprocess.run(['id'])"), "BlockingIOError")


async def test_no_secrets_in_the_environment_or_the_parent(sandbox: Sandbox) -> None:
    seen = await hostile(sandbox, "import os; result = sorted(os.environ)")
    assert seen.status == "ok" and seen.result == ["LANG"]
    failed(
        await hostile(sandbox, "import os; open(f'/proc/{os.getppid()}/environ').read()"),
        "PermissionError",
    )
    failed(await hostile(sandbox, "import os; os.kill(os.getppid(), 0)"), "PermissionError")
    assert SENTINEL in os.environ  # the test process was not touched


async def test_the_database_and_data_files_are_out_of_reach(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    secret = tmp_path / "data" / "hyperoru.db"
    secret.parent.mkdir()
    secret.write_text("rows")
    failed(await hostile(sandbox, f"open({str(secret)!r}).read()"), "PermissionError")
    failed(
        await hostile(sandbox, f"open({str(tmp_path / 'new')!r}, 'w').write('x')"),
        "PermissionError",
    )
    failed(await hostile(sandbox, "open('here.txt', 'w').write('x')"), "PermissionError")
    failed(
        await hostile(
            sandbox, "f = open('/tmp/hyperoru-sandbox-fill', 'w')\nf.write('x' * 4096); f.flush()"
        ),
        "File too large",
        "PermissionError",
    )


async def test_no_network(sandbox: Sandbox) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    try:
        failed(
            await hostile(
                sandbox, f"import socket; socket.create_connection(('127.0.0.1', {port}), 2)"
            ),
            "OSError",
            "ConnectionRefused",
            "Network is unreachable",
        )
        failed(
            await hostile(sandbox, "import socket; socket.getaddrinfo('example.com', 80)"),
            "gaierror",
        )
        failed(
            await hostile(
                sandbox,
                "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "s.sendto(b'x', ('169.254.169.254', 53))",
            ),
            "OSError",
        )
    finally:
        server.close()


async def test_cpu_memory_and_wall_clock(sandbox: Sandbox) -> None:
    # CPU seconds are counted against the process, wall seconds against the clock: on a
    # loaded machine a spinning child gets a fraction of a core, so its 1-2 s of CPU can
    # take longer than the 3 s wall. The CPU walls are tested with a wall far away, so
    # the CPU limit (not the clock) is what stops them, however busy the machine is.
    roomy = Sandbox(SandboxLimits(wall_seconds=120, cpu_seconds=1, memory_bytes=256 * 1024**2))
    failed(await hostile(roomy, "while True: pass"), "CPU time")
    failed(
        await hostile(
            roomy,
            "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass",
        ),
        "CPU time",
    )
    failed(await hostile(roomy, "bytearray(10**10)"), "MemoryError")
    failed(await hostile(roomy, "x = 10**10**9"), "CPU time")
    slept = await hostile(sandbox, "import time; time.sleep(100)")
    assert slept.status == "timeout" and "3 s" in (slept.error or "")


async def test_threads_descriptors_and_limits(sandbox: Sandbox) -> None:
    failed(
        await hostile(sandbox, "import threading; threading.Thread(target=print).start()"),
        "RuntimeError",
    )
    fds = await hostile(sandbox, "import os; result = sorted(os.listdir('/proc/self/fd'))")
    assert fds.status == "ok" and len(fds.result) <= 4  # stdio and the listing itself
    failed(
        await hostile(
            sandbox,
            "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (100, 100))",
        ),
        "ValueError",
    )


async def test_crashes_and_bad_answers_are_errors(sandbox: Sandbox) -> None:
    failed(await hostile(sandbox, "import ctypes; ctypes.string_at(0)"), "crashed")
    failed(
        await hostile(sandbox, "import sys; sys.stdout.write('x' * 10**7); sys.stdout.flush()"),
        "larger than",
    )
    failed(
        await hostile(sandbox, "import sys, os; sys.stdout.write('NaN'); os._exit(0)"),
        "unusable",
    )
    failed(
        await hostile(sandbox, "import sys, os; sys.stdout.write('[' * 100000); os._exit(0)"),
        "unusable",
    )


async def test_one_run_cannot_affect_the_next(sandbox: Sandbox) -> None:
    poisoned = await hostile(sandbox, "import builtins; builtins.len = None; result = 'done'")
    assert poisoned.status == "ok"
    clean = await sandbox.run(
        "class Strategy:\n    def should_trade(self, data):\n"
        "        return Decision('hold', 'BTC', reasoning=str(len([1, 2])))\n",
        data={},
    )
    assert clean.status == "ok" and clean.result["reasoning"] == "2"
