"""The variable catalogue of prompt templates (contract §10), computed lazily.

``DecisionInputs`` gathers what one decision cycle can show a model. ``catalogue()`` maps
every variable name to a resolver that ``strategies.template.render`` calls only for the
names a template uses; the market data behind several variables (hourly candles feed
``kline_data``, ``technical_indicators`` and ``market_regime``) is read once per cycle and
shared. ``model_context()`` hands the same facts, structured, to models that do not read
prose (the ``builtin`` model).

Candles are read with their own short database session (stored candles are reused and
missing closed ones stored, see ``market.klines``), so a caller's open transaction is
never committed by a prompt render. Positions, fills and balance are read through the
trader's ``ExchangeClient``, the same object decisions execute through.

Those reads go through a ``CycleSource``: ``LiveSource`` (the market and the trader's
venue now) unless the caller passes another one, such as a prompt backtest's view of one
past moment, so that a backtest renders with exactly this code.

What is computed over candle windows (indicators, regimes, the candle tables) runs off the
event loop (``hyperoru.offload``), one call per variable for all the symbols: hundreds of
traders rendering at once must not hold up the requests the same loop answers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts.models import Account
from hyperoru.accounts.valuation import Valuation
from hyperoru.decimal_text import readable
from hyperoru.exchanges.base import BalanceReport, ExchangeClient, FillReport, PositionReport
from hyperoru.factors.custom import custom_expressions
from hyperoru.factors.lines import CustomFactors, documented_names, latest_from_candles
from hyperoru.market import indicators, klines
from hyperoru.market.price_cache import CachedPrice
from hyperoru.market.providers.base import Candle
from hyperoru.market.regime import DEFAULT_RULES as REGIME_RULES
from hyperoru.market.regime import RegimeReading, classify_regime
from hyperoru.market.runtime import MarketRuntime
from hyperoru.offload import off_loop
from hyperoru.strategies.llm.base import ModelContext, SymbolFacts
from hyperoru.strategies.template import VariableResolver
from hyperoru.timeutils import isoformat_z, utcnow
from hyperoru.trading.valuation import value_accounts

T = TypeVar("T")

# Hourly candles cover the indicators and the regime (which needs 114 bars) with room.
INDICATOR_INTERVAL = "1h"
INDICATOR_BARS = 200
KLINE_ROWS = 24
SAMPLING_INTERVAL = "1m"
SAMPLING_BARS = 20
RECENT_TRADES = 10
_BARS = {INDICATOR_INTERVAL: INDICATOR_BARS, SAMPLING_INTERVAL: SAMPLING_BARS}

VARIABLE_NAMES: tuple[str, ...] = (
    "market_prices",
    "kline_data",
    "technical_indicators",
    "market_regime",
    "open_positions",
    "recent_trades",
    "account_state",
    "trigger_context",
    "sampling_data",
    "news_context",
    "output_format",
    "max_leverage",
    "symbols",
    # The API reference's example prompt says "Analyze {{symbol}} momentum".
    "symbol",
    "current_time_utc",
    # The factor engine's documented built-ins, then the trader owner's custom factors,
    # latest value per symbol (docs/FACTORS.md).
    "factor_values",
)

OUTPUT_FORMAT = """\
## Answer format
Answer with JSON only, no prose around it, in this shape:

{"decisions": [
  {"operation": "long", "symbol": "BTC", "leverage": 2, "size_pct": 10,
   "take_profit_pct": 4, "stop_loss_pct": 2, "reasoning": "why, in one or two sentences"}
]}

- One decision per symbol you want to act on; "hold" needs no other field than the
  symbol and reasoning.
- operation: "long" (buy), "short" (sell), "close" (close the whole position) or "hold".
- symbol: one of the trader's symbols.
- leverage: a whole number from 1 to the trader's maximum.
- size_pct: percent of the available balance to commit as margin, above 0 and at most 100.
  (target_portion_of_balance from 0 to 1 is accepted instead.)
- take_profit_pct / stop_loss_pct: distance from the entry price in percent
  (or take_profit_price / stop_loss_price as absolute prices).
