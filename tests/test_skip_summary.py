"""tests/skip_summary.py (the plugin scripts/test.sh turns on) and scripts/test.sh's
"NOT A FULL RUN" banner: a run that could not test everything says what it left out, at
its very end, and a complete run says nothing of the kind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BANNER = ROOT / "scripts" / "not_a_full_run.sh"

# A tiny suite of its own: two skips for want of PostgreSQL, one for want of root, and
# a test that runs.
SKIPPING = """
import pytest

def test_runs():
    assert True

@pytest.mark.parametrize("n", [1, 2])
def test_on_postgres(n):
    pytest.skip("PostgreSQL is not available (set HYPERORU_TEST_POSTGRES_URL)")

def test_walls():
    pytest.skip("needs root to run the sandbox as nobody")
"""
PASSING = """
def test_runs():
    assert True
"""


def _pytest_with_the_plugin(
    tmp_path: Path, suite: str, *options: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_tiny.py").write_text(suite)
    # Outside the project (no conftest, no pyproject options), with only the plugin on.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.skip_summary", "-p", "no:cacheprovider",
         "-q", "--rootdir", str(tmp_path), *options, "test_tiny.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_run_with_skips_ends_with_what_was_not_tested(tmp_path: Path) -> None:
    # With two pytest-xdist workers, as scripts/test.sh runs the suite: the skips are
    # reported by the workers and summed up by the controller.
    done = _pytest_with_the_plugin(tmp_path, SKIPPING, "-n", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "NOT TESTED: 3 skipped" in out
    # Grouped by reason, the most frequent first, after pytest's own short summary.
    section = out[out.index("NOT TESTED") :]
    assert section.index(
        "2 skipped: PostgreSQL is not available (set HYPERORU_TEST_POSTGRES_URL)"
    ) < section.index("1 skipped: needs root to run the sandbox as nobody")
    assert out.rstrip().splitlines()[-1].startswith("1 passed, 3 skipped")


def test_a_full_run_says_nothing_of_the_kind(tmp_path: Path) -> None:
    done = _pytest_with_the_plugin(tmp_path, PASSING)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "NOT TESTED" not in done.stdout and "skipped" not in done.stdout


def test_the_banner_names_each_part_that_could_not_run() -> None:
    parts = ["Redis variants: no redis-server on PATH", "sandbox OS walls as nobody: not root"]
    done = subprocess.run(["bash", str(BANNER), *parts], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "!!!!!!!!!! NOT A FULL RUN: 2 part(s) of the suite could not run here:",
        "!!!!!!!!!!   Redis variants: no redis-server on PATH",
        "!!!!!!!!!!   sandbox OS walls as nobody: not root",
    ]


def test_no_banner_when_every_part_ran() -> None:
    done = subprocess.run(["bash", str(BANNER)], capture_output=True, text=True, check=True)
    assert done.stdout == "" and done.stderr == ""


def test_the_suite_script_ends_with_the_banner_of_what_it_collected() -> None:
    lines = (ROOT / "scripts" / "test.sh").read_text().rstrip().splitlines()
    # After pytest, whatever its outcome, and before handing pytest's status back.
    assert lines[-2:] == [
        'bash scripts/not_a_full_run.sh "${not_tested[@]}" >&2',
        "exit $status",
    ]
