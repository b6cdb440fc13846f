"""One bar of prices through the engine: the path and fill model that backtest replays
and paper catch-up share, so the same candles give the same fills. Pure.

The path of a bar, every symbol in turn at each point: the open, the extreme adverse to
its position (the low for a long or no position, the high for a short), the other
extreme, the close. On the way the engine is called where something happens: at a
trigger price the path reaches (the trigger fills there), at the price where the
account falls below maintenance margin, after a resting limit was traded through, and at
every funding hour inside the bar. The four points are spread evenly over the bar (the
open at its start, the extremes a third and two thirds in, the close at its end) and
the price moves in a straight line between them: an hour inside a coarse bar is settled
at the price the path has then, so a position that a stop or a liquidation closes later
in the bar pays for it, and one closed earlier does not. Each snapshot's book is one
deep level either side of the price at ``slippage``; its ``low``/``high`` are the prices
traversed since the previous engine call (for resting limits).

``strict`` calls the engine at every point of the path and every hour boundary too; the
replay's tests show both give identical results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from hyperoru.trading.engine.config import EngineConfig
from hyperoru.trading.engine.enums import Side, TriggerKind
from hyperoru.trading.engine.events import EngineResult, OrderResult
from hyperoru.trading.engine.funding import HOUR, floor_hour
from hyperoru.trading.engine.margin import any_liquidatable, liquidation_price
from hyperoru.trading.engine.market import BookLevel, MarketSnapshot, OrderBook
from hyperoru.trading.engine.money import PRICE_QUANTUM, in_engine_context
from hyperoru.trading.engine.orders import place_order
from hyperoru.trading.engine.state import AccountState, OrderRequest, TriggerOrder
from hyperoru.trading.engine.updates import on_market

# Deep enough for any order: the book stands for "the market traded here".
SYNTHETIC_DEPTH = Decimal(10) ** 15
# Relative tolerance of the float pre-check: it only decides whether the exact Decimal
# check runs, so it errs towards running it.
_LOOSE = 1e-9
_MICROSECOND = timedelta(microseconds=1)
_POINTS = 3  # legs of the path: open -> extreme -> extreme -> close

Record = Callable[[EngineResult], None]


@dataclass(frozen=True, slots=True)
class BarPrices:
    """One symbol's bar; ``funding_rate`` is the hourly rate in force during it."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    funding_rate: Decimal | None = None


def fires_up(trigger: TriggerOrder) -> bool:
    """True when the trigger fires as the price rises (mark >= price)."""
    return (trigger.side is Side.SELL) == (trigger.kind is TriggerKind.TAKE_PROFIT)


def snapshot(
    symbol: str,
    price: Decimal,
    slippage: Decimal,
    funding_rate: Decimal | None,
    traded: tuple[Decimal, Decimal] | None = None,
) -> MarketSnapshot:
    """The market at ``price``: mark ``price``, one deep level each side at
    ``price * (1 -/+ slippage)`` (so every taker fill pays exactly the slippage), and the
    range ``traded`` since the last snapshot."""
    bid = BookLevel(price * (1 - slippage), SYNTHETIC_DEPTH)
    ask = BookLevel(price * (1 + slippage), SYNTHETIC_DEPTH)
    low, high = traded if traded is not None else (None, None)
    return MarketSnapshot(
        symbol=symbol,
        mark_price=price,
        book=OrderBook(bids=(bid,), asks=(ask,)),
        funding_rate=funding_rate,
        low=low,
        high=high,
    )