- Decisions outside the trader's limits are rejected, not adjusted.
"""

TriggerKind = Literal["scheduled", "manual", "signal", "preview"]


@dataclass(frozen=True, slots=True)
class TriggerInfo:
    """Why a cycle runs: the schedule, a manual trigger, a signal pool, or a preview."""

    kind: TriggerKind = "manual"
    signal_pool_id: int | None = None
    signal_pool_name: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [f"Trigger: {self.kind}"]
        if self.signal_pool_id is not None:
            name = f" ({self.signal_pool_name})" if self.signal_pool_name else ""
            lines.append(f"Signal pool: {self.signal_pool_id}{name}")
        if self.values:
            lines.append(f"Signal values: {json.dumps(self.values, default=str, sort_keys=True)}")
        return "\n".join(lines)


# --- the trader's ledger ----------------------------------------------------------------
# Positions, fills and balance come from the trader's ExchangeClient, the same object the
# pipeline executes through, so the model sees the venue it trades on. Without one (the
# trading domain not started) there are no positions or fills to show, and the account
# state is the valuation alone.


def account_state_text(
    valuation: Valuation, account: Account, balance: BalanceReport | None
) -> str:
    change = (
        (valuation.equity / account.initial_capital - 1) * 100
        if account.initial_capital
        else Decimal(0)
    )
    lines = [
        f"Equity: {_money(valuation.equity)} USD ({change:+.2f}% since start)",
        f"Cash (realised balance): {_money(valuation.cash)} USD",
    ]
    if balance is not None:
        lines += [
            f"Available for new positions: {_money(balance.available)} USD",
            f"Margin in use: {_money(balance.margin_used)} USD",
            f"Unrealised PnL: {_money(balance.unrealized_pnl)} USD",
        ]
    lines += [
        f"Reserved by resting orders: {_money(valuation.frozen_cash)} USD",
        f"Open positions notional: {_money(valuation.positions_value)} USD",
        f"Initial capital: {_money(account.initial_capital)} USD",
        f"Trades so far: {valuation.total_trades}",
        "Limits: "
        + "; ".join(
            [
                f"default leverage {account.default_leverage}x, "
                f"max leverage {account.max_leverage}x",
                "max position notional "
                + (
                    _money(account.max_position_notional)
                    if account.max_position_notional
                    else "none"
                ),
                "max open positions "
                + (str(account.max_open_positions) if account.max_open_positions else "none"),
            ]
        ),
    ]
    return "\n".join(lines)


def open_positions_text(positions: Sequence[PositionReport]) -> str:
    if not positions:
        return "No open positions."
    return "\n".join(
        f"{p.symbol} {p.side} size {_plain(p.size)} at entry {_plain(p.entry_price)}, mark "
        f"{_plain(p.mark_price)}, {p.leverage}x, unrealised PnL {_money(p.unrealized_pnl)} USD, "
        f"margin {_money(p.margin_used)} USD, liquidation "
        f"{_plain(p.liquidation_price) if p.liquidation_price is not None else 'n/a'}, "
        f"opened {_time(p.opened_at)}"
        for p in positions
    )


def recent_trades_text(fills: Sequence[FillReport]) -> str:
    if not fills:
        return "No trades yet."
    return "\n".join(
        f"{_time(f.time)} {f.symbol} {f.side} {_plain(f.quantity)} at {_plain(f.price)}, fee "
        f"{_money(f.fee)}, realised PnL {_money(f.realized_pnl)} USD"
        + (" (liquidation)" if f.is_liquidation else "")
        for f in fills
    )


# --- formatting -------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


_plain = readable  # without trailing zeros or exponent: 0.01000 → 0.01, 1E+4 → 10000


def _time(value: datetime) -> str:
    return isoformat_z(value.replace(microsecond=0))


def _num(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.6g}"


def _last(series: np.ndarray) -> float:
    return float(series[-1]) if series.size else float("nan")


def _closes(candles: Sequence[Candle]) -> np.ndarray:
    return np.array([float(c.close) for c in candles], dtype=np.float64)


def _price_line(symbol: str, cached: CachedPrice) -> str:
    ticker = cached.ticker
    parts = [f"mark {_plain(ticker.mark)}"]
    if ticker.bid is not None and ticker.ask is not None:
        parts.append(f"bid {_plain(ticker.bid)}, ask {_plain(ticker.ask)}")
    stale = " [stale]" if cached.stale else ""
    return f"{symbol}: {_plain(ticker.mid)} ({', '.join(parts)}; as of {_time(ticker.time)}){stale}"


def _indicator_line(symbol: str, candles: Sequence[Candle]) -> str:
    if len(candles) < 2:
        return f"{symbol}: not enough history"
    close = _closes(candles)
    high = np.array([float(c.high) for c in candles], dtype=np.float64)
    low = np.array([float(c.low) for c in candles], dtype=np.float64)
    macd = indicators.macd(close)
    bands = indicators.bollinger_bands(close)
    day = min(24, close.size - 1)
    return (
        f"{symbol}: close {_num(close[-1])} | RSI14 {_num(_last(indicators.rsi(close)))} | "
        f"MACD 12/26/9 {_num(_last(macd.macd))}, signal {_num(_last(macd.signal))}, "
        f"histogram {_num(_last(macd.histogram))} | "
        f"EMA20 {_num(_last(indicators.ema(close, 20)))}, "
        f"EMA50 {_num(_last(indicators.ema(close, 50)))}, "
        f"SMA20 {_num(_last(indicators.sma(close, 20)))} | "
        f"Bollinger 20/2 upper {_num(_last(bands.upper))}, middle {_num(_last(bands.middle))}, "
        f"lower {_num(_last(bands.lower))} | ATR14 {_num(_last(indicators.atr(high, low, close)))}"
        f" | change over {day}h {_num(_last(indicators.price_change_pct(close, day)))}%"
    )


def _regime_reading(candles: Sequence[Candle]) -> RegimeReading | None:
    if len(candles) < REGIME_RULES.min_bars:
        return None
    close = _closes(candles)
    high = np.array([float(c.high) for c in candles], dtype=np.float64)
    low = np.array([float(c.low) for c in candles], dtype=np.float64)
    return classify_regime(high, low, close)


def _regime_names(hourly: Sequence[tuple[str, Sequence[Candle]]]) -> dict[str, str | None]:
    readings = {symbol: _regime_reading(candles) for symbol, candles in hourly}
    return {s: None if r is None else r.regime.value for s, r in readings.items()}


def _regime_line(symbol: str, candles: Sequence[Candle]) -> str:
    reading = _regime_reading(candles)
    if reading is None:
        return f"{symbol}: unknown (not enough history)"
    return (
        f"{symbol}: {reading.regime.value} (trend efficiency {reading.efficiency:.2f}, "
        f"{REGIME_RULES.trend_bars}-bar change {reading.change_pct:+.2f}%, ATR "
        f"{reading.atr_pct:.2f}% of price, volatility ratio {reading.volatility_ratio:.2f}, "
        f"Bollinger width {reading.bollinger_width_pct:.2f}%)"
    )


def _kline_block(symbol: str, candles: Sequence[Candle]) -> str:
    rows = [
        f"{symbol} {INDICATOR_INTERVAL} candles, oldest first",
        "time,open,high,low,close,volume",
    ]
    rows.extend(
        ",".join(
            [_time(c.open_time), *(_plain(v) for v in (c.open, c.high, c.low, c.close, c.volume))]
        )
        for c in candles[-KLINE_ROWS:]
    )
    return "\n".join(rows)


def _sampling_line(symbol: str, candles: Sequence[Candle]) -> str:
    closes = ", ".join(_plain(c.close) for c in candles[-SAMPLING_BARS:])
    return f"{symbol} ({SAMPLING_INTERVAL} closes, oldest first): {closes or 'none'}"


def _factor_line(symbol: str, candles: Sequence[Candle], custom: CustomFactors) -> str:
    values = latest_from_candles(candles, documented_names(), custom)
    shown = ", ".join(f"{name} {_num(np.nan if v is None else v)}" for name, v in values.items())
    return f"{symbol} ({INDICATOR_INTERVAL}): {shown}"


SymbolLine = Callable[[str, Sequence[Candle]], str]


def _lines(line: SymbolLine, candles: Sequence[tuple[str, Sequence[Candle]]]) -> str:
    return "\n".join(line(symbol, window) for symbol, window in candles)


def _kline_blocks(candles: Sequence[tuple[str, Sequence[Candle]]]) -> str:
    return "\n\n".join(_kline_block(symbol, window) for symbol, window in candles)


# --- the inputs of one cycle ------------------------------------------------------------


class _Memo:
    """Each key computed once, even when two resolvers ask for it at the same time."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        if key not in self._values:
            async with self._locks.setdefault(key, asyncio.Lock()):
                if key not in self._values:
                    self._values[key] = await compute()
        return self._values[key]


