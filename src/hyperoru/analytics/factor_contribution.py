"""/api/analytics/by-factor: how each built-in factor stood, in the trade's direction, when
the caller's closed trades were opened, and how that lined up with their returns.

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
from hyperoru.analytics.service import Window, closed_trades
from hyperoru.analytics.trades import Trade
from hyperoru.factors.bars import Bars, Matrix
from hyperoru.factors.candles import load_bars
from hyperoru.factors.catalogue import BUILTINS, builtin_trees
from hyperoru.factors.effectiveness import pearson, spearman
from hyperoru.factors.evaluate import evaluate_many
from hyperoru.factors.language import Node
from hyperoru.factors.values import bars_needed
from hyperoru.market.intervals import step
from hyperoru.market.providers.base import MarketDataProvider
from hyperoru.offload import off_loop

_EMPTY = np.empty((0, 0))
_NO_BARS = Bars((), (), _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY)


@dataclass(frozen=True, slots=True)
class _Entry:
    """A trade's place on the bars: the symbol's row and the last closed bar's column
    (None: no bar had closed by the entry within the loaded history)."""

    row: int
    column: int | None
    direction: float  # +1 long, -1 short
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


def contribution_rows(
    trades: Sequence[Trade], bars: Bars, interval: str, trees: Mapping[str, Node]
) -> list[dict[str, Any]]:
    """The rows of the answer, ranked by |rank_ic| (factors without one last, by name)."""
    values = evaluate_many(trees, bars) if trades else {}
    entries = [
        _Entry(
            row=bars.symbol_row(t.symbol),
            column=entry_column(bars.times, t.entry_time, interval),
            direction=1.0 if t.side == "long" else -1.0,
            return_pct=float(t.return_pct) if t.return_pct is not None else None,
            pnl=t.pnl,
        )
        for t in trades
    ]
    rows_at = np.array([e.row for e in entries], dtype=np.int64)
    cols_at = np.array([-1 if e.column is None else e.column for e in entries], dtype=np.int64)
    has_bar = cols_at >= 0
    direction = np.array([e.direction for e in entries])
    returns = np.array([np.nan if e.return_pct is None else e.return_pct for e in entries])
    categories = {factor.name: factor.category for factor in BUILTINS}
    names = list(trees)
    signed = np.full((len(names), len(entries)), np.nan)
    for k, name in enumerate(names):
        if not entries:
            break
        z = standardise(values[name])
        picked = z[rows_at, np.where(has_bar, cols_at, 0)]
        signed[k] = np.where(has_bar, picked * direction, np.nan)
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


async def by_factor(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    *,
    user_id: int,
    window: Window,
    interval: str,
) -> list[dict[str, Any]]:
    _, trades = await closed_trades(session, user_id, window)
    trees = builtin_trees()
    if not trades:
        return contribution_rows([], _NO_BARS, interval, trees)
    symbols = sorted({t.symbol for t in trades})
    bars = await load_bars(
        sessionmaker,
        provider,
        symbols=symbols,
        interval=interval,
        bars=bars_to_load(trades, interval, trees),
        # Bars that had closed by the last entry: later ones never describe an entry.
        now=max(t.entry_time for t in trades),
    )
    return await off_loop(contribution_rows, trades, bars, interval, trees)