class BarWalk:
    """One account through one bar: ``at_open``, then any orders (``place``) and
    ``after_orders``, then ``to_close``. Every engine result goes to ``record``;
    ``state`` is the account as it stands."""

    def __init__(
        self,
        state: AccountState,
        config: EngineConfig,
        bars: Mapping[str, BarPrices],
        *,
        start: datetime,
        length: timedelta,
        slippage: Decimal,
        strict: bool,
        with_funding: bool,
        record: Record,
    ) -> None:
        self.state = state
        self.now = start
        self.marks = {s: b.open for s, b in bars.items()}
        self._config = config
        self._bars = bars
        self._start = start
        self._length = length
        self._slippage = slippage
        self._strict = strict
        self._with_funding = with_funding
        self._record = record
        self._rates = {s: b.funding_rate for s, b in bars.items()}
        self._traded: dict[str, tuple[Decimal, Decimal]] = {}

    # -- the steps of a bar ---------------------------------------------------------

    def at_open(self) -> None:
        """Funding due at the open, and whatever a gap already reached (a trigger, the
        margin threshold, a resting limit): they come before orders placed at the open."""
        if self._strict or self._funding_due() or self._something_due():
            self._on_market()

    def place(self, request: OrderRequest) -> OrderResult:
        """An order executed at the open."""
        result = place_order(
            self.state, request, markets=self._markets(), config=self._config, now=self.now
        )
        self._apply(result)
        return result

    def after_orders(self) -> None:
        """An order's own exits may already be crossed at the open it filled at."""
        if self._strict or self._something_due():
            self._on_market()

    def to_close(self) -> None:
        """Walk every symbol along its path to the close."""
        first_low = {}
        for symbol in self._bars:
            position = self.state.position(symbol)
            first_low[symbol] = position is None or position.size > 0
        bars = self._bars
        points = (
            {s: b.low if first_low[s] else b.high for s, b in bars.items()},
            {s: b.high if first_low[s] else b.low for s, b in bars.items()},
            {s: b.close for s, b in bars.items()},
        )
        for leg, targets in enumerate(points):
            begins = self._start + self._length * leg / _POINTS
            ends = self._start + self._length * (leg + 1) / _POINTS
            origins = dict(self.marks)
            for boundary in self._hours_inside(begins, ends):
                share = Decimal((boundary - begins) // _MICROSECOND) / Decimal(
                    (ends - begins) // _MICROSECOND
                )
                for symbol, target in targets.items():
                    origin = origins[symbol]
                    self._walk(symbol, _between(origin, target, share), call_at_end=False)
                self.now = boundary
                if self._strict or (self.state.positions and self._funding_due()):
                    self._on_market()
            for symbol, target in targets.items():
                self._walk(symbol, target, call_at_end=True)

    # -- the path -------------------------------------------------------------------

    def _hours_inside(self, begins: datetime, ends: datetime) -> Iterator[datetime]:
        """Hour boundaries in (begins, ends], strictly inside the bar (the bar's end is
        the next bar's open, which settles its own hour)."""
        boundary = floor_hour(begins) + HOUR
        last = min(ends, self._start + self._length - _MICROSECOND)
        while boundary <= last:
            yield boundary
            boundary += HOUR

    def _walk(self, symbol: str, target: Decimal, *, call_at_end: bool) -> None:
        """Move ``symbol`` from its mark to ``target``, stopping at each price where a
        trigger fires or the account becomes liquidatable, in path order."""
        while (stop := self._next_event(symbol, target)) is not None:
            self._move(symbol, stop)
            self._on_market()
        self._move(symbol, target)
        if call_at_end and (self._strict or self.state.open_orders):
            self._on_market()

    def _move(self, symbol: str, price: Decimal) -> None:
        mark = self.marks[symbol]
        low, high = self._traded.get(symbol, (mark, mark))
        self._traded[symbol] = (min(low, price), max(high, price))
        self.marks[symbol] = price

    def _next_event(self, symbol: str, target: Decimal) -> Decimal | None:
        start = self.marks[symbol]
        if start == target:
            return None
        down = target < start
        stops = []
        for trigger in self.state.triggers:
            if not trigger.active or trigger.symbol != symbol:
                continue
            price = trigger.trigger_price
            reached = target <= price < start if down else start < price <= target
            if reached and fires_up(trigger) is not down:
                stops.append(price)
        if self.state.position(symbol) is not None:
            at_target = {**self.marks, symbol: target}
            if not self._clearly_safe(at_target) and self._liquidatable(at_target):
                stops.append(self._liquidation_point(symbol, target, down))
        if not stops:
            return None
        return max(stops) if down else min(stops)

    def _liquidation_point(self, symbol: str, target: Decimal, down: bool) -> Decimal:
        """The first price on the way to ``target`` at which equity is below maintenance:
        the engine's liquidation price, nudged past it by its rounding if needed."""
        price = liquidation_price(self._marked(self.marks), symbol, self._config)
        if price is None:
            return target
        step = -PRICE_QUANTUM if down else PRICE_QUANTUM
        for _ in range(3):
            beyond = price < target if down else price > target
            if beyond:
                return target
            if self._liquidatable({**self.marks, symbol: price}):
                return price
            price += step
        return target

    # -- whether the engine has anything to do ---------------------------------------

    def _something_due(self) -> bool:
        state = self.state
        if state.open_orders:
            return True
        for trigger in state.triggers:
            if trigger.active and trigger.is_crossed_by(self.marks[trigger.symbol]):
                return True
        if not state.positions or self._clearly_safe(self.marks):
            return False
        return self._liquidatable(self.marks)

    def _funding_due(self) -> bool:
        if not self._with_funding:
            return False
        settled = self.state.funding_settled_at
        return settled is None or floor_hour(self.now) > floor_hour(settled)

    def _clearly_safe(self, marks: Mapping[str, Decimal]) -> bool:
        """Cross equity, and each isolated position's equity, comfortably above their
        maintenance margin at ``marks`` (a float pre-check; when it says no, the exact
        check decides)."""
        excess = float(self.state.cash)
        scale = 1.0
        assets = self._config.assets
        for p in self.state.positions:
            price = float(marks.get(p.symbol, p.mark_price))
            size = float(p.size)
            maintenance_rate = 1.0 / (2 * assets[p.symbol].max_leverage)
            own = size * (price - float(p.entry_price)) - abs(size) * price * maintenance_rate
            if p.is_isolated:
                own += float(p.isolated_margin)
                if own <= (1.0 + abs(size) * price) * _LOOSE:
                    return False
                continue
            excess += own
            scale += abs(size) * price
        return excess > scale * _LOOSE

    @in_engine_context
    def _liquidatable(self, marks: Mapping[str, Decimal]) -> bool:
        positions = [
            replace(p, mark_price=marks.get(p.symbol, p.mark_price)) for p in self.state.positions
        ]
        return any_liquidatable(self.state.cash, positions, self._config.assets)

    # -- engine calls -----------------------------------------------------------------

    def _marked(self, marks: Mapping[str, Decimal]) -> AccountState:
        positions = tuple(
            replace(p, mark_price=marks.get(p.symbol, p.mark_price)) for p in self.state.positions
        )
        return replace(self.state, positions=positions)

    def _markets(self) -> dict[str, MarketSnapshot]:
        return {
            s: snapshot(s, p, self._slippage, self._rates.get(s), self._traded.get(s))
            for s, p in self.marks.items()
        }

    def _on_market(self) -> None:
        self._apply(on_market(self.state, self._markets(), config=self._config, now=self.now))
        self._traded = {}

    def _apply(self, result: EngineResult) -> None:
        self.state = result.state
        self._record(result)


def _between(origin: Decimal, target: Decimal, share: Decimal) -> Decimal:
    """The price ``share`` of the way from ``origin`` to ``target`` on a straight line."""
    return (origin + (target - origin) * share).quantize(PRICE_QUANTUM)
