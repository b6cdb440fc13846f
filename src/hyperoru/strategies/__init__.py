"""Prompt templates, model decisions and the decision pipeline (contract §10)."""