class CycleSource(Protocol):
    """Where one cycle's facts come from. ``candles`` returns at most ``bars`` candles of
    ``interval`` up to the cycle's moment, oldest first."""

    async def candles(self, symbol: str, interval: str, bars: int) -> Sequence[Candle]: ...

    async def price(self, symbol: str) -> CachedPrice: ...

    async def positions(self) -> list[PositionReport]: ...

    async def balance(self) -> BalanceReport | None: ...

    async def fills(self, limit: int) -> list[FillReport]: ...

    async def valuation(self) -> Valuation: ...


class LiveSource:
    """The market and the trader's venue at ``now`` (the live cycle, previews)."""

    def __init__(
        self,
        *,
        account: Account,
        market: MarketRuntime,
        sessionmaker: async_sessionmaker[AsyncSession],
        exchange: ExchangeClient | None,
        now: datetime,
    ) -> None:
        self._account = account
        self._market = market
        self._sessionmaker = sessionmaker
        self._exchange = exchange
        self._now = now

    async def candles(self, symbol: str, interval: str, bars: int) -> Sequence[Candle]:
        window = klines.plan_window(
            interval=interval, start=None, end=self._now, limit=bars, now=self._now
        )
        async with self._sessionmaker() as session:
            candles = await klines.read_window(
                session,
                self._market.provider,
                symbol=symbol,
                interval=interval,
                window=window,
                now=self._now,
                memory=self._market.closed_candles,
            )
            # Keep the closed candles just fetched, so the next cycle reads them back.
            await session.commit()
            return candles

    async def price(self, symbol: str) -> CachedPrice:
        return await self._market.cache.price(symbol)

    async def positions(self) -> list[PositionReport]:
        if self._exchange is None:
            return []
        return await self._exchange.positions(account_id=self._account.id)

    async def balance(self) -> BalanceReport | None:
        if self._exchange is None:
            return None
        return await self._exchange.balance(account_id=self._account.id)

    async def fills(self, limit: int) -> list[FillReport]:
        if self._exchange is None:
            return []
        return await self._exchange.fills(account_id=self._account.id, limit=limit, offset=0)

    async def valuation(self) -> Valuation:
        async with self._sessionmaker() as session:
            return (await value_accounts(session, accounts=[self._account]))[self._account.id]


