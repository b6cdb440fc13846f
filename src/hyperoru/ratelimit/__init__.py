"""Request budgets (contract §4) on the `limits` library: memory or Redis storage."""
