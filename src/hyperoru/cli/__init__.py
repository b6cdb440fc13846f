"""The `hyperoru` command: one module per command group, assembled in ``cli.app``."""

from __future__ import annotations

from hyperoru.cli.app import app, main

__all__ = ["app", "main"]
