"""Replaying missed market time through the engine after downtime (pure: no I/O).

While the server was down the book is unknown, so each missed minute is rebuilt from its
1-minute candle and walked by the bar path backtests use (``engine.bar_path``): the
open, the extreme adverse to the position, the other extreme, the close, every symbol in
turn, with the engine called at every point, at each trigger price the path reaches
(the trigger fills there) and where the account would fall below maintenance margin.
Each snapshot's book is a deep level at exactly the path's price (no slippage: fills land
on the candle's prices, taker fee charged), its funding rate the hourly rate in force
then, and its ``low``/``high`` the prices traversed since the previous call (for resting
limits traded through). The first call of a minute that opens on the hour settles that
hour's funding at the open price. Symbols without a candle in a minute keep their last
price. See docs/PAPER_ENGINE.md, section 13.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hyperoru.market.providers.base import Candle
from hyperoru.trading.engine import AccountState, EngineConfig, EngineResult
from hyperoru.trading.engine.bar_path import BarPrices, BarWalk
from hyperoru.trading.engine.money import ZERO

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ReplayStep:
    time: datetime
    result: EngineResult
    # True on the last step of a minute: the state to snapshot for the asset curve.
    closes_minute: bool


def rate_at(rates: Sequence[tuple[datetime, Decimal]], moment: datetime) -> Decimal | None:
    """The last published rate at or before ``moment`` (8-hourly venues publish rarely)."""
    index = bisect.bisect_right([t for t, _ in rates], moment)
    return rates[index - 1][1] if index else None


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
        bars: dict[str, BarPrices] = {}
        for symbol in sorted(set(candles)):
            rate = rate_at(rates.get(symbol, ()), minute)
            seen = present.get(symbol)
            if seen is not None:
                bars[symbol] = BarPrices(seen.open, seen.high, seen.low, seen.close, rate)
            elif symbol in last_price:
                price = last_price[symbol]
                bars[symbol] = BarPrices(price, price, price, price, rate)
        results: list[EngineResult] = []
        walk = BarWalk(
            state,
            config,
            bars,
            start=minute,
            length=MINUTE,
            slippage=ZERO,
            strict=True,
            with_funding=True,
            record=results.append,
        )
        walk.at_open()
        walk.to_close()
        state = walk.state
        last = len(results) - 1
        steps += [ReplayStep(minute, r, closes_minute=k == last) for k, r in enumerate(results)]
        for symbol, bar in bars.items():
            last_price[symbol] = bar.close
    return steps
