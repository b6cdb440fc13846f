"""GET /api/health (contract §5)."""
