"""No look-ahead in a backtest: the ``data`` a program reads is a read-only view of the
current bar and earlier ones (issue 15, finding 4).

Three kinds of attempt: moving the cursor by assignment (refused at run time with an
error naming the assignment), private members and introspection (refused by the policy
before anything runs), and every public route with odd arguments, held objects and
mutated answers (they run, and what they return at bar ``i`` is the same whether the
candles end at ``i`` or go on: nothing after the bar can reach the program)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.replay.bars import Bars
from hyperoru.replay.settings import ReplaySettings
from tests.programs.programs import strategy
from tests.replay.candles import random_walk

SETTINGS = ReplaySettings(
    symbols=("BTC",), interval="1h", slippage_pct=Decimal("0.05"), sz_decimals={"BTC": 3}
)
BARS = random_walk(100, seed=11)
# The program that reported 170 trades at 78 % wins: it read the next close.
CHEATER = """
class Strategy:
    def init(self, params):
        self.i = 0

    def should_trade(self, data):
        self.i += 1
        now = data.get_price("BTC")
        data.bar = self.i
        later = data.get_price("BTC")
        if later > now:
            return Decision("long", "BTC", size_pct=50)
        return Decision("close", "BTC")
"""


async def backtest(code: str, bars: Bars = BARS) -> tuple[str, object, list[str]]:
    outcome = await Sandbox().run_backtest(code, params={}, settings=SETTINGS, bars={"BTC": bars})
    return outcome.status, outcome.error if outcome.status != "ok" else outcome.result, outcome.logs


async def test_the_program_that_read_the_next_close_is_stopped_at_its_first_bar() -> None:
    status, error, _ = await backtest(CHEATER)
    assert status == "error"
    assert error == (
        "AttributeError (line 9): data is read-only: data.bar cannot be assigned "
        "at the decision of 2026-01-01T01:00:00Z"
    )


@pytest.mark.parametrize(
    ("statement", "member"),
    [
        ("data.bar = -1", "bar"),
        ("data.now = '2027-01-01T00:00:00Z'", "now"),
        ("data.get_price = data.get_indicator", "get_price"),
        ("data.symbols = ['ETH']", "symbols"),
        ("data.cursor = 5", "cursor"),
        ("del data.trigger", "trigger"),
    ],
)
async def test_assigning_to_data_is_refused_with_a_clear_error(statement: str, member: str) -> None:
    status, error, _ = await backtest(strategy(f"{statement}\nreturn None"))
    assert status == "error"
    assert isinstance(error, str) and "data is read-only: data." + member in error, error
    assert "at the decision of 2026-01-01T01:00:00Z" in str(error)


async def test_reading_a_member_data_does_not_have_says_so() -> None:
    status, error, _ = await backtest(strategy("data.bar += 1\nreturn None"))
    assert status == "error"
    assert "AttributeError (line 4): data has no member 'bar'" in str(error), error


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        ("return data._bar", "'_bar' is not allowed"),
        ("data._bar = 150", "'_bar' is not allowed"),
        ("return data._closes['BTC'][-1]", "'_closes' is not allowed"),
        ("return data._source.closes", "'_source' is not allowed"),
        ("return data.__dict__", "'__dict__' is not allowed"),
        ("return data.__class__.__slots__", "'__class__' is not allowed"),
        ("return data.get_price.__self__", "'__self__' is not allowed"),
        ("return data.get_price.__func__.__globals__", "'__func__' is not allowed"),
        ("return data.__setattr__('bar', 5)", "'__setattr__' is not allowed"),
        ("return vars(data)", "'vars' is not available"),
        ("return dir(data)", "'dir' is not available"),
        ("return getattr(data, '_bar')", "'getattr' is not available"),
        ("return type(data)", "'type' is not available"),
        ("return object.__setattr__(data, '_bar', 150)", "'object' is not available"),
        ("f = lambda: data\nreturn f.__closure__[0].cell_contents", "'__closure__' is not"),
        ("return '{0._bar}'.format(data)", "'format' is not allowed"),
    ],
)
async def test_private_members_and_introspection_are_refused_before_running(
    body: str, refusal: str
) -> None:
    status, error, logs = await backtest(strategy(body))
    assert status == "error"
    assert refusal in str(error), error
    assert logs == []


# Every public route, with odd arguments, a ``data`` held from an earlier bar, and answers
# mutated in place; one log line per bar of what they returned.
PROBE = """
class Strategy:
    def init(self, params):
        self.first = None

    def should_trade(self, data):
        if self.first is None:
            self.first = data
        rows = data.get_klines("BTC", "1h", 1000)
        few = data.get_klines("btc", "1h", 3)
        if rows:
            rows[-1]["close"] = -1.0
            rows.append({"close": 10**9})
        weird = [data.get_klines("BTC", "1h", n) for n in (-1, 0)]
        other = data.get_klines("BTC", "1m", 5)
        closes = [r["close"] for r in data.get_klines("BTC", "1h", 1000)]
        values = [data.get_indicator("BTC", n, p) for n, p in (
            ("sma", 20), ("ema", 50), ("rsi", 14), ("atr", 14), ("bb_upper", 20),
            ("price_change_pct", 24), ("macd", None), ("sma", 30), ("ema", 37),
            ("rsi", 2), ("atr", 45), ("bb_lower", 33), ("sma", 500), ("SMA", None))]
        regime = data.get_regime("BTC")
        positions = data.get_positions()
        balance = data.get_balance()
        if balance:
            balance["available"] = 10**12
        data.log(data.now, self.first.now, data.get_price("BTC"), data.get_price("btc"),
                 self.first.get_price("BTC"), len(closes), closes[-1], sum(closes),
                 few[-1]["time"], weird, other, values, regime and regime["regime"],
                 [(p["size"], p["unrealized_pnl"]) for p in positions.values()],
                 balance["total"], data.get_balance()["available"])
        if len(closes) % 7 == 0:
            return Decision("long", "BTC", size_pct=20, stop_loss_pct=1)
        if len(closes) % 11 == 0:
            return Decision("close", "BTC")
        return None
"""


async def test_what_a_program_reads_at_a_bar_never_depends_on_later_bars() -> None:
    cut = 50
    status, result, logs = await backtest(PROBE)
    assert status == "ok", result
    head = Bars(
        "BTC",
        *(list(getattr(BARS, name))[:cut] for name in ("times", "open", "high", "low")),
        list(BARS.close)[:cut],
        list(BARS.volume)[:cut],
    )
    short_status, _, short_logs = await backtest(PROBE, head)
    assert short_status == "ok"
    assert len(logs) == len(BARS) and len(short_logs) == cut
    # Bar by bar, the same values whether or not later candles exist.
    assert logs[:cut] == short_logs
    # And they are the bar's own: its close, and every close so far.
    closes = list(BARS.close)
    for i in (0, 20, cut - 1, len(BARS) - 1):
        fields = logs[i].split(" ", 8)
        assert fields[2] == fields[3] == fields[4] == repr(closes[i])
        assert fields[5] == str(i + 1) and fields[6] == repr(closes[i])
        assert fields[7] == repr(sum(closes[: i + 1]))
