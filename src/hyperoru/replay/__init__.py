"""Backtest replay: stored or simulated candles driven through the paper engine.

Pure (standard library, ``trading.engine``, ``strategies.{decision,risk,intents}`` and
``exchanges.base`` only), so the whole replay can run inside the program sandbox. The
order of events within a bar, fills, metrics and the fingerprint: docs/BACKTESTS.md.
"""
