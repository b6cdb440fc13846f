"""The embedded, offline, deterministic market: a pure function of (seed, symbol, time)."""
