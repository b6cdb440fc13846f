"""Program backtests: jobs that replay a program over stored or fetched candles in the
sandbox (contract §12, docs/BACKTESTS.md)."""
