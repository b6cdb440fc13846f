"""A pytest plugin (``-p tests.skip_summary``, on in scripts/test.sh): a run that skipped
tests says so at its very end, loudly, grouped by reason, so a run without PostgreSQL,
Redis or root is never mistaken for a full one."""

from __future__ import annotations

from collections import Counter

import pytest


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reasons = Counter(skip_reason(r) for r in terminalreporter.stats.get("skipped", ()))
    if not reasons:
        return
    total = sum(reasons.values())
    terminalreporter.section(f"NOT TESTED: {total} skipped", sep="!", red=True, bold=True)
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:5} skipped: {reason}", red=True, bold=True)
