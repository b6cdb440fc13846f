"""A seeded price path per asset that can be read at any time without replaying history.

Layers, coarse to fine, each drawn from its own counter-seeded stream so that any window
regenerates identically in any process:

* **episodes** of three days pick a regime: trending (drift up or down), ranging (quiet)
  or volatile (about twice the usual volatility);
* **daily anchors**: an AR(1) walk of the log price around the reference price (so the
  path wanders but never drifts off to zero or infinity), computed outward from the
  reference day and kept per instance;
* **minutes**: a Brownian bridge between two anchors with hourly volatility clusters,
  plus wicks and volumes that grow with the size of the move.

Candles of every interval are aggregated from the same minute candles, so a 1h candle is
exactly the union of its sixty 1m candles.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from hyperoru.market.providers.sim.assets import SimAsset

REFERENCE_DAY = 20_454  # 2026-01-01, in days since the Unix epoch
MINUTES_PER_DAY = 1440
EPISODE_DAYS = 3
_BLOCK = 256
_PHI = 0.995  # daily pull of the log price back toward the reference (half-life ≈ 140 days)
_REGIME_VOLATILITY = {"trending": 1.0, "ranging": 0.6, "volatile": 2.2}
_CACHED_DAYS = 64

# Stream purposes: one independent random stream per (purpose, index).
_EPISODE, _ANCHOR, _MINUTE, _DETAIL, _HOURLY, _BOOK = range(1, 7)


@dataclass(frozen=True, slots=True)
class MinuteBars:
    """OHLCV of every minute of one day, as float arrays of length 1440."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


