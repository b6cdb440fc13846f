"""Run a script of bench/ as a newcomer would: a child Python, no HYPERORU_ setting
inherited from the suite's environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import child_env

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str) -> str:
    """``bench/<script> args``'s standard output; fails the test if it exits non-zero."""
    env = child_env()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout
