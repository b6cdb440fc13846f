"""Prompt templates: the user's own, and the built-in read-only ones (contract §10)."""