class DecisionInputs:
    """What one decision cycle (or a preview) may show the model, read on first use.

    ``account`` is read for its attributes only, so it may come from a closed session.
    Market failures surface as ``hyperoru.market.providers.base.ProviderError``; the
    exchange client's own errors (``ApiError``) pass through unchanged. Without a
    ``source``, the facts are live (``market`` and ``sessionmaker`` are then required).
    """

    def __init__(
        self,
        *,
        account: Account,
        symbols: Sequence[str],
        market: MarketRuntime | None = None,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        exchange: ExchangeClient | None = None,
        trigger: TriggerInfo | None = None,
        now: datetime | None = None,
        source: CycleSource | None = None,
        custom_factors: CustomFactors | None = None,
    ) -> None:
        self.account = account
        self._sessionmaker = sessionmaker
        self._custom_factors = custom_factors
        self.symbols = tuple(dict.fromkeys(symbols))
        self.trigger = trigger or TriggerInfo()
        self.now = now or utcnow()
        if source is None:
            if market is None or sessionmaker is None:
                raise TypeError("live inputs need the market and a sessionmaker")
            source = LiveSource(
                account=account,
                market=market,
                sessionmaker=sessionmaker,
                exchange=exchange,
                now=self.now,
            )
        self._source = source
        self._memo = _Memo()

    # -- shared sources ----------------------------------------------------------------

    async def candles(
        self, symbol: str, interval: str, bars: int | None = None
    ) -> Sequence[Candle]:
        """The last ``bars`` candles (by default as many as the prompts' variables read)."""
        count = _BARS[interval] if bars is None else bars
        return await self._memo.get(
            ("candles", symbol, interval, count),
            lambda: self._source.candles(symbol, interval, count),
        )

    async def price(self, symbol: str) -> CachedPrice:
        return await self._memo.get(("price", symbol), lambda: self._source.price(symbol))

    async def open_positions(self) -> list[PositionReport]:
        return await self._memo.get("positions", self._source.positions)

    async def balance(self) -> BalanceReport | None:
        return await self._memo.get("balance", self._source.balance)

    async def _per_symbol(self, line: Callable[[str], Awaitable[str]]) -> str:
        if not self.symbols:
            return "No symbols configured."
        return "\n".join([await line(symbol) for symbol in self.symbols])

    # -- variables ---------------------------------------------------------------------

    async def market_prices(self) -> str:
        async def line(symbol: str) -> str:
            return _price_line(symbol, await self.price(symbol))

        return await self._per_symbol(line)

    async def _hourly(self) -> list[tuple[str, Sequence[Candle]]]:
        return [(s, await self.candles(s, INDICATOR_INTERVAL)) for s in self.symbols]

    async def _hourly_lines(self, line: SymbolLine) -> str:
        if not self.symbols:
            return "No symbols configured."
        return await off_loop(_lines, line, await self._hourly())

    async def kline_data(self) -> str:
        if not self.symbols:
            return "No symbols configured."
        return await off_loop(_kline_blocks, await self._hourly())

    async def technical_indicators(self) -> str:
        return await self._hourly_lines(_indicator_line)

    async def market_regime(self) -> str:
        return await self._hourly_lines(_regime_line)

    async def custom_factors(self) -> CustomFactors:
        """The trader owner's own custom factors (``{factor_values}``,
        ``data.get_factor``): as given, else read once per cycle from the database (none
        for a past moment that was given none)."""
        if self._custom_factors is not None:
            return self._custom_factors
        sessionmaker = self._sessionmaker
        if sessionmaker is None:
            return {}

        async def read() -> CustomFactors:
            async with sessionmaker() as session:
                return await custom_expressions(session, self.account.user_id)

        return await self._memo.get("custom_factors", read)

    async def factor_values(self) -> str:
        custom = await self.custom_factors()
        return await self._hourly_lines(partial(_factor_line, custom=custom))

    async def regime_names(self) -> dict[str, str | None]:
        """Each symbol's regime as ``market_regime`` states it (None: too little history);
        recorded with a decision whose prompt showed it."""
        return await off_loop(_regime_names, await self._hourly())

    async def sampling_data(self) -> str:
        async def line(symbol: str) -> str:
            return _sampling_line(symbol, await self.candles(symbol, SAMPLING_INTERVAL))

        return await self._per_symbol(line)

    async def account_state(self) -> str:
        balance = await self.balance()
        return account_state_text(await self._source.valuation(), self.account, balance)

    async def open_positions_variable(self) -> str:
        return open_positions_text(await self.open_positions())

    async def recent_trades(self) -> str:
        return recent_trades_text(await self._source.fills(RECENT_TRADES))

    def catalogue(self) -> dict[str, VariableResolver]:
        """Every variable of contract §10 → its resolver (nothing is computed here)."""

        def constant(value: str) -> VariableResolver:
            async def resolve() -> str:
                return value

            return resolve

        async def trigger_context() -> str:
            return self.trigger.describe()

        resolvers: dict[str, VariableResolver] = {
            "market_prices": self.market_prices,
            "kline_data": self.kline_data,
            "technical_indicators": self.technical_indicators,
            "market_regime": self.market_regime,
            "open_positions": self.open_positions_variable,
            "recent_trades": self.recent_trades,
            "account_state": self.account_state,
            "trigger_context": trigger_context,
            "sampling_data": self.sampling_data,
            # No news source exists yet: the variable renders empty, as documented.
            "news_context": constant(""),
            "output_format": constant(OUTPUT_FORMAT),
            "max_leverage": constant(str(self.account.max_leverage)),
            "symbols": constant(", ".join(self.symbols)),
            "symbol": constant(", ".join(self.symbols)),
            "current_time_utc": constant(_time(self.now)),
            "factor_values": self.factor_values,
        }
        assert tuple(resolvers) == VARIABLE_NAMES
        return resolvers

    async def model_context(self, *, minute_closes: bool = False) -> ModelContext:
        """The structured facts for the ``builtin`` model (hourly closes, prices, sides;
        the last minute closes too when its rules read them)."""
        positions = await self.open_positions()
        sides = {p.symbol: p.side for p in positions}
        facts = []
        for symbol in self.symbols:
            candles = await self.candles(symbol, INDICATOR_INTERVAL)
            minutes = await self.candles(symbol, SAMPLING_INTERVAL) if minute_closes else ()
            facts.append(
                SymbolFacts(
                    symbol=symbol,
                    price=(await self.price(symbol)).ticker.mark,
                    closes_1h=tuple(float(c.close) for c in candles),
                    position_side=sides.get(symbol),
                    closes_1m=tuple(float(c.close) for c in minutes),
                )
            )
        return ModelContext(
            symbols=tuple(facts),
            default_leverage=self.account.default_leverage,
            max_leverage=self.account.max_leverage,
            max_open_positions=self.account.max_open_positions,
            open_positions=len(positions),
        )
