"""Coin names (as on Hyperliquid: ``BTC``) ↔ Binance USDⓈ-M pairs (``BTCUSDT``)."""

from __future__ import annotations

_QUOTE = "USDT"


def pair_of(coin: str) -> str:
    return f"{coin.upper()}{_QUOTE}"


def coin_of(pair: str) -> str | None:
    """The coin of a USDT-quoted pair; None for other quotes (USDC, BUSD, delivery)."""
    if not pair.endswith(_QUOTE) or len(pair) == len(_QUOTE):
        return None
    return pair[: -len(_QUOTE)]
