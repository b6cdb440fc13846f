"""Trading: the pure paper engine (``engine/``), the paper exchange client that persists it,
its monitor task, and the orders, positions, trades and asset-curve routers."""
