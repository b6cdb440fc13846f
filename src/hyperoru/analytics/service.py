"""The numbers of /api/analytics: closed trades grouped along one dimension, and the
summary's return statistics over the user's combined equity. Every formula is in
``metrics``; docs/ANALYTICS.md states the conventions."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.analytics import metrics
from hyperoru.analytics.ledger import Trader, boundaries, equity_at, traders_of, trades_of
from hyperoru.analytics.trades import Trade


@dataclass(frozen=True, slots=True)
class Window:
    """Trades that closed in [since, until]; returns between the period boundaries in it."""

    days: int
    period: str
    since: datetime
    until: datetime

    @classmethod
    def ending(cls, now: datetime, *, days: int, period: str) -> Window:
        return cls(days, period, now - timedelta(days=days), now)

    def holds(self, trade: Trade) -> bool:
        return trade.exit_time is not None and self.since <= trade.exit_time <= self.until


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose trades a number covers: the user's live traders over ``window``, all of them
    or only ``account_id`` (the caller's, checked by the router before it gets here)."""

    user_id: int
    window: Window
    account_id: int | None = None

    @property
    def account_ids(self) -> list[int] | None:
        return None if self.account_id is None else [self.account_id]


def trade_fields(trades: Sequence[Trade]) -> dict[str, Any]:
    """The statistics every breakdown row and the summary share."""
    stats = metrics.trade_stats([t.pnl for t in trades])
    returns = [float(r) for t in trades if (r := t.return_pct) is not None]
    durations = [d for t in trades if (d := t.duration_hours) is not None]
    return {
        "trades": stats.trades,
        "total_trades": stats.trades,
        "wins": stats.wins,
        "losses": stats.losses,
        "win_rate": stats.win_rate,
        "pnl": stats.total_pnl,
        "total_pnl": stats.total_pnl,
        "gross_profit": stats.gross_profit,
        "gross_loss": stats.gross_loss,
        "profit_factor": stats.profit_factor,
        "avg_return_pct": metrics.mean(returns),
        "avg_trade_pnl": stats.average,
        "best_trade_pnl": stats.best,
        "worst_trade_pnl": stats.worst,
        "avg_trade_duration_hours": metrics.mean(durations),
        "fees_paid": sum((t.fees for t in trades), Decimal(0)),
        "funding_paid": sum((t.funding for t in trades), Decimal(0)),
    }


def group(
    trades: Sequence[Trade],
    key: Callable[[Trade], Hashable],
    fields: Callable[[Any], dict[str, Any]],
) -> list[dict[str, Any]]:
    """One row per key, best PnL first (ties: by key's text, so the order is stable)."""
    buckets: dict[Hashable, list[Trade]] = {}
    for trade in trades:
        buckets.setdefault(key(trade), []).append(trade)
    ordered = sorted(buckets.items(), key=lambda kv: str(kv[0]))
    rows = [{**fields(k), **trade_fields(ts)} for k, ts in ordered]
    rows.sort(key=lambda r: -r["pnl"])
    return rows


async def closed_trades(session: AsyncSession, scope: Scope) -> tuple[list[Trader], list[Trade]]:
    traders = await traders_of(session, scope.user_id, scope.account_ids)
    trades = [t for t in await trades_of(session, traders) if scope.window.holds(t)]
    return traders, trades


def combined_returns(
    points: Sequence[datetime], equity: dict[int, list[Decimal | None]]
) -> tuple[list[float], list[tuple[datetime, float]]]:
    """Time-weighted returns of the traders' summed equity between consecutive points.

    A period counts the traders with a value at both of its ends, so a trader created
    (or first valued) inside the window is a flow, not a return. The path starts at the
    first point with any equity and compounds the returns from there."""
    returns: list[float] = []
    path: list[tuple[datetime, float]] = []
    for k, point in enumerate(points):
        if not path:
            total = sum((v for e in equity.values() if (v := e[k]) is not None), Decimal(0))
            if total > 0:
                path.append((point, float(total)))
            continue
        pairs = [
            (b, a)
            for e in equity.values()
            if (b := e[k - 1]) is not None and (a := e[k]) is not None
        ]
        before = sum((b for b, _ in pairs), Decimal(0))
        after = sum((a for _, a in pairs), Decimal(0))
        if before <= 0:
            continue
        change = float(after / before - 1)
        returns.append(change)
        path.append((point, path[-1][1] * (1.0 + change)))
    return returns, path


