"""The backtest sandbox process: ``python -I -S -B backtest_runner.py LIMITS_JSON``.

One process runs a whole backtest, so the user's code is never called across a process
boundary per bar. Like ``runner``, it limits itself before reading anything, then reads
one request on stdin: a line of JSON (``code``, ``params``, ``settings``
(``ReplaySettings`` plain), ``bars`` (the header of ``replay.bars.to_wire``),
``package_root`` (the directory holding the ``hyperoru`` package: the replay and the
engine are pure Python), ``numpy_root`` and ``python`` (where numpy lives and for which
interpreter version, for indicators)), then the bars' binary block. It writes
``progress <fraction>`` lines on stderr while it runs and one JSON answer on stdout:
``{"status": "ok"|"error", "result": ReplayResult plain, "logs", "error"}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

MAX_REQUEST_BYTES = 1024 * 1024 * 1024
MAX_KLINES = 1000


class ProgramFailed(Exception):
    """The user's code raised (or returned something unusable) on one bar."""


class BarSource:
    """What ``program_api.BacktestData`` reads: the replay's columns and account, and
    indicator series computed once for the whole run."""

    def __init__(self, replay: Any, numpy_root: str | None) -> None:
        from hyperoru.replay.prices import iso

        self._replay = replay
        self._iso = iso
        self._times = replay.times
        self._interval = replay.settings.interval
        self._numpy_root = numpy_root
        self._book: Any = None
        self._factors: dict[tuple[str, str], Any] = {}
        self.closes = {s: replay.column(s).close for s in replay.symbols}

    def time(self, i: int) -> str:
        return self._replay.decision_time(i)

    def klines(self, symbol: str, interval: str, limit: int, i: int) -> list[dict[str, Any]]:
        if interval != self._interval or symbol not in self.closes or limit <= 0:
            return []
        column = self._replay.column(symbol)
        rows = []
        for k in range(max(0, i + 1 - min(limit, MAX_KLINES)), i + 1):
            if column.close[k] is None:
                continue
            rows.append(
                {
                    "time": self._iso(self._times[k]),
                    "open": column.open[k],
                    "high": column.high[k],
                    "low": column.low[k],
                    "close": column.close[k],
                    "volume": column.volume[k],
                }
            )
        return rows

    def _series(self) -> Any:
        if self._book is None:
            if self._numpy_root is None:
                raise RuntimeError("indicators are not available in this sandbox")
            sys.path.append(self._numpy_root)
            from hyperoru.replay.series import SeriesBook

            columns = {}
            for s in self._replay.symbols:
                column = self._replay.column(s)
                columns[s] = (column.close, column.high, column.low)
            self._book = SeriesBook(columns)
        return self._book

    def indicator(self, symbol: str, name: str, period: int | None) -> Any:
        return self._series().indicator(symbol, name, period)

    def regime(self, symbol: str, i: int) -> Any:
        return self._series().regime(symbol, i)

    def factor(self, symbol: str, name: str) -> Any:
        """A factor's whole series on the replay's own candles (None at a bar without a
        value), or None: an unknown name or symbol, or the factor engine off. Every
        factor function is causal, so the value at bar ``i`` reads bars ``0..i`` only."""
        key = (symbol, name)
        if key not in self._factors:
            self._factors[key] = self._factor_series(symbol, name)
        return self._factors[key]

    def _factor_series(self, symbol: str, name: str) -> Any:
        custom = self._replay.settings.factors
        if custom is None or symbol not in self.closes:
            return None
        self._series()  # numpy on the path
        from hyperoru.factors.lines import expression_line, expression_of
        from hyperoru.replay.series import as_values

        expression = expression_of(name, custom)
        if expression is None:
            return None
        column = self._replay.column(symbol)
        return as_values(
            expression_line(
                expression,
                open=column.open,
                high=column.high,
                low=column.low,
                close=column.close,
                volume=column.volume,
            )
        )

    def positions(self, i: int) -> list[dict[str, Any]]:
        return self._replay.positions_view(i)

    def balance(self, i: int) -> dict[str, Any]:
        return self._replay.balance_view(i)


def _progress(fraction: float) -> None:
    sys.stderr.write(f"progress {fraction:.4f}\n")
    sys.stderr.flush()


def read_request(raw: bytes) -> dict[str, Any]:
    """The JSON line, with the binary block after it as ``bars_block``."""
    cut = raw.index(b"\n")
    request: dict[str, Any] = json.loads(raw[:cut])
    request["bars_block"] = memoryview(raw)[cut + 1 :]
    return request


