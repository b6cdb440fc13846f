"""bench/order_profile.py runs end to end on SQLite and prints what it promises: the
statements of each order request and the profile's tables. No timing is asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_profile_counts_statements_and_prints_its_tables() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "order_profile.py"), "--orders", "4", "--top", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    counted = re.search(r"^create \+ execute: ([\d.]+) statements$", done.stdout, re.MULTILINE)
    assert counted is not None, done.stdout
    # The same counts tests/trading/test_order_statements.py pins, seen from the bench.
    assert float(counted.group(1)) == 8.0, done.stdout
    for heading in ("function calls per order", "self time by where the code lives", "steps"):
        assert heading in done.stdout, done.stdout
