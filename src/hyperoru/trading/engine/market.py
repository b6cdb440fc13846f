"""What the engine is told about a market at one instant: book, mark, funding, traded range."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hyperoru.trading.engine.enums import Side

_TWO = Decimal(2)


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    size: Decimal

    def __post_init__(self) -> None:
        if not (self.price > 0 and self.size > 0):
            raise ValueError("book levels need a positive price and size")


@dataclass(frozen=True, slots=True)
class OrderBook:
    """An L2 snapshot; levels are re-sorted best first, so providers may pass any order."""

    bids: tuple[BookLevel, ...] = ()
    asks: tuple[BookLevel, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "bids", tuple(sorted(self.bids, key=lambda lv: -lv.price)))
        object.__setattr__(self, "asks", tuple(sorted(self.asks, key=lambda lv: lv.price)))

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        if not (self.bids and self.asks):
            return None
        return (self.bids[0].price + self.asks[0].price) / _TWO

    def levels_to_take(self, side: Side) -> tuple[BookLevel, ...]:
        """The side a taker of ``side`` consumes: asks for a buy, bids for a sell."""
        return self.asks if side is Side.BUY else self.bids


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """One symbol's market at ``now``.

    ``funding_rate`` is the hourly rate (Hyperliquid's 8-hour rate / 8); ``None`` means the
    provider had none and no funding is charged. ``low``/``high`` are the traded range since
    the previous snapshot (from trades or a candle), used to decide whether resting limits
    were traded through between two book snapshots.
    """

    symbol: str
    mark_price: Decimal
    book: OrderBook = OrderBook()
    funding_rate: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.mark_price > 0:
            raise ValueError("mark price must be positive")

    @property
    def reference_mid(self) -> Decimal:
        """The mid the 5% slippage cap is measured from; the mark when a side is empty."""
        mid = self.book.mid
        return self.mark_price if mid is None else mid
