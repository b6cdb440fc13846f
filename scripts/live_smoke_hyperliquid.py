"""Opt-in smoke test against Hyperliquid's TESTNET: place one order far from the market,
read it back by our id, cancel it. Never part of the test suite or CI.

    HYPERORU_LIVE_SMOKE=1 \
    HYPERLIQUID_TESTNET_MASTER=0x... \
    HYPERLIQUID_TESTNET_AGENT_KEY=0x... \
    .venv/bin/python scripts/live_smoke_hyperliquid.py [SYMBOL]

The agent key is an API wallet approved for the master on testnet
(app.hyperliquid-testnet.xyz → API); it cannot withdraw. Exit code 0 when the order was
placed and cancelled, 1 when something went wrong, 2 when not asked to run.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Mapping
from decimal import Decimal

from hyperoru.exchanges.hyperliquid import HyperliquidAdapter
from hyperoru.exchanges.hyperliquid.rules import round_price, round_size
from hyperoru.exchanges.venue import HyperliquidCredentials, VenueOrder

FLAG = "HYPERORU_LIVE_SMOKE"
MASTER = "HYPERLIQUID_TESTNET_MASTER"
AGENT_KEY = "HYPERLIQUID_TESTNET_AGENT_KEY"
# Half the mid: a buy this far below the market will not fill while the check runs.
DISTANCE = Decimal("0.5")


async def smoke(master: str, agent_key: str, symbol: str) -> int:
    credentials = HyperliquidCredentials("testnet", master, agent_key)
    adapter = HyperliquidAdapter(credentials, base_url=None)  # the real testnet host
    try:
        check = await adapter.validate()
        if check.problems:
            print("credentials refused:", *check.problems, sep="\n  ")
            return 1
        rules = (await adapter.rules())[symbol]
        price = round_price(await adapter.mid_price(symbol) * DISTANCE, rules)
        size = round_size(rules.min_notional * Decimal("1.5") / price, rules) + rules.step_size
        order = VenueOrder(
            uuid.uuid4().hex, symbol, "buy", "limit", size, price, time_in_force="alo"
        )
        placed = await adapter.submit(order)
        print(f"placed {size} {symbol} @ {price}: {placed.status} (oid {placed.venue_order_id})")
        seen = await adapter.order_status(symbol=symbol, client_order_id=order.client_order_id)
        print(f"read back by cloid: {seen.status if seen else 'not found'}")
        cancelled = await adapter.cancel(symbol=symbol, client_order_id=order.client_order_id)
        print(f"cancelled: {cancelled.status if cancelled else 'not found'}")
        return 0 if cancelled is not None and cancelled.status == "canceled" else 1
    finally:
        await adapter.aclose()


def main(argv: list[str], environ: Mapping[str, str]) -> int:
    if environ.get(FLAG) != "1":
        print(f"not run: set {FLAG}=1 (and {MASTER}, {AGENT_KEY}) to trade on testnet")
        return 2
    missing = [name for name in (MASTER, AGENT_KEY) if not environ.get(name)]
    if missing:
        print("not run: missing", ", ".join(missing))
        return 2
    symbol = argv[1] if len(argv) > 1 else "ETH"
    return asyncio.run(smoke(environ[MASTER], environ[AGENT_KEY], symbol))


if __name__ == "__main__":
    sys.exit(main(sys.argv, os.environ))