async def summary(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    traders, trades = await closed_trades(session, scope)
    window = scope.window
    points = boundaries(window.since, window.until, window.period)
    returns, path = combined_returns(points, await equity_at(session, traders, points))
    periods_per_year = metrics.PERIODS_PER_YEAR[window.period]
    drawdown = metrics.max_drawdown([value for _, value in path])
    return {
        **trade_fields(trades),
        "sharpe_ratio": metrics.sharpe_ratio(returns, periods_per_year),
        "sortino_ratio": metrics.sortino_ratio(returns, periods_per_year),
        "annual_volatility": metrics.annual_volatility(returns, periods_per_year),
        "annualized_return": metrics.cagr(returns, periods_per_year),
        "calmar_ratio": metrics.calmar_ratio(returns, periods_per_year),
        "max_drawdown_pct": None if drawdown is None else drawdown.max_drawdown_pct,
        "max_drawdown": _drawdown_fields(drawdown, path),
        "returns": {
            "period": window.period,
            "periods_per_year": periods_per_year,
            "risk_free_rate": 0.0,
            "count": len(returns),
            "values": returns,
            "start_equity": path[0][1] if path else None,
            "end_equity": path[-1][1] if path else None,
            "first_boundary": path[0][0] if path else None,
            "last_boundary": path[-1][0] if path else None,
        },
        "days": window.days,
        "since": window.since,
        "until": window.until,
        "traders": len(traders),
    }


def _drawdown_fields(
    drawdown: metrics.Drawdown | None, path: Sequence[tuple[datetime, float]]
) -> dict[str, Any]:
    if drawdown is None or drawdown.max_drawdown == 0:
        return {"peak_at": None, "trough_at": None, "recovered_at": None, "duration_hours": None}
    peak, trough = path[drawdown.peak][0], path[drawdown.trough][0]
    recovered = None if drawdown.recovery is None else path[drawdown.recovery][0]
    return {
        "peak_at": peak,
        "trough_at": trough,
        "recovered_at": recovered,
        # Peak to recovery, or to the trough while it has not recovered.
        "duration_hours": ((recovered or trough) - peak).total_seconds() / 3600.0,
    }


async def by_account(session: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    traders, trades = await closed_trades(session, scope)
    names = {t.id: t.name for t in traders}
    return group(
        trades,
        lambda t: t.account_id,
        lambda k: {"account_id": k, "account_name": names.get(k)},
    )


async def by_strategy(session: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    _, trades = await closed_trades(session, scope)
    return group(
        trades,
        lambda t: (t.strategy, t.cause.prompt_id, t.cause.program_id),
        lambda k: {"strategy": k[0], "prompt_id": k[1], "program_id": k[2]},
    )


async def by_symbol(session: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    _, trades = await closed_trades(session, scope)
    return group(trades, lambda t: t.symbol, lambda k: {"symbol": k})


async def by_operation(session: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    _, trades = await closed_trades(session, scope)
    return group(trades, lambda t: t.operation, lambda k: {"operation": k})


async def by_trigger_type(session: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    _, trades = await closed_trades(session, scope)
    return group(trades, lambda t: t.trigger_type, lambda k: {"trigger_type": k})


async def trade_list(session: AsyncSession, scope: Scope) -> list[Trade]:
    """The closed trades behind every number, newest close first."""
    _, trades = await closed_trades(session, scope)
    return sorted(trades, key=lambda t: (t.exit_time, t.fill_ids), reverse=True)
