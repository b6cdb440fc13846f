"""Replaying missed market time through the engine after downtime (pure: no I/O).

While the server was down the book is unknown, so each missed minute is rebuilt from its
1-minute candle. For every minute, oldest first, ``on_market`` runs four times, once per
price of the candle's assumed path: open, then the extreme nearer the open's direction
(low first on a rising candle, high first on a falling one), then the other extreme, then
the close (the usual OHLC path assumption of backtests). Each snapshot's mark is that price,
its book a deep level at exactly that price (so fills land on the candle's prices, taker
fee charged), its funding rate the hourly rate in force then, and its ``low``/``high`` the
candle's range (for resting limits traded through). The first call of a minute that opens
on the hour settles that hour's funding at the open price. Symbols without a candle in a
minute keep their last price. See docs/PAPER_ENGINE.md, section 13.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hyperoru.market.providers.base import Candle
from hyperoru.trading.engine import (
    AccountState,
    BookLevel,
    EngineConfig,
    EngineResult,
    MarketSnapshot,
    OrderBook,
    on_market,
)

# Deep enough for any paper position: the book is a stand-in for "the market traded here".
_SYNTHETIC_DEPTH = Decimal(10) ** 12
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ReplayStep:
    time: datetime
    result: EngineResult
    # True on the last step of a minute: the state to snapshot for the asset curve.
    closes_minute: bool


def candle_path(candle: Candle) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    if candle.close >= candle.open:
        return candle.open, candle.low, candle.high, candle.close
    return candle.open, candle.high, candle.low, candle.close


def rate_at(rates: Sequence[tuple[datetime, Decimal]], moment: datetime) -> Decimal | None:
    """The last published rate at or before ``moment`` (8-hourly venues publish rarely)."""
    index = bisect.bisect_right([t for t, _ in rates], moment)
    return rates[index - 1][1] if index else None


def _snapshot(
    symbol: str, price: Decimal, candle: Candle | None, rate: Decimal | None
) -> MarketSnapshot:
    level = BookLevel(price, _SYNTHETIC_DEPTH)
    return MarketSnapshot(
        symbol=symbol,
        mark_price=price,
        book=OrderBook(bids=(level,), asks=(level,)),
        funding_rate=rate,
        low=candle.low if candle is not None else None,
        high=candle.high if candle is not None else None,
    )


def replay(
    state: AccountState,
    *,
    candles: Mapping[str, Sequence[Candle]],
    rates: Mapping[str, Sequence[tuple[datetime, Decimal]]],
    config: EngineConfig,
) -> list[ReplayStep]:
    """Every engine step of the missed minutes in ``candles`` (per symbol, oldest first)."""
    by_minute: dict[datetime, dict[str, Candle]] = {}
    for symbol, rows in candles.items():
        for candle in rows:
            by_minute.setdefault(candle.open_time, {})[symbol] = candle
    last_price: dict[str, Decimal] = {p.symbol: p.mark_price for p in state.positions}
    steps: list[ReplayStep] = []
    for minute in sorted(by_minute):
        present = by_minute[minute]
        paths = {s: candle_path(c) for s, c in present.items()}
        for point in range(4):
            markets: dict[str, MarketSnapshot] = {}
            for symbol in sorted(set(candles)):
                candle = present.get(symbol)
                price = paths[symbol][point] if candle is not None else last_price.get(symbol)
                if price is None:
                    continue
                markets[symbol] = _snapshot(
                    symbol, price, candle, rate_at(rates.get(symbol, ()), minute)
                )
            result = on_market(state, markets, config=config, now=minute)
            state = result.state
            steps.append(ReplayStep(minute, result, closes_minute=point == 3))
        for symbol, path in paths.items():
            last_price[symbol] = path[3]
    return steps
