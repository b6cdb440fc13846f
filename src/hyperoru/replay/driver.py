"""The replay driver: bars through the one paper engine, decisions at each bar's close.

Per bar ``i`` (docs/BACKTESTS.md, "Order of events within a bar"):

1. at the open: funding for the hour passed and anything a gap already triggered; then
   the decisions taken at the close of bar ``i - 1``, each in turn checked and sized by
   ``strategies.order_step`` against the account as it is then (as a live cycle re-reads
   it before every order) and its order filled against a one-level book at the open
   +/- slippage (and its exits, if the open is already past them);
2. the price path, walked by ``trading.engine.bar_path`` (which paper catch-up uses too):
   every symbol in turn, open, the extreme adverse to its position, the other extreme,
   the close; the engine is called at a trigger price the path reaches, at the price
   where the account falls below maintenance margin and at funding hours inside the bar;
3. at the close: the equity is recorded and, on decision bars, the strategy decides.

The engine is only called when something can happen (flat with nothing pending: never;
holding: on bars whose range reaches a trigger or the liquidation threshold, on hour
boundaries when funding rates are given, and when orders execute). ``skip_quiet_bars=False``
calls it at every point of every bar instead; the tests show both give identical results.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hyperoru.replay.bars import Bars
from hyperoru.replay.decisions import PendingDecision, limits_of, outcome_of, pending
from hyperoru.replay.fingerprint import fingerprint
from hyperoru.replay.metrics import compute_metrics
from hyperoru.replay.prices import HUNDRED, exact, iso, utc
from hyperoru.replay.settings import ReplaySettings
from hyperoru.replay.trips import TripBook, plain
from hyperoru.strategies.decision import Decision
from hyperoru.strategies.order_step import Book, order_step
from hyperoru.trading.engine import (
    AccountMetrics,
    AccountState,
    AssetSpec,
    EngineConfig,
    EngineResult,
    Fill,
    OrderRequest,
    OrderStatus,
    TriggerFill,
    Venue,
    measure,
)
from hyperoru.trading.engine.bar_path import BarPrices, BarWalk, fires_up
from hyperoru.trading.engine.margin import equity_of
from hyperoru.trading.engine.money import in_engine_context, money
from hyperoru.trading.order_requests import engine_request
from hyperoru.trading.position_reports import position_reports

EQUITY_CURVE_POINTS = 2000
MAX_REJECTIONS_KEPT = 100
SCHEDULED_TRIGGER: Mapping[str, Any] = {"type": "scheduled", "signal_pool_id": None, "values": {}}
# Relative tolerance of the float pre-checks: they only decide whether the exact Decimal
# check runs, so they err towards running it.
_LOOSE = 1e-9
_HOUR_MS = 3_600_000


@dataclass(frozen=True)
class ReplayResult:
    metrics: dict[str, Any]
    equity_curve: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    fingerprint: str
    # The first rejected decisions and orders, with their reasons (for "why no trades?").
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def to_plain(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "equity_curve": self.equity_curve,
            "trades": self.trades,
            "fingerprint": self.fingerprint,
            "rejections": self.rejections,
        }


@dataclass(slots=True)
class Column:
    """One symbol's bars aligned on the replay's times; ``None`` before its first bar."""

    open: list[float | None]
    high: list[float | None]
    low: list[float | None]
    close: list[float | None]
    volume: list[float | None]
    rates: list[float | None] | None


def _listed(values: Sequence[Any]) -> list[Any]:
    """``values`` as a list, without a copy when it is one (columns are only read)."""
    return values if type(values) is list else list(values)


def _aligned(bars: Bars, times: list[int]) -> Column:
    rates = None if bars.funding_rates is None else _listed(bars.funding_rates)
    if _listed(bars.times) == times:
        return Column(
            _listed(bars.open), _listed(bars.high), _listed(bars.low), _listed(bars.close),
            _listed(bars.volume), rates,
        )  # fmt: skip
    at = {t: k for k, t in enumerate(bars.times)}
    column = Column([], [], [], [], [], None if rates is None else [])
    last: float | None = None
    row: tuple[float | None, ...]
    for t in times:
        k = at.get(t)
        if k is None:
            # No candle: the price stayed where it was (or the symbol has not started).
            row = (last, last, last, last, None if last is None else 0.0, None)
        else:
            last = bars.close[k]
            rate = None if rates is None else rates[k]
            row = (bars.open[k], bars.high[k], bars.low[k], last, bars.volume[k], rate)
        for target, value in zip(
            (column.open, column.high, column.low, column.close, column.volume), row, strict=False
        ):
            target.append(value)
        if column.rates is not None:
            column.rates.append(row[5])
    return column


class Replay:
    def __init__(
        self,
        settings: ReplaySettings,
        bars: Mapping[str, Bars],
        *,
        skip_quiet_bars: bool = True,
    ) -> None:
        missing = [s for s in settings.symbols if s not in bars]
        if missing:
            raise ValueError(f"no bars for {', '.join(missing)}")
        self.settings = settings
        self.symbols = settings.symbols
        self.times = _listed(bars[settings.symbols[0]].times)
        self.bar_count = len(self.times)
        if not self.bar_count:
            raise ValueError("a replay needs at least one bar")
        self._columns = {s: _aligned(bars[s], self.times) for s in self.symbols}
        self._skip = skip_quiet_bars
        self._interval_ms = settings.interval_minutes * 60_000
        self._interval = timedelta(minutes=settings.interval_minutes)
        self._config = EngineConfig(
            assets={
                s: AssetSpec(s, settings.sz_decimals_of(s), settings.asset_max_leverage_of(s))
                for s in self.symbols
            },
            fees=settings.fees,
            trigger_fill=TriggerFill.for_venue(Venue(settings.venue)),
        )
        self._slippage = settings.slippage_pct / HUNDRED
        self._limits = limits_of(settings)
        self._sz_decimals = {s: settings.sz_decimals_of(s) for s in self.symbols}
        first_hour = self.times[0] // _HOUR_MS * _HOUR_MS
        self._state = AccountState(
            cash=settings.initial_balance,
            max_leverage=settings.max_leverage,
            # The funding clock starts with the replay, so the first hour is settled
            # however late the engine is first called.
            funding_settled_at=utc(first_hour),
        )
        self._with_funding = any(c.rates is not None for c in self._columns.values())
        self._trips = TripBook()
        self._pending: list[PendingDecision] = []
        self._order_ids: Iterator[str] = (str(n) for n in itertools.count(1))
        self._equity: list[float] = []
        self._curve: list[dict[str, Any]] = []
        self._curve_at = _sample_points(self.bar_count, EQUITY_CURVE_POINTS)
        self._next_bar = 0
        self._decisions = 0
        self._rejected = 0
        self._rejections: list[dict[str, Any]] = []
        self._stamp = ""
        self._close_cache: tuple[int, AccountState, Any] | None = None
        self._measure_cache: tuple[int, AccountState, AccountMetrics] | None = None
        self._watch()

    # -- float caches for the per-bar pre-checks ---------------------------------------

    def _watch(self) -> None:
        state = self._state
        self._cash = float(state.cash)
        self._held = [
            (
                p.symbol,
                self._columns[p.symbol],
                float(p.size),
                float(p.entry_price),
                1.0 / (2 * self._config.assets[p.symbol].max_leverage),
            )
            for p in state.positions
        ]
        self._armed = [
            (self._columns[t.symbol], float(t.trigger_price), fires_up(t))
            for t in state.triggers
            if t.active
        ]
        self._exposed = bool(state.positions or state.triggers or state.open_orders)
        settled = state.funding_settled_at
        self._settled_hour = 0 if settled is None else _hour(settled)
        self._funded = self._with_funding and any(
            self._columns[p.symbol].rates is not None for p in state.positions
        )

    def _quiet_equity(self, i: int) -> float | None:
        """The close equity of bar ``i`` if the engine can do nothing in it, else None
        (a float pre-check that errs towards None)."""
        for column, price, up in self._armed:
            reached = column.high[i] if up else column.low[i]
            # No bar yet for the symbol: nothing to pre-check, the engine decides.
            if reached is None:
                return None
            if up:
                if reached >= price * (1 - _LOOSE):
                    return None
            elif reached <= price * (1 + _LOOSE):
                return None
        if self._funded and self.times[i] // _HOUR_MS > self._settled_hour:
            return None
        # Equity over maintenance with every position at its adverse extreme at once:
        # the worst the bar can do, since that margin only grows as prices move back.
        excess = equity = self._cash
        scale = 1.0
        for _, column, size, entry, maintenance_rate in self._held:
            adverse = column.low[i] if size > 0 else column.high[i]
            close = column.close[i]
            if adverse is None or close is None:
                return None
            excess += size * (adverse - entry) - abs(size) * adverse * maintenance_rate
            scale += abs(size) * adverse
            equity += size * (close - entry)
        return None if excess <= scale * _LOOSE else equity

    def _float_equity(self, i: int) -> float:
        equity = self._cash
        for _, column, size, entry, _ in self._held:
            close = column.close[i]
            # A position exists only once its symbol has a bar: its close is known.
            assert close is not None
            equity += size * (close - entry)
        return equity

    # -- public driving interface -------------------------------------------------------

    def decision_time(self, i: int) -> str:
        """When bar ``i``'s decisions are taken: its close (open time + interval)."""
        return iso(self.times[i] + self._interval_ms)

    def column(self, symbol: str) -> Column:
        """``symbol``'s bars aligned on the replay's times (read-only by convention)."""
        return self._columns[symbol]

    def decides_at(self, i: int) -> bool:
        """Decisions at every ``decide_every``-th bar's close (bars n-1, 2n-1, ...) when
        scheduled, and at the close of every bar a replayed signal pool fired on."""
        settings = self.settings
        if settings.scheduled and (i + 1) % settings.decide_every == 0:
            return True
        return self.times[i] in settings.signal_triggers

    def trigger_at(self, i: int) -> Mapping[str, Any]:
        """What started the decision at bar ``i``'s close: a signal pool, or the schedule."""
        return self.settings.signal_triggers.get(self.times[i], SCHEDULED_TRIGGER)

    def advance(self, i: int) -> None:
        """Bring the account through bar ``i`` (bars are advanced in order, once each)."""
        if i != self._next_bar:
            raise ValueError(f"bar {i} out of order: expected bar {self._next_bar}")
        self._next_bar = i + 1
        if self._skip and not self._pending:
            if not self._exposed:
                self._equity.append(self._cash)
                if i in self._curve_at:
                    self._sample(i)
                return
            equity = self._quiet_equity(i)
            if equity is not None:
                self._equity.append(equity)
                if i in self._curve_at:
                    self._sample(i)
                return
        self._engine_bar(i)
        self._equity.append(self._float_equity(i))
        if i in self._curve_at:
            self._sample(i)

    def submit(self, i: int, decisions: Sequence[Decision]) -> list[dict[str, Any]]:
        """Decisions taken at the close of bar ``i``, at its closes. At the open of bar
        ``i + 1`` each in turn is checked against the account as it is then (after the
        previous one's order executed) and its order executes, as a live cycle re-reads
        the account before every order. One outcome per decision, completed then."""
        if i != self._next_bar - 1:
            raise ValueError(f"decisions for bar {i} must follow advance({i})")
        marks, _ = self._at_close(i)
        waiting = [pending(decision, marks) for decision in decisions]
        self._decisions += sum(1 for d in decisions if d.operation != "hold")
        self._pending.extend(waiting)
        return [w.outcome for w in waiting]

    def refuse(self, i: int, reason: str) -> list[dict[str, Any]]:
        """An answer at bar ``i``'s close that is not a usable decision (a live cycle
        fails on it): nothing is traded; one rejected outcome says why."""
        if i != self._next_bar - 1:
            raise ValueError(f"decisions for bar {i} must follow advance({i})")
        outcome = outcome_of(None, None)
        outcome.update(approved=False, reason=reason)
        self._decisions += 1
        self._reject(i, outcome, reason)
        return [outcome]

    def view(self, i: int) -> dict[str, Any]:
        """The account and market at the close of bar ``i`` as plain data (floats);
        ``now`` is the decision time, the bar's close."""
        return {
            "now": self.decision_time(i),
            "bar": i,
            "prices": self.prices_view(i),
            "positions": self.positions_view(i),
            "balance": self.balance_view(i),
            "trigger": dict(self.trigger_at(i)),
        }

    def prices_view(self, i: int) -> dict[str, float]:
        return {s: close for s, c in self._columns.items() if (close := c.close[i]) is not None}

    def positions_view(self, i: int) -> list[dict[str, Any]]:
        _, state = self._at_close(i)
        return [
            {
                "symbol": p.symbol,
                "side": "long" if p.size > 0 else "short",
                "size": float(abs(p.size)),
                "entry_price": float(p.entry_price),
                "mark_price": float(p.mark_price),
                "leverage": p.leverage,
                "unrealized_pnl": float(p.unrealized_pnl),
                "opened_at": p.opened_at.isoformat().replace("+00:00", "Z"),
            }
            for p in state.positions
        ]

    def balance_view(self, i: int) -> dict[str, float]:
        metrics = self._measured(i)
        return {
            "total": float(metrics.equity),
            "available": float(metrics.available),
            "margin_used": float(metrics.margin_used),
            "unrealized_pnl": float(metrics.unrealized_pnl),
        }

    @property
    def fill_count(self) -> int:
        return len(self._trips.fills)

    def recent_fills(self, limit: int) -> list[Fill]:
        """The engine's fills through the last bar advanced, newest first: the orders the
        decisions placed, and the take-profits, stop-losses and liquidations."""
        return self._trips.fills[: -limit - 1 : -1] if limit > 0 else []

    def finish(self) -> ReplayResult:
        """The result over the bars advanced so far; orders decided at the last bar's close
        have no next open and are reported as not executed."""
        if not self._next_bar:
            raise ValueError("no bar was replayed")
        last = self._next_bar - 1
        ended = "the backtest ended before the next bar's open"
        for waiting in self._pending:
            # Never checked: there is no account at an open that never came.
            waiting.outcome["reason"] = ended
            waiting.outcome["execution"] = {"status": "not_executed", "reason": ended}
        self._pending = []
        final_equity = self._exact_equity(last)
        if not self._curve or self._curve[-1]["bar"] != last:
            self._sample(last)
        trips = self._trips.closed
        trades = [t.as_dict() for t in trips] + [t.as_dict() for t in self._trips.still_open()]
        metrics = compute_metrics(
            initial_balance=self.settings.initial_balance,
            final_equity=final_equity,
            trips=trips,
            equity=self._equity,
            bars_per_year=self.settings.bars_per_year,
            fees=self._trips.fees,
            funding=self._trips.funding,
            liquidations=self._trips.liquidations,
            decisions=self._decisions,
            rejected=self._rejected,
        )
        curve = [{"time": p["time"], "equity": p["equity"]} for p in self._curve]
        return ReplayResult(
            metrics=metrics,
            equity_curve=curve,
            trades=trades,
            fingerprint=fingerprint(trades),
            rejections=list(self._rejections),
        )

    # -- the exact path of one bar ----------------------------------------------------

    def _engine_bar(self, i: int) -> None:
        start = self.times[i]
        self._stamp = iso(start)
        bars: dict[str, BarPrices] = {}
        for s in self.symbols:
            c = self._columns[s]
            o, h, low, close = c.open[i], c.high[i], c.low[i], c.close[i]
            # A column is None on all four before its symbol's first bar.
            if o is not None and h is not None and low is not None and close is not None:
                bars[s] = BarPrices(exact(o), exact(h), exact(low), exact(close), self._rate(s, i))
        walk = BarWalk(
            self._state,
            self._config,
            bars,
            start=utc(start),
            length=self._interval,
            slippage=self._slippage,
            strict=not self._skip,
            with_funding=self._with_funding,
            record=self._record,
        )
        # Funding, and a gap through a trigger or the margin threshold, come before the
        # orders decided at the last close: they happened at the open, the orders after.
        walk.at_open()
        waiting, self._pending = self._pending, []
        for decided in waiting:
            self._execute(decided, walk, i)
        if waiting:
            walk.after_orders()
            if self._skip and self._rest_is_quiet(walk, i):
                return
        walk.to_close()
        self._state = walk.state
        self._watch()

    def _rest_is_quiet(self, walk: BarWalk, i: int) -> bool:
        """After the orders at the open: whether the walk to the close can call the engine
        at all, by the float pre-check of a bar without orders (``_quiet_equity``) on the
        account as the orders left it. Without funding and resting orders, that walk only
        moves prices when nothing is reached, so it is skipped; the account is the same."""
        self._state = walk.state
        self._watch()
        if self._with_funding or walk.state.open_orders:
            return False
        return self._quiet_equity(i) is not None

    def _book(self, walk: BarWalk) -> Book:
        """The account at the open as a live cycle reads it before each order."""
        state = _marked(walk.state, walk.marks)
        reports = position_reports(state, self._config)
        return Book(measure(state, self._config).available, {p.symbol: p for p in reports})

    def _execute(self, decided: PendingDecision, walk: BarWalk, i: int) -> None:
        outcome = decided.outcome
        step = order_step(
            decided.decision,
            self._limits,
            self._book(walk),
            prices=decided.prices,
            sz_decimals=self._sz_decimals,
            name="backtest",
        )
        verdict, intent = step.verdict, step.intent
        outcome.update(approved=verdict.approved, reason=verdict.reason)
        if intent is None:
            if not verdict.approved:
                self._reject(i, outcome, verdict.reason)
            return
        order_id = next(self._order_ids)
        leverage = intent.leverage or self.settings.default_leverage
        if intent.margin_mode is None:  # as the trader's paper orders take its own mode
            intent = replace(intent, margin_mode=self.settings.margin_mode)
        try:
            request = engine_request(intent, order_id=order_id, leverage=leverage)
        except ValueError as exc:  # e.g. a non-positive limit price from the decision
            outcome.update(approved=False, reason=str(exc))
            self._reject(i, outcome, str(exc))
            return
        outcome["order_id"] = order_id
        outcome["order"] = _order_view(request)
        result = walk.place(request)
        average = result.average_price
        outcome["execution"] = {
            "status": result.status.value,
            "time": self._stamp,
            "filled_quantity": plain(result.filled_quantity),
            "average_price": None if average is None else plain(average),
            "reject_code": None if result.reject_code is None else result.reject_code.value,
            "message": result.message,
        }
        if result.status is OrderStatus.REJECTED:
            self._reject(i, outcome, result.message or "rejected")

    def _record(self, result: EngineResult) -> None:
        if result.events:
            self._trips.record(result.events, self._stamp)

    def _reject(self, i: int, outcome: dict[str, Any], reason: str) -> None:
        self._rejected += 1
        if len(self._rejections) < MAX_REJECTIONS_KEPT:
            self._rejections.append(
                {
                    "time": iso(self.times[i]),
                    "operation": outcome["operation"],
                    "symbol": outcome["symbol"],
                    "reason": reason,
                }
            )

    # -- small helpers ------------------------------------------------------------------

    def _rate(self, symbol: str, i: int) -> Decimal | None:
        rates = self._columns[symbol].rates
        value = None if rates is None else rates[i]
        return None if value is None else exact(value)

    def _at_close(self, i: int) -> tuple[dict[str, Decimal], AccountState]:
        """The closes of bar ``i`` and the account marked at them; cached, since a
        decision bar asks for them up to four times with nothing changed."""
        cached = self._close_cache
        if cached is not None and cached[0] == i and cached[1] is self._state:
            return cached[2]
        marks = self._closes(i)
        answer = (marks, _marked(self._state, marks))
        self._close_cache = (i, self._state, answer)
        return answer

    def _measured(self, i: int) -> AccountMetrics:
        """The account's measure at bar ``i``'s close (only the balance needs it)."""
        cached = self._measure_cache
        if cached is not None and cached[0] == i and cached[1] is self._state:
            return cached[2]
        metrics = measure(self._at_close(i)[1], self._config)
        self._measure_cache = (i, self._state, metrics)
        return metrics

    def _closes(self, i: int) -> dict[str, Decimal]:
        closes = ((s, c.close[i]) for s, c in self._columns.items())
        return {s: exact(close) for s, close in closes if close is not None}

    @in_engine_context
    def _exact_equity(self, i: int) -> Decimal:
        _, state = self._at_close(i)
        return money(equity_of(state.cash, state.positions))

    def _sample(self, i: int) -> None:
        self._curve.append(
            {"bar": i, "time": iso(self.times[i]), "equity": plain(self._exact_equity(i))}
        )


