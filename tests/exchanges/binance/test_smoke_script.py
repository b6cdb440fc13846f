"""The testnet smoke script refuses to touch the network unless explicitly asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "live_smoke_binance.py"


def _run(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_BINANCE_SMOKE")}
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_refuses_without_the_flag() -> None:
    result = _run(HYPERORU_BINANCE_SMOKE_API_KEY="k", HYPERORU_BINANCE_SMOKE_API_SECRET="s")
    assert result.returncode == 2
    assert "HYPERORU_BINANCE_SMOKE=1" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("environment", ["mainnet", "prod"])
def test_refuses_mainnet(environment: str) -> None:
    result = _run(
        HYPERORU_BINANCE_SMOKE="1",
        HYPERORU_BINANCE_SMOKE_ENVIRONMENT=environment,
        HYPERORU_BINANCE_SMOKE_API_KEY="k",
        HYPERORU_BINANCE_SMOKE_API_SECRET="s",
    )
    assert result.returncode == 2
    assert "only demo or testnet" in result.stderr
