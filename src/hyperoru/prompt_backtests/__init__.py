"""Prompt backtests: a trader's prompt replayed over past market snapshots (contract §12)."""
