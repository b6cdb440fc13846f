"""/api/analytics/by-factor and a program's factor correlation: how each factor (the
built-ins, then the caller's custom ones) stood, in the trade's direction, when the
caller's closed trades (or those a program's runs opened) were opened, and how that lined
up with their returns.

For every trade, each factor's value on the entry symbol at the last bar that had closed
by the entry is standardised over the bars loaded for that symbol (a z-score) and signed
by the trade's direction (a short flips it). Per factor: the Spearman (``rank_ic``) and
Pearson (``ic``) correlation of that signed value with the trade's return, and the trades
taken with (signed value > 0) or against (< 0) it. docs/ANALYTICS.md states it in full.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.analytics import metrics
from hyperoru.analytics.service import Scope, closed_trades
from hyperoru.analytics.trades import Trade
from hyperoru.errors import ApiError
from hyperoru.factors.bars import Bars, Matrix
from hyperoru.factors.candles import load_bars
from hyperoru.factors.catalogue import BUILTINS, builtin_trees
from hyperoru.factors.effectiveness import pearson, spearman
from hyperoru.factors.evaluate import evaluate_many
from hyperoru.factors.language import Node
from hyperoru.factors.service import custom_trees
from hyperoru.factors.values import bars_needed
from hyperoru.market.intervals import step
from hyperoru.market.providers.base import MarketDataProvider, ProviderError, UnknownSymbol
from hyperoru.offload import off_loop


@dataclass(frozen=True, slots=True)
class _Entry:
    return_pct: float | None
    pnl: Decimal


def bars_to_load(trades: Sequence[Trade], interval: str, trees: Mapping[str, Node]) -> int:
    """Enough bars to cover every entry plus the factors' warm-up, at most ``MAX_BARS``
    (older entries then have no value and count in no row)."""
    first = min(t.entry_time for t in trades)
    last = max(t.entry_time for t in trades)
    span = int((last - first) / step(interval)) + 1
    return bars_needed(trees, span)


def entry_column(times: Sequence[datetime], entry: datetime, interval: str) -> int | None:
    """The last bar that closed at or before ``entry`` (bars are keyed by open time)."""
    index = bisect.bisect_right(times, entry - step(interval)) - 1
    return index if index >= 0 else None


def standardise(values: Matrix) -> Matrix:
    """Each row's z-score over its finite values (population standard deviation); NaN
    where the row has no spread."""
    with np.errstate(all="ignore"):
        mean = np.nanmean(values, axis=-1, keepdims=True)
        std = np.nanstd(values, axis=-1, keepdims=True)
        out = np.where(std > 0, (values - mean) / std, np.nan)
    return np.asarray(out, dtype=np.float64)


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _side(entries: Sequence[_Entry], mask: np.ndarray, prefix: str) -> dict[str, Any]:
    chosen = [e for e, keep in zip(entries, mask, strict=True) if keep]
    stats = metrics.trade_stats([e.pnl for e in chosen])
    return {
        f"{prefix}_trades": stats.trades,
        f"{prefix}_pnl": stats.total_pnl,
        f"{prefix}_win_rate": stats.win_rate,
    }


def signed_values(
    trades: Sequence[Trade], bars: Mapping[str, Bars], interval: str, trees: Mapping[str, Node]
) -> dict[str, Matrix]:
    """Each factor's signed z-score at every trade's entry (NaN: no value), per factor a
    row of ``len(trades)``. Each symbol's bars are evaluated on their own."""
    signed = {name: np.full(len(trades), np.nan) for name in trees}
    for symbol, symbol_bars in bars.items():
        at = [k for k, t in enumerate(trades) if t.symbol == symbol]
        columns = [entry_column(symbol_bars.times, trades[k].entry_time, interval) for k in at]
        if not symbol_bars.times or all(c is None for c in columns):
            continue
        direction = np.array([1.0 if trades[k].side == "long" else -1.0 for k in at])
        found = np.array([c is not None for c in columns])
        index = np.array([c or 0 for c in columns], dtype=np.int64)
        for name, values in evaluate_many(trees, symbol_bars).items():
            z = standardise(values)[0, index]
            signed[name][at] = np.where(found, z * direction, np.nan)
    return signed


