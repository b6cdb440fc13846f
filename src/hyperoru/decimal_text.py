"""Decimals as people write them in messages and reasons: ``150``, not
``150.000000000000000000`` (PostgreSQL's NUMERIC scale) or ``1.5E+2``."""

from __future__ import annotations

from decimal import Decimal


def readable(value: Decimal) -> str:
    """No exponent, no trailing zeros, and ``0`` rather than ``-0``."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text