class PricePath:
    """The market of one asset under one seed. Every public method is a pure function of
    its arguments; the caches only avoid recomputation. Safe to call from several threads
    (candles are computed off the event loop): the caches fill under one lock."""

    def __init__(self, seed: int, asset: SimAsset) -> None:
        self.asset = asset
        self._seed = seed % 2**63
        self._key = zlib.crc32(asset.symbol.encode())
        self._forward: list[float] = [0.0]  # log offsets of days REFERENCE_DAY, +1, +2, …
        self._backward: list[float] = [0.0]  # days REFERENCE_DAY, −1, −2, …
        self._blocks: dict[int, np.ndarray] = {}
        self._episodes: dict[int, tuple[str, int]] = {}
        self._days: OrderedDict[int, MinuteBars] = OrderedDict()
        # Reentrant: a day's minutes read its anchors and regime, which fill caches too.
        self._lock = threading.RLock()

    def _rng(self, purpose: int, index: int) -> np.random.Generator:
        return np.random.default_rng([self._seed, self._key, purpose, index])

    # -- regimes and daily anchors ------------------------------------------------------

    def regime(self, day: int) -> tuple[str, int]:
        """(regime name, drift direction) of the episode that contains ``day``."""
        episode = day // EPISODE_DAYS
        with self._lock:
            known = self._episodes.get(episode)
            if known is None:
                draw, direction = self._rng(_EPISODE, episode).random(2)
                name = "trending" if draw < 0.4 else "ranging" if draw < 0.8 else "volatile"
                known = self._episodes[episode] = (name, 1 if direction < 0.5 else -1)
            return known

    def daily_sigma(self, day: int) -> float:
        return self.asset.daily_volatility * _REGIME_VOLATILITY[self.regime(day)[0]]

    def _drift(self, day: int) -> float:
        name, direction = self.regime(day)
        return direction * 0.5 * self.asset.daily_volatility if name == "trending" else 0.0

    def _shock(self, day: int) -> float:
        block = day // _BLOCK
        with self._lock:
            if block not in self._blocks:
                self._blocks[block] = self._rng(_ANCHOR, block).standard_normal(_BLOCK)
            return float(self._blocks[block][day % _BLOCK])

    def anchor(self, day: int) -> float:
        """Log price at the start of ``day`` relative to the reference price."""
        with self._lock:
            return self._anchor(day)

    def _anchor(self, day: int) -> float:
        if day >= REFERENCE_DAY:
            path, offset = self._forward, day - REFERENCE_DAY
            while len(path) <= offset:
                left = REFERENCE_DAY + len(path) - 1
                path.append(
                    _PHI * path[-1] + self._drift(left) + self.daily_sigma(left) * self._shock(left)
                )
            return path[offset]
        path, offset = self._backward, REFERENCE_DAY - day
        while len(path) <= offset:
            earlier = REFERENCE_DAY - len(path)
            # Walking back in time, the drift of the episode is undone.
            path.append(
                _PHI * path[-1]
                - self._drift(earlier)
                + self.daily_sigma(earlier) * self._shock(earlier)
            )
        return path[offset]

    # -- minutes --------------------------------------------------------------------------

    def _log_path(self, day: int) -> np.ndarray:
        """1441 log offsets: the start of every minute of ``day`` and of the next day."""
        rng = self._rng(_MINUTE, day)
        sigma = self.daily_sigma(day) / math.sqrt(MINUTES_PER_DAY)
        clusters = np.repeat(0.5 + rng.random(24), 60)
        steps = rng.standard_normal(MINUTES_PER_DAY) * sigma * clusters
        walk = np.concatenate(([0.0], np.cumsum(steps)))
        start, end = self.anchor(day), self.anchor(day + 1)
        fraction = np.arange(MINUTES_PER_DAY + 1) / MINUTES_PER_DAY
        return start + walk - fraction * (walk[-1] - (end - start))

    def minute_bars(self, day: int) -> MinuteBars:
        with self._lock:
            return self._minute_bars(day)

    def _minute_bars(self, day: int) -> MinuteBars:
        cached = self._days.get(day)
        if cached is not None:
            self._days.move_to_end(day)
            return cached
        prices = self.asset.reference_price * np.exp(self._log_path(day))
        opens, closes = prices[:-1], prices[1:]
        rng = self._rng(_DETAIL, day)
        sigma = self.daily_sigma(day) / math.sqrt(MINUTES_PER_DAY)
        upper = np.abs(rng.standard_normal(MINUTES_PER_DAY)) * sigma * 0.5
        lower = np.abs(rng.standard_normal(MINUTES_PER_DAY)) * sigma * 0.5
        move = np.abs(np.log(closes / opens)) / sigma
        volume = self.asset.minute_volume * rng.lognormal(0.0, 0.4, MINUTES_PER_DAY) * (1 + move)
        bars = MinuteBars(
            open=opens,
            high=np.maximum(opens, closes) * (1 + upper),
            low=np.minimum(opens, closes) * (1 - lower),
            close=closes,
            volume=volume,
        )
        self._days[day] = bars
        if len(self._days) > _CACHED_DAYS:
            self._days.popitem(last=False)
        return bars

    def price_at(self, seconds: float) -> float:
        """Mid price at a moment: log-linear between the minute points around it."""
        minute = math.floor(seconds / 60)
        day, index = divmod(minute, MINUTES_PER_DAY)
        bars = self.minute_bars(day)
        fraction = (seconds - minute * 60) / 60
        start, end = bars.open[index], bars.close[index]
        return float(start * (end / start) ** fraction)

    def bars(self, first_minute: int, stop_minute: int) -> MinuteBars:
        """Minute bars for minutes [first_minute, stop_minute), any number of days."""
        parts: list[MinuteBars] = []
        minute = first_minute
        while minute < stop_minute:
            day, index = divmod(minute, MINUTES_PER_DAY)
            take = min(MINUTES_PER_DAY - index, stop_minute - minute)
            whole = self.minute_bars(day)
            parts.append(
                MinuteBars(*(getattr(whole, f)[index : index + take] for f in MinuteBars.__slots__))
            )
            minute += take
        return MinuteBars(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in MinuteBars.__slots__)
        )

    # -- derived figures ------------------------------------------------------------------

    def _hourly_noise(self, hour: int) -> tuple[float, float]:
        first, second = self._rng(_HOURLY, hour).standard_normal(2)
        return float(first), float(second)

    def basis(self, seconds: float) -> float:
        """Relative gap between mark and mid: small and slowly varying."""
        phase = (self._key % 360) * math.pi / 180
        return 0.0003 * math.sin(2 * math.pi * seconds / 21_600 + phase)

    def funding_rate(self, hour: int) -> float:
        """Hourly rate: the 0.01%/8h interest, leaning with the last day's trend."""
        day = hour // 24
        trend = (self.anchor(day) - self.anchor(day - 1)) / self.asset.daily_volatility
        noise, _ = self._hourly_noise(hour)
        rate = 0.0000125 + 0.00004 * math.tanh(trend) + 0.00001 * noise
        return max(-0.04, min(0.04, rate))

    def open_interest(self, hour: int) -> float:
        phase = (self._key % 100) / 100 * 2 * math.pi
        _, noise = self._hourly_noise(hour)
        swing = 0.15 * math.sin(2 * math.pi * hour / 72 + phase) + 0.03 * noise
        return self.asset.open_interest * (1 + swing)

    def book_noise(self, second: int, levels: int) -> np.ndarray:
        return self._rng(_BOOK, second).random(2 * levels)
