"""A pytest plugin for scripts/mutation.py: hypothesis stops at its first failing example.

A mutant only needs one failure to be killed; shrinking that example to the smallest one
takes minutes on a loaded machine and made killed mutants look like timeouts. Loaded
before the test modules are imported, so their ``settings(...)`` inherit the phases.
"""

from __future__ import annotations

import pytest
from hypothesis import Phase, settings


def pytest_configure(config: pytest.Config) -> None:
    settings.register_profile(
        "mutation", phases=[Phase.explicit, Phase.reuse, Phase.generate], database=None
    )
    settings.load_profile("mutation")
