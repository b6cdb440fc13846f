"""Binance USDⓈ-M futures: our own async HMAC REST client behind ``VenueAdapter``."""

from hyperoru.exchanges.binance.client import BinanceFuturesAdapter, connect

__all__ = ["BinanceFuturesAdapter", "connect"]