def _marked(state: AccountState, marks: Mapping[str, Decimal]) -> AccountState:
    """``state`` with its positions marked at ``marks``; flat, it is ``state`` itself (a
    new copy would be equal, and a decision bar while flat is the common case)."""
    if not state.positions:
        return state
    positions = tuple(
        replace(p, mark_price=marks.get(p.symbol, p.mark_price)) for p in state.positions
    )
    return replace(state, positions=positions)


def _order_view(request: OrderRequest) -> dict[str, Any]:
    """The order a decision became, as plain data (what a live cycle would have placed)."""

    def text(value: Decimal | None) -> str | None:
        return None if value is None else plain(value)

    return {
        "symbol": request.symbol,
        "side": request.side.value,
        "order_type": request.order_type.value,
        "quantity": plain(request.quantity),
        "limit_price": text(request.price),
        "leverage": request.leverage,
        "margin_mode": request.margin_mode.value,
        "reduce_only": request.reduce_only,
        "take_profit_price": text(request.take_profit_price),
        "stop_loss_price": text(request.stop_loss_price),
    }


def _hour(moment: datetime) -> int:
    return int(moment.timestamp()) * 1000 // _HOUR_MS


def _sample_points(count: int, points: int) -> frozenset[int]:
    """At most ``points`` evenly spread bar indices, always the first and the last."""
    if count <= points:
        return frozenset(range(count))
    return frozenset(round(k * (count - 1) / (points - 1)) for k in range(points))


