"""Binance USDⓈ-M futures public REST."""
