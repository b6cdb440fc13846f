"""The whole factor catalogue on 8 symbols x one year of 1h candles, and its effectiveness
over that year, ours (numpy) next to pandas doing the same arithmetic.

    .venv/bin/python bench/factors_bench.py [--symbols 8] [--bars 8760] [--repeat 3]

Ours: ``hyperoru.factors`` evaluates the 64 built-in trees on (symbols, bars) matrices,
each distinct subtree once. pandas: the same trees walked with pandas operations on a
DataFrame per column (one column per symbol), the way a pandas user writes them
(``rolling``, ``ewm``, ``rolling.apply`` where pandas has no vectorised form). The
recursive averages use pandas' ``ewm`` (seeded from the first value, not an SMA), so
their values differ in the warm-up; the work is the same.

Effectiveness: ours is ``effectiveness.report`` per factor (IC and rank IC in both kinds,
history, windows, decay over 12 horizons); pandas computes the same IC and rank IC per day
and symbol (``groupby`` + ``corr``) and per bar across symbols (``corrwith`` on ranks),
plus the 12-horizon mean IC for the decay, on the first ``--compared-factors`` factors
(pandas' per-day correlations take seconds per factor); ours also on all 64. Best of
``--repeat`` (pandas' effectiveness: one run); prints Markdown.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from hyperoru.factors import effectiveness as eff
from hyperoru.factors.bars import Bars, bars_from_arrays
from hyperoru.factors.catalogue import builtin_trees
from hyperoru.factors.evaluate import Evaluator
from hyperoru.factors.language import Binary, Call, Negate, Node, Number, Series


def make_bars(symbols: int, bars: int, seed: int = 1) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (symbols, bars)), axis=1))
    open_ = close * np.exp(rng.normal(0, 0.002, (symbols, bars)))
    high = np.maximum(close, open_) * (1 + rng.uniform(0, 0.01, (symbols, bars)))
    low = np.minimum(close, open_) * (1 - rng.uniform(0, 0.01, (symbols, bars)))
    volume = rng.uniform(100, 1000, (symbols, bars))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return bars_from_arrays(
        [f"S{i}" for i in range(symbols)],
        [start + timedelta(hours=i) for i in range(bars)],
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
    )


# --- pandas, walking the same trees -----------------------------------------------------

Frame = pd.DataFrame


class PandasFrames:
    def __init__(self, bars: Bars) -> None:
        index = pd.DatetimeIndex(bars.times)

        def frame(values: np.ndarray) -> Frame:
            return pd.DataFrame(values.T, index=index, columns=list(bars.symbols))

        self.o, self.h, self.l, self.c, self.v = (
            frame(bars.open),
            frame(bars.high),
            frame(bars.low),
            frame(bars.close),
            frame(bars.volume),
        )
        self.returns = self.c.pct_change()
        self.memo: dict[Node, Frame] = {}

    def series(self, name: str) -> Frame:
        return {
            "open": self.o,
            "high": self.h,
            "low": self.l,
            "close": self.c,
            "volume": self.v,
            "returns": self.returns,
        }[name]

    def __call__(self, node: Node) -> Frame:
        if node not in self.memo:
            self.memo[node] = self._compute(node)
        return self.memo[node]

    def _compute(self, node: Node) -> Any:
        match node:
            case Number(value):
                return value
            case Series(name):
                return self.series(name)
            case Negate(operand):
                return -self(operand)
            case Binary(op, left, right):
                a, b = self(left), self(right)
                out = {"+": a + b, "-": a - b, "*": a * b}[op] if op != "/" else a / b
                return out.replace([np.inf, -np.inf], np.nan)
            case Call(function, inputs, params):
                args = [self(child) for child in inputs]
                return PANDAS[function](self, args, [int(p) if p == int(p) else p for p in params])
        raise AssertionError(node)


def _ewm_wilder(x: Frame, n: int) -> Frame:
    return x.ewm(alpha=1 / n, adjust=False).mean()


def _tr(f: PandasFrames) -> Frame:
    prev = f.c.shift(1)
    return pd.concat([f.h - f.l, (f.h - prev).abs(), (f.l - prev).abs()]).groupby(level=0).max()


def _rsi(x: Frame, n: int) -> Frame:
    change = x.diff()
    gain = _ewm_wilder(change.clip(lower=0), n)
    loss = _ewm_wilder((-change).clip(lower=0), n)
    return 100 * gain / (gain + loss)


def _macd(x: Frame, fast: int, slow: int, signal: int) -> tuple[Frame, Frame]:
    line = x.ewm(span=fast, adjust=False).mean() - x.ewm(span=slow, adjust=False).mean()
    return line, line.ewm(span=signal, adjust=False).mean()


def _adx(f: PandasFrames, n: int) -> Frame:
    up, down = f.h.diff(), -f.l.diff()
    plus = up.where((up > down) & (up > 0), 0.0)
    minus = down.where((down > up) & (down > 0), 0.0)
    tr = _ewm_wilder(_tr(f), n)
    pdi, mdi = 100 * _ewm_wilder(plus, n) / tr, 100 * _ewm_wilder(minus, n) / tr
    return _ewm_wilder(100 * (pdi - mdi).abs() / (pdi + mdi), n)


def _slope(x: Frame, n: int) -> Frame:
    steps = np.repeat(np.arange(len(x), dtype=float)[:, None], x.shape[1], axis=1)
    t = pd.DataFrame(steps, index=x.index, columns=x.columns)
    return x.rolling(n).cov(t) / t.rolling(n).var()


def _hurst(x: Frame, n: int) -> Frame:
    logs = [np.log((x - x.shift(k)).rolling(max(n - k, 2)).std()) for k in (1, 2, 4, 8)]
    ln_k = np.log([1.0, 2.0, 4.0, 8.0])
    centred = ln_k - ln_k.mean()
    mean = sum(logs) / 4
    return sum(w * (lg - mean) for w, lg in zip(centred, logs, strict=True)) / (centred**2).sum()


def _bands(x: Frame, n: int, k: float) -> tuple[Frame, Frame, Frame]:
    mid, sd = x.rolling(n).mean(), x.rolling(n).std(ddof=0)
    return mid + k * sd, mid, mid - k * sd


def _typical(f: PandasFrames) -> Frame:
    return (f.h + f.l + f.c) / 3


def _mfi(f: PandasFrames, n: int) -> Frame:
    tp = _typical(f)
    flow, change = tp * f.v, tp.diff()
    pos = flow.where(change > 0, 0.0).rolling(n).sum()
    neg = flow.where(change < 0, 0.0).rolling(n).sum()
    return 100 * pos / (pos + neg)


PandasFn = Callable[[PandasFrames, list[Any], list[Any]], Any]
PANDAS: dict[str, PandasFn] = {
    "abs": lambda f, a, p: a[0].abs(),
    "sign": lambda f, a, p: np.sign(a[0]),
    "log": lambda f, a, p: np.log(a[0].where(a[0] > 0)),
    "sqrt": lambda f, a, p: np.sqrt(a[0].where(a[0] >= 0)),
    "min": lambda f, a, p: a[0].clip(upper=a[1]) if np.isscalar(a[1]) else np.fmin(a[0], a[1]),
    "max": lambda f, a, p: a[0].clip(lower=a[1]) if np.isscalar(a[1]) else np.fmax(a[0], a[1]),
    "lag": lambda f, a, p: a[0].shift(p[0]),
    "delta": lambda f, a, p: a[0].diff(p[0]),
    "roc": lambda f, a, p: a[0] / a[0].shift(p[0]) - 1,
    "sma": lambda f, a, p: a[0].rolling(p[0]).mean(),
    "ema": lambda f, a, p: a[0].ewm(span=p[0], adjust=False).mean(),
    "std": lambda f, a, p: a[0].rolling(p[0]).std(),
    "sum": lambda f, a, p: a[0].rolling(p[0]).sum(),
    "highest": lambda f, a, p: a[0].rolling(p[0]).max(),
    "lowest": lambda f, a, p: a[0].rolling(p[0]).min(),
    "zscore": lambda f, a, p: (a[0] - a[0].rolling(p[0]).mean()) / a[0].rolling(p[0]).std(),
    "rank": lambda f, a, p: a[0].rolling(p[0]).rank(pct=True),
    "skew": lambda f, a, p: a[0].rolling(p[0]).skew(),
    "kurt": lambda f, a, p: a[0].rolling(p[0]).kurt(),
    "slope": lambda f, a, p: _slope(a[0], p[0]),
    "corr": lambda f, a, p: a[0].rolling(p[0]).corr(a[1]),
    "normalize": lambda f, a, p: (
        2
        * (a[0] - a[0].rolling(p[0]).min())
        / (a[0].rolling(p[0]).max() - a[0].rolling(p[0]).min())
        - 1
    ),
    "hurst": lambda f, a, p: _hurst(a[0], p[0]),
    "rsi": lambda f, a, p: _rsi(a[0], p[0]),
    "macd": lambda f, a, p: _macd(a[0], *p)[0],
    "macd_hist": lambda f, a, p: (lambda line, sig: line - sig)(*_macd(a[0], *p)),
    "atr": lambda f, a, p: _ewm_wilder(_tr(f), p[0]),
    "adx": lambda f, a, p: _adx(f, p[0]),
    "stoch_k": lambda f, a, p: (
        (
            100
            * (f.c - f.l.rolling(p[0]).min())
            / (f.h.rolling(p[0]).max() - f.l.rolling(p[0]).min())
        )
        .rolling(p[1])
        .mean()
    ),
    "williams_r": lambda f, a, p: (
        -100 * (f.h.rolling(p[0]).max() - f.c) / (f.h.rolling(p[0]).max() - f.l.rolling(p[0]).min())
    ),
    "cci": lambda f, a, p: (
        lambda tp: (
            (tp - tp.rolling(p[0]).mean())
            / (0.015 * tp.rolling(p[0]).apply(lambda w: np.abs(w - w.mean()).mean(), raw=True))
        )
    )(_typical(f)),
    "mfi": lambda f, a, p: _mfi(f, p[0]),
    "obv": lambda f, a, p: (np.sign(f.c.diff()).fillna(0) * f.v).cumsum(),
    "bbwidth": lambda f, a, p: (lambda u, m, lo: (u - lo) / m)(*_bands(a[0], p[0], p[1])),
    "bb_pos": lambda f, a, p: (lambda u, m, lo: (a[0] - lo) / (u - lo))(*_bands(a[0], p[0], p[1])),
    "vol": lambda f, a, p: f.returns.rolling(p[0]).std(),
    "gk_vol": lambda f, a, p: np.sqrt(
        (0.5 * np.log(f.h / f.l) ** 2 - (2 * math.log(2) - 1) * np.log(f.c / f.o) ** 2)
        .rolling(p[0])
        .mean()
    ),
    "parkinson": lambda f, a, p: np.sqrt(
        (np.log(f.h / f.l) ** 2).rolling(p[0]).mean() / (4 * math.log(2))
    ),
    "vwap": lambda f, a, p: (_typical(f) * f.v).rolling(p[0]).sum() / f.v.rolling(p[0]).sum(),
    "cmf": lambda f, a, p: (
        (((f.c - f.l) - (f.h - f.c)) / (f.h - f.l) * f.v).rolling(p[0]).sum()
        / f.v.rolling(p[0]).sum()
    ),
}


def pandas_catalogue(bars: Bars, trees: dict[str, Node]) -> dict[str, Frame]:
    frames = PandasFrames(bars)
    return {name: frames(tree) for name, tree in trees.items()}


def pandas_effectiveness(factor: Frame, close: Frame, horizons: int) -> dict[str, float]:
    forward = close.shift(-1) / close - 1
    day = factor.index.floor("D")
    ts_ic, ts_rank = [], []
    for symbol in factor.columns:
        pair = pd.DataFrame({"f": factor[symbol], "r": forward[symbol]})
        grouped = pair.groupby(day)
        ts_ic.append(grouped.apply(lambda g: g["f"].corr(g["r"])))
        ts_rank.append(grouped.apply(lambda g: g["f"].corr(g["r"], method="spearman")))
    cs_ic = factor.corrwith(forward, axis=1)
    cs_rank = factor.rank(axis=1).corrwith(forward.rank(axis=1), axis=1)
    decay = []
    for h in range(1, horizons + 1):
        fwd = close.shift(-h) / close - 1
        decay.append(factor.corrwith(fwd, axis=1).mean())
    return {
        "ic": float(pd.concat(ts_ic).mean()),
        "rank_ic": float(pd.concat(ts_rank).mean()),
        "cs_ic": float(cs_ic.mean()),
        "cs_rank_ic": float(cs_rank.mean()),
        "decay_1": float(decay[0]),
    }


# --- timing -------------------------------------------------------------------------------


def best(repeat: int, function: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--symbols", type=int, default=8)
    parser.add_argument("--bars", type=int, default=8760)
    parser.add_argument("--repeat", type=int, default=3)
    # pandas' per-day correlations take seconds per factor: compared on the first few.
    parser.add_argument("--compared-factors", type=int, default=8)
    args = parser.parse_args()
    # pandas' per-day Spearman warns on every constant day; the numbers are still right.
    warnings.filterwarnings("ignore")

    bars = make_bars(args.symbols, args.bars)
    trees = builtin_trees()
    rows = args.symbols * args.bars

    def ours() -> dict[str, np.ndarray]:
        run = Evaluator(bars)
        return {name: run(tree) for name, tree in trees.items()}

    ours_s, values = best(args.repeat, ours)
    pandas_s, frames = best(args.repeat, lambda: pandas_catalogue(bars, trees))

    # Where the arithmetic is the same (no recursive average inside), the values agree.
    exact = [
        n
        for n in (
            "realized_vol",
            "bb_width",
            "vol_regime",
            "garman_klass",
            "volume_zscore",
            "return_kurt",
            "percentile_rank",
            "price_volume_corr",
            "vwap_distance",
            "donchian_position",
            "linreg_trend",
            "trend_persistence",
        )
        if n in trees
    ]
    worst = max(
        float(
            np.nanmax(
                np.abs(values[n] - frames[n].to_numpy().T) / np.maximum(1e-12, np.abs(values[n]))
            )
        )
        for n in exact
    )

    settings = eff.Settings()
    seconds = eff.bar_seconds(bars.times)

    def our_effectiveness(names: list[str]) -> int:
        for name in names:
            eff.report(values[name], bars.close, seconds, bars.symbols, settings)
        return len(names)

    close = frames["realized_vol"].copy()
    close[:] = bars.close.T
    everything = list(trees)
    chosen = everything[: args.compared_factors]
    eff_all_s, _ = best(args.repeat, lambda: our_effectiveness(everything))
    eff_s, _ = best(args.repeat, lambda: our_effectiveness(chosen))
    pandas_eff_s, _ = best(
        1, lambda: [pandas_effectiveness(frames[n], close, settings.decay_horizons) for n in chosen]
    )

    load = os.getloadavg()
    print(
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
    )
    print(f"{args.symbols} symbols x {args.bars} bars = {rows:,} rows; best of {args.repeat}\n")
    print("| step | ours s | pandas s | ratio (ours / pandas) | ours rows/s |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| catalogue: {len(trees)} factors | {ours_s:.3f} | {pandas_s:.3f} | "
        f"{ours_s / pandas_s:.2f} | {rows * len(trees) / ours_s:,.0f} |"
    )
    print(
        f"| effectiveness: {len(chosen)} factors (both kinds, decay 1..{settings.decay_horizons}) "
        f"| {eff_s:.3f} | {pandas_eff_s:.3f} | {eff_s / pandas_eff_s:.2f} | "
        f"{rows * len(chosen) / eff_s:,.0f} |"
    )
    print(
        f"| effectiveness: all {len(everything)} factors | {eff_all_s:.3f} | | | "
        f"{rows * len(everything) / eff_all_s:,.0f} |"
    )
    print(
        f"\nlargest relative difference from pandas where the arithmetic is the same: {worst:.1e}"
    )


if __name__ == "__main__":
    main()
