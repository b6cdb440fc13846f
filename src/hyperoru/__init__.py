"""Hyperoru: a self-hostable server for AI crypto traders."""

__version__ = "0.1.0"
