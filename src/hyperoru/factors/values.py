"""Recent values of any factor trees for a few symbols, over candles read through the
market domain (the evaluate route). Signals, programs and prompts read built-ins from the
candles they already hold (``lines.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.factors.bars import Bars, Matrix
from hyperoru.factors.candles import load_bars
from hyperoru.factors.evaluate import Evaluator
from hyperoru.factors.language import Node, lookback
from hyperoru.market.providers.base import MarketDataProvider
from hyperoru.offload import off_loop

# Recursive averages (EMA, RSI) forget their seed slowly: read this many times the
# formal warm-up so that the values shown have converged.
_WARMUP_FACTOR = 3
MAX_BARS = 5000


@dataclass(frozen=True, slots=True)
class FactorValues:
    bars: Bars
    values: dict[str, Matrix]


def bars_needed(trees: Mapping[str, Node], shown: int) -> int:
    warmup = max((lookback(tree) for tree in trees.values()), default=0)
    return min(MAX_BARS, shown + _WARMUP_FACTOR * warmup + 1)


def _evaluate(trees: Mapping[str, Node], bars: Bars) -> dict[str, Matrix]:
    run = Evaluator(bars)
    return {name: run(tree) for name, tree in trees.items()}


async def factor_values(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    *,
    trees: Mapping[str, Node],
    symbols: Sequence[str],
    interval: str,
    shown: int = 1,
    now: datetime | None = None,
) -> FactorValues:
    bars = await load_bars(
        sessionmaker,
        provider,
        symbols=symbols,
        interval=interval,
        bars=bars_needed(trees, shown),
        now=now,
    )
    return FactorValues(bars, await off_loop(_evaluate, trees, bars))
