"""The adapter against the loopback fake venue, over real HTTP.

The adapter's clock is the fake's, so nonces and the dead-man switch follow the time the
test sets; each test gets its own nonce counter.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from eth_account import Account

from hyperoru.exchanges.hyperliquid.client import HyperliquidAdapter
from hyperoru.exchanges.hyperliquid.nonces import SignerNonces
from hyperoru.exchanges.venue import HyperliquidCredentials
from tests.fakes.hyperliquid_venue import FakeHyperliquid, fake_hyperliquid

MASTER_KEY = "0x" + "11" * 32
AGENT_KEY = "0x" + "22" * 32
OTHER_KEY = "0x" + "33" * 32
MASTER = Account.from_key(MASTER_KEY).address
AGENT = Account.from_key(AGENT_KEY).address
OTHER = Account.from_key(OTHER_KEY).address


def credentials(key: str = AGENT_KEY, environment: str = "testnet") -> HyperliquidCredentials:
    return HyperliquidCredentials(
        environment=environment,  # type: ignore[arg-type]
        master_address=MASTER,
        agent_private_key=key,
    )


def new_id() -> str:
    return uuid.uuid4().hex


@pytest.fixture
async def venue() -> AsyncIterator[FakeHyperliquid]:
    async with fake_hyperliquid() as fake:
        fake.open_account(MASTER, usdc=Decimal(10_000))
        fake.approve_agent(MASTER, AGENT, name="hyperoru")
        fake.set_mid("ETH", "2000")
        fake.set_mid("BTC", "60000")
        yield fake


def open_adapter(
    venue: FakeHyperliquid, key: str = AGENT_KEY, environment: str = "testnet", **options: object
) -> HyperliquidAdapter:
    return HyperliquidAdapter(
        credentials(key, environment),
        base_url=venue.base_url,
        clock=venue.clock,
        nonces=SignerNonces(),
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def adapter(venue: FakeHyperliquid) -> AsyncIterator[HyperliquidAdapter]:
    opened = open_adapter(venue)
    yield opened
    await opened.aclose()