def contribution_rows(
    trades: Sequence[Trade], bars: Mapping[str, Bars], interval: str, trees: Mapping[str, Node]
) -> list[dict[str, Any]]:
    """The rows of the answer, ranked by |rank_ic| (factors without one last, by name)."""
    signed_by_name = signed_values(trades, bars, interval, trees)
    names = list(trees)
    signed = np.array([signed_by_name[name] for name in names]).reshape(len(names), len(trades))
    entries = [
        _Entry(
            return_pct=float(t.return_pct) if t.return_pct is not None else None,
            pnl=t.pnl,
        )
        for t in trades
    ]
    returns = np.array([np.nan if e.return_pct is None else e.return_pct for e in entries])
    categories = {factor.name: factor.category for factor in BUILTINS}
    counted = np.isfinite(signed) & np.isfinite(returns)[None, :]
    paired = np.where(counted, signed, np.nan)
    ics = pearson(paired, np.broadcast_to(returns, paired.shape))
    rank_ics = spearman(paired, np.broadcast_to(returns, paired.shape).copy())
    out: list[dict[str, Any]] = []
    for k, name in enumerate(names):
        row = signed[k]
        valid = np.isfinite(row)
        out.append(
            {
                "factor_name": name,
                "category": categories.get(name, "custom"),
                "trades": int(counted[k].sum()),
                "rank_ic": _number(rank_ics[k]),
                "ic": _number(ics[k]),
                **_side(entries, valid & (row > 0), "aligned"),
                **_side(entries, valid & (row < 0), "opposed"),
            }
        )
    out.sort(key=lambda r: (r["rank_ic"] is None, -abs(r["rank_ic"] or 0.0), r["factor_name"]))
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank
    return out


async def factor_trees(session: AsyncSession, user_id: int) -> dict[str, Node]:
    """The 64 built-ins, then the user's own custom factors (never another user's)."""
    trees = builtin_trees()
    for row, tree in await custom_trees(session, user_id=user_id):
        trees[row.name] = tree
    return trees


async def _rows(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    trades: Sequence[Trade],
    trees: Mapping[str, Node],
    interval: str,
) -> list[dict[str, Any]]:
    bars: dict[str, Bars] = {}
    for symbol in sorted({t.symbol for t in trades}):
        entered = [t for t in trades if t.symbol == symbol]
        try:
            bars[symbol] = await load_bars(
                sessionmaker,
                provider,
                symbols=[symbol],
                interval=interval,
                bars=bars_to_load(entered, interval, trees),
                # Bars closed by the last entry: later ones never describe an entry.
                now=max(t.entry_time for t in entered),
            )
        except UnknownSymbol:
            continue  # no longer listed: its trades have no factor values
        except ProviderError as exc:
            raise ApiError(503, "MARKET_DATA_UNAVAILABLE", f"market data: {exc}") from exc
    return await off_loop(contribution_rows, trades, bars, interval, trees)


async def by_factor(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    *,
    scope: Scope,
    interval: str,
) -> list[dict[str, Any]]:
    _, trades = await closed_trades(session, scope)
    trees = await factor_trees(session, scope.user_id)
    return await _rows(sessionmaker, provider, trades, trees, interval)


async def program_factor_correlation(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    *,
    scope: Scope,
    program_id: int,
    interval: str,
) -> dict[str, Any]:
    """The program analytics' factor correlation: the rows of ``by_factor`` over the
    caller's closed trades (in ``scope``) that the program's runs opened
    (``trades.cause.program_id``). Only the caller's trades count, so another user's
    program id finds none."""
    _, trades = await closed_trades(session, scope)
    own = [t for t in trades if t.cause.program_id == program_id]
    trees = await factor_trees(session, scope.user_id)
    return {
        "program_id": program_id,
        "days": scope.window.days,
        "since": scope.window.since,
        "until": scope.window.until,
        "interval": interval,
        "trades": len(own),
        "factors": await _rows(sessionmaker, provider, own, trees, interval),
    }