class _View(Mapping[str, Any]):
    """``Replay.view(i)`` computed key by key, so a caller that reads only the prices
    does not pay for the account's measurement on every bar."""

    _KEYS = ("now", "bar", "prices", "positions", "balance", "trigger")

    def __init__(self, replay: Replay, bar: int) -> None:
        self._replay = replay
        self.bar = bar

    def __getitem__(self, key: str) -> Any:
        replay, i = self._replay, self.bar
        if key == "now":
            return replay.decision_time(i)
        if key == "bar":
            return i
        if key == "prices":
            return replay.prices_view(i)
        if key == "positions":
            return replay.positions_view(i)
        if key == "balance":
            return replay.balance_view(i)
        if key == "trigger":
            return dict(replay.trigger_at(i))
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._KEYS)

    def __len__(self) -> int:
        return len(self._KEYS)


# The decisions at bar ``i``'s close; a strategy that cannot answer calls ``refuse``.
Decide = Callable[[int, Mapping[str, Any]], Sequence[Decision]]
PROGRESS_STEPS = 200


def run_replay(
    settings: ReplaySettings,
    bars: Mapping[str, Bars],
    decide: Decide,
    *,
    on_progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    skip_quiet_bars: bool = True,
) -> ReplayResult:
    """Replay every bar, asking ``decide(i, view)`` at each decision bar's close.

    ``view`` is ``Replay.view(i)`` computed lazily, valid during the call only.
    ``on_progress`` gets the fraction done about ``PROGRESS_STEPS`` times;
    ``should_stop`` returning true ends the replay early with the result so far.
    """
    replay = Replay(settings, bars, skip_quiet_bars=skip_quiet_bars)
    return run_loop(replay, decide, on_progress=on_progress, should_stop=should_stop)


def run_loop(
    replay: Replay,
    decide: Decide,
    *,
    on_progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ReplayResult:
    """``run_replay`` over an existing ``Replay`` (the sandbox builds its own)."""
    count = replay.bar_count
    every = max(1, count // PROGRESS_STEPS)
    decide_every = replay.settings.decide_every
    # The common case, a plain schedule, keeps the per-bar test to one modulo.
    plain_schedule = replay.settings.scheduled and not replay.settings.signal_triggers
    decides_at = None if plain_schedule else replay.decides_at
    # One view, moved from bar to bar: it is only valid during the ``decide`` call.
    view = _View(replay, 0)
    advance = replay.advance
    for start in range(0, count, every):
        for i in range(start, min(start + every, count)):
            advance(i)
            if decides_at(i) if decides_at is not None else (i + 1) % decide_every == 0:
                view.bar = i
                decisions = decide(i, view)
                if decisions:
                    replay.submit(i, decisions)
        if on_progress is not None:
            on_progress(min(start + every, count) / count)
        if should_stop is not None and should_stop():
            break
    return replay.finish()
