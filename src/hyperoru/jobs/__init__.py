"""Long-running jobs (backfills, later backtests): one table, one runner (docs/JOBS.md)."""
