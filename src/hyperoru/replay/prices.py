"""Bar prices at the engine boundary: exact Decimals and the synthetic one-level book."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hyperoru.trading.engine import BookLevel, MarketSnapshot, OrderBook

# Deep enough for any backtest order: the book stands for "the market traded here".
SYNTHETIC_DEPTH = Decimal(10) ** 15
HUNDRED = Decimal(100)


def exact(value: float) -> Decimal:
    """A stored float as the decimal it was written as (its shortest repr), so 99.95 is
    Decimal("99.95") and not the binary value nearest to it."""
    return Decimal(repr(value))


def utc(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def iso(epoch_ms: int) -> str:
    return utc(epoch_ms).isoformat().replace("+00:00", "Z")


def snapshot(
    symbol: str, price: Decimal, slippage: Decimal, funding_rate: Decimal | None
) -> MarketSnapshot:
    """The market at ``price``: mark ``price``, one deep level each side at
    ``price * (1 -/+ slippage)``, so every taker fill pays exactly the slippage."""
    bid = BookLevel(price * (1 - slippage), SYNTHETIC_DEPTH)
    ask = BookLevel(price * (1 + slippage), SYNTHETIC_DEPTH)
    return MarketSnapshot(
        symbol=symbol,
        mark_price=price,
        book=OrderBook(bids=(bid,), asks=(ask,)),
        funding_rate=funding_rate,
    )
