"""Bar prices at the engine boundary: exact Decimals and times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

HUNDRED = Decimal(100)


def exact(value: float) -> Decimal:
    """A stored float as the decimal it was written as (its shortest repr), so 99.95 is
    Decimal("99.95") and not the binary value nearest to it."""
    return Decimal(repr(value))


def utc(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def iso(epoch_ms: int) -> str:
    return utc(epoch_ms).isoformat().replace("+00:00", "Z")
