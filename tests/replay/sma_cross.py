"""One simple strategy, written three ways: a moving-average cross, long only, whole units.

- ``program(fast, slow)``: a user's program source for the sandbox;
- ``decider(bars, fast, slow)``: the same rule as a ``decide`` function for the in-process
  driver (``run_replay``);
- ``run_reference(bars, fast, slow)``: the same rule in backtesting.py (the independent
  reference), with no commission and no spread.

All three read the same SMA series (``hyperoru.market.indicators.sma``), so a cross decided
by the last bit of two nearly equal averages cannot differ between them. Orders are 10
whole units: the program asks for 10.5 units' worth of the available balance at the
decision's close and the venue rounds the size down (sz_decimals 0), which is the only
way a percent-of-balance decision can name an exact quantity.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from hyperoru.market.indicators import sma
from hyperoru.replay.bars import Bars
from hyperoru.replay.decisions import read_decisions
from hyperoru.replay.settings import ReplaySettings
from hyperoru.strategies.decision import Decision

UNITS = 10
# What the comparison with backtesting.py runs on: one-minute bars, no fees, no slippage,
# whole units only.
ZERO_COST_MINUTES = ReplaySettings(
    symbols=("BTC",),
    interval="1m",
    maker_fee_pct=Decimal(0),
    taker_fee_pct=Decimal(0),
    sz_decimals={"BTC": 0},
)


def program(fast: int, slow: int) -> str:
    return f"""
class Strategy:
    def init(self, params):
        self.previous = None

    def should_trade(self, data):
        fast = data.get_indicator("BTC", "sma", {fast})
        slow = data.get_indicator("BTC", "sma", {slow})
        previous, self.previous = self.previous, (fast, slow)
        if previous is None or previous[1] is None:
            return None
        if previous[0] <= previous[1] and fast > slow:
            if "BTC" in data.get_positions():
                return None
            available = data.get_balance()["available"]
            size_pct = ({UNITS} + 0.5) * data.get_price("BTC") / available * 100
            return Decision("long", "BTC", size_pct=size_pct)
        if previous[0] >= previous[1] and fast < slow and "BTC" in data.get_positions():
            return Decision("close", "BTC")
        return None
"""


Decide = Callable[[int, Mapping[str, Any]], Sequence[Decision]]


def decider(bars: Bars, fast: int, slow: int) -> Decide:
    fast_line = [None if v != v else v for v in sma(bars.close, fast).tolist()]
    slow_line = [None if v != v else v for v in sma(bars.close, slow).tolist()]

    def decide(i: int, view: Mapping[str, Any]) -> list[Decision]:
        if i == 0 or slow_line[i - 1] is None:
            return []
        before, now = (fast_line[i - 1], slow_line[i - 1]), (fast_line[i], slow_line[i])
        held = any(p["symbol"] == "BTC" for p in view["positions"])
        if before[0] <= before[1] and now[0] > now[1]:
            if held:
                return []
            available = view["balance"]["available"]
            size_pct = (UNITS + 0.5) * view["prices"]["BTC"] / available * 100
            return read_decisions([{"operation": "long", "symbol": "BTC", "size_pct": size_pct}])
        if before[0] >= before[1] and now[0] < now[1] and held:
            return read_decisions([{"operation": "close", "symbol": "BTC"}])
        return []

    return decide


def run_reference(bars: Bars, fast: int, slow: int, cash: float = 10_000) -> Any:
    import pandas as pd
    from backtesting import Backtest, Strategy

    class Cross(Strategy):
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, fast)
            self.slow = self.I(sma, self.data.Close, slow)

        def next(self) -> None:
            if self.fast[-2] <= self.slow[-2] and self.fast[-1] > self.slow[-1]:
                if not self.position:
                    self.buy(size=UNITS)
            elif self.fast[-2] >= self.slow[-2] and self.fast[-1] < self.slow[-1] and self.position:
                self.position.close()

    frame = pd.DataFrame(
        {
            "Open": list(bars.open),
            "High": list(bars.high),
            "Low": list(bars.low),
            "Close": list(bars.close),
            "Volume": list(bars.volume),
        },
        index=pd.to_datetime(list(bars.times), unit="ms", utc=True),
    )
    backtest = Backtest(frame, Cross, cash=cash, commission=0, spread=0, trade_on_close=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its progress bar and "some trades open" notes
        return backtest.run()
