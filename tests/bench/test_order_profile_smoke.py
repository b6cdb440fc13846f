"""bench/order_profile.py runs end to end on SQLite and prints what it promises: the
statements of each order request and the profile's tables. No timing is asserted."""

from __future__ import annotations

import re

from tests.bench.run_bench import run_bench


def test_the_profile_counts_statements_and_prints_its_tables() -> None:
    stdout = run_bench("order_profile.py", "--orders", "4", "--top", "3")
    counted = re.search(r"^create \+ execute: ([\d.]+) statements$", stdout, re.MULTILINE)
    assert counted is not None, stdout
    # The same counts tests/trading/test_order_statements.py pins, seen from the bench.
    assert float(counted.group(1)) == 8.0, stdout
    for heading in ("function calls per order", "self time by where the code lives", "steps"):
        assert heading in stdout, stdout
