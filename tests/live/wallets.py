"""A fresh account at a loopback fake venue and the credentials a trader connects with."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from eth_account import Account as EthAccount

from tests.fakes.binance_venue import FakeBinanceFutures
from tests.fakes.hyperliquid_venue import FakeHyperliquid


def hyperliquid_wallet(
    venue: FakeHyperliquid, usdc: Decimal = Decimal(10_000)
) -> tuple[str, dict[str, Any]]:
    """A master account holding ``usdc`` with a new agent approved for it: (master, the
    credentials the trader sends)."""
    agent = EthAccount.create()
    master = "0x" + secrets.token_hex(20)
    venue.open_account(master, usdc)
    venue.approve_agent(master, agent.address)
    return master, {
        "exchange": "hyperliquid",
        "environment": "testnet",
        "master_address": master,
        "agent_private_key": "0x" + agent.key.hex().removeprefix("0x"),
    }


def binance_key(
    venue: FakeBinanceFutures, balance: Decimal = Decimal(10_000)
) -> tuple[str, dict[str, Any]]:
    """A new API key with ``balance`` in its futures wallet: (key, the credentials)."""
    key, secret = secrets.token_hex(32), secrets.token_hex(32)
    venue.add_key(key, secret, balance=balance)
    return key, {
        "exchange": "binance",
        "environment": "testnet",
        "api_key": key,
        "api_secret": secret,
    }
