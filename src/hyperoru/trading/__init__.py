"""Trading: the pure paper engine, and (later) the paper exchange client and its routers."""
