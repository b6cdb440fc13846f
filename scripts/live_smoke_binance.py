"""Opt-in smoke test of the Binance USDⓈ-M adapter against Binance's testnet or demo venue.

Places ONE post-only limit buy far below the market on BTCUSDT, reads it back by our
client order id, cancels it and checks it is gone. Never part of the test suite, never
run against mainnet. It needs, in the environment:

    HYPERORU_BINANCE_SMOKE=1                   the explicit "yes, touch the network"
    HYPERORU_BINANCE_SMOKE_ENVIRONMENT=demo    or testnet (mainnet is refused)
    HYPERORU_BINANCE_SMOKE_API_KEY=...
    HYPERORU_BINANCE_SMOKE_API_SECRET=...

    .venv/bin/python scripts/live_smoke_binance.py

Exit status 0 when the order was placed and cancelled, 1 on a venue failure, 2 when the
environment does not ask for a run.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from decimal import ROUND_CEILING, Decimal

import httpx

from hyperoru.exchanges.binance.client import HOSTS, connect
from hyperoru.exchanges.binance.rules import round_price
from hyperoru.exchanges.venue import BinanceCredentials, VenueError, VenueOrder

SYMBOL = "BTC"
# Far enough below the mark never to fill, within the venue's PERCENT_PRICE band.
DISTANCE = Decimal("0.85")


def _refuse(message: str) -> int:
    print(f"live_smoke_binance: {message}", file=sys.stderr)
    return 2


async def _mark_price(environment: str) -> tuple[Decimal, Decimal]:
    """The mark and the lowest price the venue accepts for a limit buy."""
    async with httpx.AsyncClient(base_url=HOSTS[environment], timeout=10) as http:
        premium = (await http.get("/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
        info = (await http.get("/fapi/v1/exchangeInfo")).json()
    mark = Decimal(premium["markPrice"])
    floor = mark * DISTANCE
    for entry in info["symbols"]:
        if entry["symbol"] == "BTCUSDT":
            for band in entry["filters"]:
                if band["filterType"] == "PERCENT_PRICE":
                    floor = max(floor, mark * Decimal(band["multiplierDown"]) * Decimal("1.01"))
    return mark, floor


async def run(environment: str, api_key: str, api_secret: str) -> int:
    credentials = BinanceCredentials(environment, api_key, api_secret)  # type: ignore[arg-type]
    adapter = connect(credentials, base_url=None)
    try:
        check = await adapter.validate()
        print(f"validate: problems={list(check.problems)} can_withdraw={check.can_withdraw}")
        rules = (await adapter.rules())[SYMBOL]
        mark, floor = await _mark_price(environment)
        price = round_price(rules, floor, "sell")  # rounded up: stays inside the band
        quantity = (
            rules.min_notional * Decimal("1.1") / price / rules.step_size
        ).to_integral_value(ROUND_CEILING) * rules.step_size
        order = VenueOrder(
            uuid.uuid4().hex, SYMBOL, "buy", "limit", quantity, price, time_in_force="alo"
        )
        print(f"mark {mark}: placing post-only buy {quantity} @ {price} ({order.client_order_id})")
        placed = await adapter.submit(order)
        print(f"placed: {placed.status} venue id {placed.venue_order_id}")
        seen = await adapter.order_status(symbol=SYMBOL, client_order_id=order.client_order_id)
        print(f"read back: {seen.status if seen else 'not found'}")
        cancelled = await adapter.cancel(symbol=SYMBOL, client_order_id=order.client_order_id)
        print(f"cancelled: {cancelled.status if cancelled else 'not found'}")
        still_open = [
            o for o in await adapter.open_orders() if o.client_order_id == order.client_order_id
        ]
        if seen is None or cancelled is None or cancelled.status != "canceled" or still_open:
            print("FAILED: the order was not seen, cancelled and gone", file=sys.stderr)
            return 1
        print("ok")
        return 0
    except VenueError as exc:
        print(f"FAILED: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await adapter.aclose()


def main() -> int:
    if os.environ.get("HYPERORU_BINANCE_SMOKE") != "1":
        return _refuse("not run: set HYPERORU_BINANCE_SMOKE=1 (it places a real order)")
    environment = os.environ.get("HYPERORU_BINANCE_SMOKE_ENVIRONMENT", "demo")
    if environment not in ("demo", "testnet"):
        return _refuse(f"refused: environment {environment!r} (only demo or testnet)")
    api_key = os.environ.get("HYPERORU_BINANCE_SMOKE_API_KEY")
    api_secret = os.environ.get("HYPERORU_BINANCE_SMOKE_API_SECRET")
    if not api_key or not api_secret:
        return _refuse("set HYPERORU_BINANCE_SMOKE_API_KEY and HYPERORU_BINANCE_SMOKE_API_SECRET")
    return asyncio.run(run(environment, api_key, api_secret))


if __name__ == "__main__":
    sys.exit(main())
