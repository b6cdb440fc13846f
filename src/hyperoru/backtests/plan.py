"""A backtest request resolved into what the job runs: dates on the candle grid, defaults
filled in, limits checked, and the replay's settings. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hyperoru.accounts.models import Account
from hyperoru.backtests.schemas import BacktestConfig
from hyperoru.backtests.trader_settings import replay_settings
from hyperoru.errors import validation_error
from hyperoru.market.intervals import (
    INTERVAL_SECONDS,
    INTERVALS,
    ceil_time,
    count_between,
    floor_time,
    is_interval,
)
from hyperoru.market.providers.base import AssetMeta
from hyperoru.market.timeparse import parse_moment
from hyperoru.replay.settings import ReplaySettings
from hyperoru.timeutils import isoformat_z

MIN_CANDLES = 2


@dataclass(frozen=True, slots=True)
class BacktestPlan:
    symbols: tuple[str, ...]
    interval: str
    start: datetime
    end: datetime
    candles_per_symbol: int
    decide_every: int
    signal_pool_ids: tuple[int, ...]
    settings: ReplaySettings

    def describe(self) -> dict[str, Any]:
        """The resolved config, as the API shows it (numbers for display only: the replay
        reads the exact values from its settings)."""
        settings = self.settings
        return {
            "symbols": list(self.symbols),
            "start_date": isoformat_z(self.start),
            "end_date": isoformat_z(self.end),
            "interval": self.interval,
            "initial_balance": float(settings.initial_balance),
            "slippage_pct": float(settings.slippage_pct),
            "maker_fee_pct": float(settings.maker_fee_pct),
            "taker_fee_pct": float(settings.taker_fee_pct),
            "trigger_interval": self.decide_every * INTERVAL_SECONDS[self.interval]
            if settings.scheduled
            else None,
            "signal_pool_ids": list(self.signal_pool_ids),
            "candles_per_symbol": self.candles_per_symbol,
            "max_leverage": settings.max_leverage,
            "default_leverage": settings.default_leverage,
            "venue": settings.venue,
            "margin_mode": settings.margin_mode,
        }


def _interval(value: str) -> str:
    if not is_interval(value):
        raise validation_error(
            f"config.interval: must be one of {', '.join(INTERVALS)}", "config.interval"
        )
    return value


def _moment(value: str | int, field: str) -> datetime:
    moment = parse_moment(str(value), field)
    if moment is None:
        raise validation_error(f"{field}: required", field)
    return moment


def _decide_every(trigger_seconds: int | None, interval: str) -> int:
    """Bars between decisions; a trigger shorter than one bar decides on every bar."""
    if trigger_seconds is None:
        return 1
    return max(1, trigger_seconds // INTERVAL_SECONDS[interval])


def plan_backtest(
    config: BacktestConfig,
    *,
    now: datetime,
    assets: Mapping[str, AssetMeta],
    account: Account | None,
    provider_name: str,
    max_candles: int,
) -> BacktestPlan:
    """Raises 400 VALIDATION_ERROR (naming the field) for anything the job could not run.
    Unknown symbols are the caller's check (they answer 404 like the market routes)."""
    interval = _interval(config.interval)
    start = _moment(config.start_date, "config.start_date")
    end = _moment(config.end_date, "config.end_date")
    if start >= end:
        raise validation_error("config.start_date: must be before end_date", "config.start_date")
    # On the candle grid: from the first candle's open; only closed candles (the one
    # still forming would make a rerun differ).
    start = ceil_time(start, interval)
    end = min(end, floor_time(now, interval))
    per_symbol = count_between(start, end, interval)
    if per_symbol < MIN_CANDLES:
        raise validation_error(
            f"config.start_date: the range holds fewer than {MIN_CANDLES} closed "
            f"{interval} candles",
            "config.start_date",
        )
    symbols = tuple(dict.fromkeys(s.upper() for s in config.symbols))
    if per_symbol * len(symbols) > max_candles:
        raise validation_error(
            f"config: range too large: {per_symbol} candles x {len(symbols)} symbols; at "
            f"most {max_candles} candles per backtest (shorten it or use a longer interval)",
            "config.start_date",
        )
    try:
        settings = replay_settings(
            symbols=symbols,
            interval=interval,
            account=account,
            assets=assets,
            provider_name=provider_name,
            initial_balance=config.initial_balance,
            slippage_pct=config.slippage_pct,
            maker_fee_pct=config.maker_fee_pct,
            taker_fee_pct=config.taker_fee_pct,
            decide_every=_decide_every(config.trigger_interval, interval),
            # With signal pools and no trigger_interval, only the pools start decisions.
            scheduled=not config.signal_pool_ids or config.trigger_interval is not None,
        )
    except ValueError as exc:
        raise validation_error(f"config: {exc}", "config") from exc
    return BacktestPlan(
        symbols=symbols,
        interval=interval,
        start=start,
        end=end,
        candles_per_symbol=per_symbol,
        decide_every=settings.decide_every,
        signal_pool_ids=tuple(dict.fromkeys(config.signal_pool_ids or ())),
        settings=settings,
    )
