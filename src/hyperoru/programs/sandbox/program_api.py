"""What a program sees inside the sandbox: ``Decision``, the ``data`` object and the
restricted builtins. Everything here is built from the plain JSON the server sent, so
nothing a program reaches leads back to the server. Standard library only."""

from __future__ import annotations

import builtins
import contextlib
import datetime
import math
import statistics
from types import SimpleNamespace
from typing import Any

MAX_LOG_BYTES = 64 * 1024
# Indicators one live run may report missing (a program may ask for many in a loop).
MAX_WANTED = 32
DECISION_FIELDS = (
    "operation",
    "symbol",
    "leverage",
    "size_pct",
    "target_portion_of_balance",
    "take_profit_pct",
    "stop_loss_pct",
    "take_profit_price",
    "stop_loss_price",
    "max_price",
    "min_price",
    "reasoning",
    "reason",
)
_SETTABLE_FIELDS = frozenset(DECISION_FIELDS[2:])


class Decision:
    """A program's decision: the fields of the LLM decision JSON (contract §10)."""

    # Class-level defaults: a backtest builds one Decision per bar, so only the fields
    # given are set on the instance.
    leverage = size_pct = target_portion_of_balance = None
    take_profit_pct = stop_loss_pct = take_profit_price = stop_loss_price = None
    max_price = min_price = reasoning = reason = None

    def __init__(self, operation: str = "hold", symbol: str | None = None, **fields: Any) -> None:
        self.operation = operation
        self.symbol = symbol
        if fields:
            unknown = sorted(set(fields) - _SETTABLE_FIELDS)
            if unknown:
                raise TypeError(f"Decision has no field {unknown[0]!r}")
            for name, value in fields.items():
                setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in DECISION_FIELDS}
        return {k: v for k, v in values.items() if v is not None}


