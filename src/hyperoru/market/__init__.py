"""Market data: providers (sim, Hyperliquid, Binance), the price cache, stored candles."""
