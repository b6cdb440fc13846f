"""The app's venue connector opens the Hyperliquid adapter where the settings point it,
and the opt-in testnet smoke script refuses to run unless asked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hyperoru.exchanges.connect import venue_connector
from hyperoru.exchanges.hyperliquid.client import MAINNET_URL, TESTNET_URL, HyperliquidAdapter
from hyperoru.settings import Settings
from tests.exchanges.hyperliquid.conftest import credentials
from tests.fakes.hyperliquid_venue import FakeHyperliquid

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "live_smoke_hyperliquid.py"


def _settings(tmp_path: Path, base_url: str | None) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, hyperliquid_base_url=base_url)  # type: ignore[call-arg]


async def test_the_base_url_setting_replaces_the_host_but_not_the_network(
    venue: FakeHyperliquid, tmp_path: Path
) -> None:
    connect = venue_connector(_settings(tmp_path, venue.base_url))
    testnet = connect(credentials())
    mainnet = connect(credentials(environment="mainnet"))
    try:
        assert testnet.environment == "testnet" and testnet.venue == "hyperliquid"
        assert (await testnet.validate()).problems == ()
        # Pointed at the same (testnet) venue, mainnet credentials still sign for mainnet.
        (problem,) = (await mainnet.validate()).problems
        assert "signature" in problem
    finally:
        await testnet.aclose()
        await mainnet.aclose()


async def test_without_the_setting_each_environment_has_its_host(tmp_path: Path) -> None:
    connect = venue_connector(_settings(tmp_path, None))
    for environment, host in (("testnet", TESTNET_URL), ("mainnet", MAINNET_URL)):
        adapter = connect(credentials(environment=environment))
        assert isinstance(adapter, HyperliquidAdapter)
        assert adapter._base_url == host
        await adapter.aclose()


def test_the_smoke_script_refuses_to_run_without_its_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = importlib.util.spec_from_file_location("live_smoke_hyperliquid", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    keys = {"HYPERLIQUID_TESTNET_MASTER": "0x" + "1" * 40, "HYPERLIQUID_TESTNET_AGENT_KEY": "0x1"}
    assert script.main(["smoke"], keys) == 2
    assert "HYPERORU_LIVE_SMOKE=1" in capsys.readouterr().out
    assert script.main(["smoke"], {"HYPERORU_LIVE_SMOKE": "1"}) == 2
    assert "missing" in capsys.readouterr().out