class ProgramLog:
    """Lines a program logs, capped so a print flood cannot grow the answer."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._bytes = 0
        self.truncated = False

    def write(self, *parts: Any) -> None:
        if self.truncated:
            return
        line = " ".join(str(p) for p in parts)
        size = len(line.encode("utf-8", "replace")) + 1
        if self._bytes + size > MAX_LOG_BYTES:
            self.truncated = True
            self.lines.append("[log truncated]")
            return
        self._bytes += size
        self.lines.append(line)


class ReadOnly:
    """``data`` can be read, never written: a program that assigns to it (``data.bar =
    i + 1``, say) fails with this error instead of moving what it reads. The sandbox sets
    the members itself through ``_init``/the slot descriptors, not through assignment."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"data is read-only: data.{name} cannot be assigned")

    def __getattr__(self, name: str) -> Any:
        # Only reached when ``name`` is none of data's members.
        raise AttributeError(f"data has no member {name!r} (guide.md lists them)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"data is read-only: data.{name} cannot be deleted")


_init = object.__setattr__


class MarketData(ReadOnly):
    """The ``data`` argument of ``should_trade`` (documented in guide.md)."""

    __slots__ = (
        "_log",
        "_payload",
        "_wanted",
        "default_leverage",
        "max_leverage",
        "now",
        "params",
        "symbols",
        "trigger",
        "trigger_symbol",
        "trigger_type",
    )

    _log: ProgramLog
    _payload: dict[str, Any]
    _wanted: list[list[Any]]
    default_leverage: Any
    max_leverage: Any
    now: Any
    params: Any
    symbols: list[str]
    trigger: Any
    trigger_symbol: str | None
    trigger_type: Any

    def __init__(self, payload: dict[str, Any], log: ProgramLog) -> None:
        symbols = list(payload.get("symbols", []))
        trigger = payload.get("trigger", {})
        _init(self, "_payload", payload)
        _init(self, "_log", log)
        _init(self, "_wanted", [])
        _init(self, "symbols", symbols)
        _init(self, "trigger", trigger)
        _init(self, "trigger_type", trigger.get("type"))
        _init(self, "trigger_symbol", symbols[0] if symbols else None)
        _init(self, "now", payload.get("now"))
        _init(self, "params", payload.get("params", {}))
        _init(self, "max_leverage", payload.get("max_leverage"))
        _init(self, "default_leverage", payload.get("default_leverage"))

    def get_price(self, symbol: str) -> float | None:
        return self._payload.get("prices", {}).get(str(symbol).upper())

    def get_klines(
        self, symbol: str, interval: str = "1h", limit: int = 100
    ) -> list[dict[str, Any]]:
        series = self._payload.get("klines", {}).get(str(symbol).upper(), {}).get(interval, [])
        count = int(limit)
        # As in a backtest: no candles for a limit of 0 or less (``[-0:]`` is all of them).
        rows = series[-count:] if count > 0 else []
        keys = ("time", "open", "high", "low", "close", "volume")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def get_indicator(self, symbol: str, name: str, period: int | None = None) -> Any:
        request = _resolve(name, period)
        key = str(symbol).upper()
        table = self._payload.get("indicators", {}).get(key)
        if table is None:
            return None  # not a symbol of this cycle, as for get_price
        label = _label(*request)
        if label in table:
            return table[label]
        # Not prepared for this cycle: noted, so that the server computes it and runs the
        # program again. This run goes on (its answer is dropped) to note the others too.
        wanted = [key, *request]
        if wanted not in self._wanted and len(self._wanted) < MAX_WANTED:
            self._wanted.append(wanted)
        return None

    def get_positions(self) -> dict[str, dict[str, Any]]:
        return {p["symbol"]: dict(p) for p in self._payload.get("positions", [])}

    def get_balance(self) -> dict[str, Any] | None:
        balance = self._payload.get("balance")
        return dict(balance) if balance is not None else None

    def get_regime(self, symbol: str) -> dict[str, Any] | None:
        regime = self._payload.get("regimes", {}).get(str(symbol).upper())
        return dict(regime) if regime is not None else None

    def get_factor(self, symbol: str, factor_name: str) -> float | None:
        """A factor's value at the last closed hourly candle: a built-in
        (docs/FACTORS.md) or one of the program owner's custom factors; None for an
        unknown name or symbol, or while the factor engine is off."""
        table = self._payload.get("factors", {}).get(str(symbol).upper(), {})
        value = table.get(str(factor_name))
        return None if value is None else float(value)

    def log(self, *parts: Any) -> None:
        self._log.write(*parts)


def wanted_indicators(data: MarketData) -> list[list[Any]]:
    """The ``[symbol, name, period]`` requests a live run found missing (for the runner:
    the program cannot hide them, whatever it does with the ``None`` it got)."""
    return list(data._wanted)


def _resolve(name: Any, period: Any) -> tuple[str, int | None]:
    """``indicator_catalog.resolve``: raises ``IndicatorRequestError`` (a ValueError)
    naming the indicator and the allowed periods. Imported here, not at the top: the
    sandboxes put the package on their path only after importing this module."""
    from hyperoru.market.indicator_catalog import resolve

    return resolve(name, period)


def _label(name: str, period: int | None) -> str:
    from hyperoru.market.indicator_catalog import label

    return label(name, period)


class _Unknown:
    """The series of a symbol without candles in the run: None at every bar."""

    __slots__ = ()

    def __getitem__(self, bar: int) -> None:
        return None


_UNKNOWN = _Unknown()


class BacktestData(ReadOnly):
    """``data`` in a backtest: the public members of ``MarketData``, read at the current
    bar of a replay through ``source`` (see ``backtest_runner``) instead of from one
    payload. Series are read by index, so a call costs the same on bar 10 as on bar
    500,000. The cursor is private and moved only by the runner (``move_to``); every
    member reads at it or before it, so nothing after the bar's close is reachable."""

    __slots__ = (
        "_account",
        "_account_bar",
        "_bar",
        "_closes",
        "_factors",
        "_log",
        "_series",
        "_source",
        "default_leverage",
        "max_leverage",
        "params",
        "symbols",
        "trigger",
        "trigger_symbol",
        "trigger_type",
    )

    _account: dict[str, Any]
    _account_bar: int
    _bar: int
    _closes: dict[str, list[float | None]]
    _factors: dict[Any, Any]
    _log: ProgramLog
    _series: dict[Any, Any]
    _source: Any
    default_leverage: int
    max_leverage: int
    params: dict[str, Any]
    symbols: list[str]
    trigger: dict[str, Any]
    trigger_symbol: str | None
    trigger_type: Any

    def __init__(
        self,
        source: Any,
        log: ProgramLog,
        *,
        symbols: list[str],
        params: dict[str, Any],
        max_leverage: int,
        default_leverage: int,
    ) -> None:
        _init(self, "_source", source)
        _init(self, "_log", log)
        _init(self, "_closes", source.closes)
        _init(self, "_series", {})
        _init(self, "_factors", {})
        _init(self, "_account", {})
        _init(self, "_account_bar", -1)
        _init(self, "_bar", 0)
        _init(self, "symbols", list(symbols))
        _init(self, "trigger", {"type": "scheduled", "signal_pool_id": None, "values": {}})
        _init(self, "trigger_type", "scheduled")
        _init(self, "trigger_symbol", self.symbols[0] if self.symbols else None)
        _init(self, "params", params)
        _init(self, "max_leverage", max_leverage)
        _init(self, "default_leverage", default_leverage)

    @property
    def now(self) -> str:
        return self._source.time(self._bar)

    def get_price(self, symbol: str) -> float | None:
        closes = self._closes.get(symbol) or self._closes.get(str(symbol).upper())
        return None if closes is None else closes[self._bar]

    def get_klines(
        self, symbol: str, interval: str = "1h", limit: int = 100
    ) -> list[dict[str, Any]]:
        return self._source.klines(str(symbol).upper(), str(interval), int(limit), self._bar)

    def get_indicator(self, symbol: str, name: str, period: int | None = None) -> Any:
        # Called on every bar, often twice: one lookup and one index when cached.
        try:
            series = self._series[symbol, name, period]
        except (KeyError, TypeError):
            series = self._first_read(symbol, name, period)
        else:
            # 30.0 == 30 finds 30's series: a period that is not an int is still refused.
            if period.__class__ is not int and period is not None:
                series = self._first_read(symbol, name, period)
        return series[self._bar]

    def _first_read(self, symbol: Any, name: Any, period: Any) -> Any:
        request = _resolve(name, period)
        series = self._source.indicator(str(symbol).upper(), *request)
        found = _UNKNOWN if series is None else series
        with contextlib.suppress(TypeError):  # an unhashable symbol is answered, not kept
            self._series[symbol, name, period] = found
        return found

    def _book(self) -> dict[str, Any]:
        if self._account_bar != self._bar:
            _init(self, "_account", {})
            _init(self, "_account_bar", self._bar)
        return self._account

    def get_positions(self) -> dict[str, dict[str, Any]]:
        book = self._book()
        if "positions" not in book:
            book["positions"] = self._source.positions(self._bar)
        return {p["symbol"]: dict(p) for p in book["positions"]}

    def get_balance(self) -> dict[str, Any] | None:
        book = self._book()
        if "balance" not in book:
            book["balance"] = self._source.balance(self._bar)
        return dict(book["balance"])

    def get_regime(self, symbol: str) -> dict[str, Any] | None:
        regime = self._source.regime(str(symbol).upper(), self._bar)
        return None if regime is None else dict(regime)

    def get_factor(self, symbol: str, factor_name: str) -> float | None:
        """The factor (a built-in or one of the owner's custom factors) computed on the
        backtest's own candles, at the current bar; None as in a live cycle (unknown
        name or symbol, no value yet, the factor engine off)."""
        try:
            series = self._factors[symbol, factor_name]
        except (KeyError, TypeError):
            found = self._source.factor(str(symbol).upper(), str(factor_name))
            series = _UNKNOWN if found is None else found
            with contextlib.suppress(TypeError):
                self._factors[symbol, factor_name] = series
        value = series[self._bar]
        return None if value is None else float(value)

    def log(self, *parts: Any) -> None:
        self._log.write(*parts)


def _writer(name: str) -> Any:
    """The runner's writer of one member: its C slot descriptor (no ``__setattr__``)."""
    return vars(BacktestData)[name].__set__


move_to = _writer("_bar")
set_trigger = _writer("trigger")
set_trigger_type = _writer("trigger_type")


def _public(module: Any, names: list[str] | None = None) -> SimpleNamespace:
    """A stand-in for a module holding only its public members (no ``sys`` and friends)."""
    chosen = names or [n for n in dir(module) if not n.startswith("_")]
    return SimpleNamespace(**{n: getattr(module, n) for n in chosen})


MODULES: dict[str, SimpleNamespace] = {
    "math": _public(math),
    "statistics": _public(
        statistics,
        [
            "mean",
            "fmean",
            "geometric_mean",
            "harmonic_mean",
            "median",
            "median_low",
            "median_high",
            "mode",
            "multimode",
            "pstdev",
            "pvariance",
            "stdev",
            "variance",
            "quantiles",
            "correlation",
            "covariance",
            "linear_regression",
            "StatisticsError",
        ],
    ),
    "datetime": _public(datetime, ["date", "datetime", "time", "timedelta", "timezone"]),
}

_SAFE_BUILTINS = (
    *("abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float"),
    *("frozenset", "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max"),
    *("min", "next", "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted"),
    *("str", "sum", "tuple", "zip", "ArithmeticError", "Exception", "IndexError", "KeyError"),
    *("LookupError", "OverflowError", "StopIteration", "TypeError", "ValueError"),
    "ZeroDivisionError",
)


def restricted_builtins(log: ProgramLog) -> dict[str, Any]:
    def import_allowed(name: str, *args: Any, **kwargs: Any) -> SimpleNamespace:
        if name not in MODULES:
            raise ImportError(f"import of {name!r} is not allowed")
        return MODULES[name]

    table = {name: getattr(builtins, name) for name in _SAFE_BUILTINS}
    table["__build_class__"] = builtins.__build_class__  # ``class Strategy:`` needs it
    table["__import__"] = import_allowed
    table["print"] = log.write
    return table