def _run(request: dict[str, Any]) -> dict[str, Any]:
    if TYPE_CHECKING:
        from hyperoru.programs.sandbox import policy, program_api, runner
    else:
        # The sandbox runs this file as a script: its siblings are top-level modules there.
        import policy
        import program_api
        import runner

    from hyperoru.replay.bars import from_wire
    from hyperoru.replay.decisions import read_decisions
    from hyperoru.replay.driver import Replay, run_loop
    from hyperoru.replay.settings import ReplaySettings
    from hyperoru.strategies.decision import DecisionParseError

    log = program_api.ProgramLog()
    tree, errors = policy.parse_program(request["code"])
    if errors or tree is None:
        return {"status": "error", "error": "; ".join(e.message for e in errors), "logs": []}
    settings = ReplaySettings.from_plain(request["settings"])
    replay = Replay(settings, from_wire(request["bars"], request.pop("bars_block")))
    numpy_root = request.get("numpy_root")
    if list(sys.version_info[:2]) != list(request.get("python") or []):
        numpy_root = None  # compiled for another interpreter: it would not load
    source = BarSource(replay, numpy_root)
    params = dict(request.get("params") or {})
    data = program_api.BacktestData(
        source,
        log,
        symbols=list(settings.symbols),
        params=params,
        max_leverage=settings.max_leverage,
        default_leverage=settings.default_leverage,
    )
    namespace: dict[str, Any] = {
        "__builtins__": program_api.restricted_builtins(log),
        "__name__": "program",
        "Decision": program_api.Decision,
    }
    decision_type = program_api.Decision
    try:
        exec(compile(tree, "<program>", "exec"), namespace)  # noqa: S102 - the sandbox's job
        strategy = namespace["Strategy"]()
        if callable(getattr(strategy, "init", None)):
            strategy.init(dict(params))
    except BaseException as exc:
        return {"status": "error", "error": _failure(exc, None), "logs": log.lines}
    should_trade = strategy.should_trade
    move_to = program_api.move_to
    nothing: tuple[Any, ...] = ()

    def decided(i: int, value: Any) -> Sequence[Any]:
        """A program's answer other than None, as decisions (the rarer path)."""
        # The common answer, "nothing to do", skips the decision pipeline.
        if type(value) is decision_type and value.operation == "hold":
            return nothing
        try:
            result = runner.decision_result(value, decision_type)
        except BaseException as exc:
            raise ProgramFailed(_failure(exc, source.time(i))) from None
        try:
            return read_decisions(result)
        except DecisionParseError as exc:
            # As a live cycle: an unusable answer trades nothing and is recorded.
            replay.refuse(i, str(exc))
            return nothing

    def decide(i: int, view: Any) -> Sequence[Any]:
        # Every bar goes through here: keep it to moving the cursor and one call.
        move_to(data, i)
        try:
            value = should_trade(data)
        except BaseException as exc:
            raise ProgramFailed(_failure(exc, source.time(i))) from None
        return nothing if value is None else decided(i, value)

    def decide_on_signals(i: int, view: Any) -> Sequence[Any]:
        # A fresh copy each time: what one call does to it never reaches the next.
        trigger = json.loads(json.dumps(replay.trigger_at(i)))
        program_api.set_trigger(data, trigger)
        program_api.set_trigger_type(data, trigger["type"])
        return decide(i, view)

    started, cpu = time.perf_counter(), time.process_time()
    try:
        outcome = run_loop(
            replay,
            decide_on_signals if settings.signal_triggers else decide,
            on_progress=_progress,
        )
    except ProgramFailed as failed:
        return {"status": "error", "error": str(failed), "logs": log.lines}
    # Beside the result, not in it: the result must be identical on every rerun.
    timing = {
        "loop_seconds": time.perf_counter() - started,
        "loop_cpu_seconds": time.process_time() - cpu,
    }
    return {"status": "ok", "result": outcome.to_plain(), "logs": log.lines, "timing": timing}


def _failure(exc: BaseException, time: str | None) -> str:
    if TYPE_CHECKING:
        from hyperoru.programs.sandbox import runner
    else:
        import runner

    if isinstance(exc, MemoryError):
        what = "memory limit exceeded"
    elif isinstance(exc, RecursionError):
        what = "maximum recursion depth exceeded"
    else:
        line = runner.program_line(exc)
        where = f" (line {line})" if line else ""
        what = f"{type(exc).__name__}{where}: {str(exc)[:500]}"
    return what if time is None else f"{what} at the decision of {time}"


def _run_with_package(request: dict[str, Any]) -> dict[str, Any]:
    sys.path.append(request["package_root"])
    return _run(request)


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    if TYPE_CHECKING:
        from hyperoru.programs.sandbox import runner
    else:
        import runner

    runner.limit_self(json.loads(sys.argv[1]))
    # Stray writes go to stderr, where only "progress" lines are read.
    runner.answer_one_request(_run_with_package, MAX_REQUEST_BYTES, read_request)


if __name__ == "__main__":
    main()
