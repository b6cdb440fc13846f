"""The in-memory price cache and the background task that keeps it fresh.

Requests read the cache and never wait on the venue for a symbol it already holds.
When a refresh fails the last prices stay in place, flagged stale, and the failure is
logged once (and its end once), however many requests arrive meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from hyperoru.market.providers.base import (
    AssetMeta,
    MarketDataProvider,
    MarketDataUnavailable,
    ProviderError,
    Ticker,
    UnknownSymbol,
)

log = logging.getLogger("hyperoru.market.prices")

MarketStatus = Literal["ok", "stale", "error"]
_ASSET_REFRESH_SECONDS = 300.0
# On-demand lookups add symbols to the refresh set up to this many; beyond it they are
# fetched once and then age (a bound on upstream weight, whatever clients ask for).
MAX_TRACKED_SYMBOLS = 64


@dataclass(frozen=True, slots=True)
class CachedPrice:
    ticker: Ticker
    source: str
    stale: bool


class PriceCache:
    def __init__(
        self,
        provider: MarketDataProvider,
        *,
        symbols: Iterable[str],
        refresh_seconds: float,
        max_tracked: int = MAX_TRACKED_SYMBOLS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._refresh_seconds = refresh_seconds
        # A price older than a few missed refreshes is stale even if no refresh failed.
        self._stale_after = max(3 * refresh_seconds, refresh_seconds + 5.0)
        self._clock = clock
        self._max_tracked = max_tracked
        self._tracked: list[str] = list(dict.fromkeys(s.upper() for s in symbols))
        self._tickers: dict[str, Ticker] = {}
        self._fetched_at: dict[str, float] = {}
        self._assets: dict[str, AssetMeta] | None = None
        self._assets_at = 0.0
        self._failing = False
        self._lookup_lock = asyncio.Lock()
        # Background fetches of symbols beyond the refresh cap (kept so they are not lost).
        self._refetching: dict[str, asyncio.Task[None]] = {}

    # -- reading (never waits on the venue for a cached symbol) -------------------------

    def status(self) -> MarketStatus:
        if not self._tickers:
            return "error"
        # Symbols beyond the refresh cap age by design; only the tracked ones count here.
        tracked = (s for s in self._tracked if s in self._tickers)
        if self._failing or any(self._is_old(s) for s in tracked):
            return "stale"
        return "ok"

    def _is_old(self, symbol: str) -> bool:
        return self._clock() - self._fetched_at.get(symbol, float("-inf")) > self._stale_after

    def cached(self, symbol: str) -> CachedPrice | None:
        ticker = self._tickers.get(symbol)
        if ticker is None:
            return None
        stale = self._failing or self._is_old(symbol)
        return CachedPrice(ticker, self._provider.name, stale)

    @property
    def tracked(self) -> Sequence[str]:
        return tuple(self._tracked)

    async def assets(self) -> dict[str, AssetMeta]:
        """Asset metadata; loaded once if the background task has not done it yet."""
        if self._assets is None:
            await self._load_assets()
        assert self._assets is not None
        return self._assets

    async def asset(self, symbol: str) -> AssetMeta:
        known = await self.assets()
        if symbol not in known:
            raise UnknownSymbol(symbol)
        return known[symbol]

    async def price(self, symbol: str) -> CachedPrice:
        """The cached price, or (for a known symbol not cached yet) one fetch.

        A cached price is answered at once, stale or not; a symbol beyond the refresh cap
        whose price got old is fetched again in the background for the next request."""
        cached = self.cached(symbol)
        if cached is not None:
            if symbol not in self._tracked and self._is_old(symbol):
                self._refetch_later(symbol)
            return cached
        await self.asset(symbol)
        async with self._lookup_lock:
            if symbol not in self._tickers:
                if len(self._tracked) < self._max_tracked and symbol not in self._tracked:
                    self._tracked.append(symbol)
                self._store(await self._provider.tickers([symbol]))
        cached = self.cached(symbol)
        if cached is None:
            raise MarketDataUnavailable(f"no price for {symbol} from {self._provider.name}")
        return cached

    def _refetch_later(self, symbol: str) -> None:
        if symbol in self._refetching:
            return

        async def refetch() -> None:
            try:
                self._store(await self._provider.tickers([symbol]))
            except Exception as exc:  # the next request asks again; nothing to report to
                log.debug(
                    "on-demand price fetch failed", extra={"symbol": symbol, "error": str(exc)}
                )
            finally:
                self._refetching.pop(symbol, None)

        self._refetching[symbol] = asyncio.create_task(refetch(), name=f"price-{symbol}")

    # -- refreshing -------------------------------------------------------------------

    async def _load_assets(self) -> None:
        assets = await self._provider.assets()
        self._assets = {asset.symbol: asset for asset in assets}
        self._assets_at = self._clock()

    def _store(self, tickers: Mapping[str, Ticker]) -> None:
        now = self._clock()
        for symbol, ticker in tickers.items():
            self._tickers[symbol] = ticker
            self._fetched_at[symbol] = now

    async def refresh(self) -> bool:
        """One refresh of assets (now and then) and tracked prices. True on success."""
        try:
            if self._assets is None or self._clock() - self._assets_at > _ASSET_REFRESH_SECONDS:
                await self._load_assets()
            self._store(await self._provider.tickers(self._tracked))
        except ProviderError as exc:
            if not self._failing:
                log.warning(
                    "market data refresh failed; serving the last prices as stale",
                    extra={"source": self._provider.name, "error": str(exc)},
                )
            self._failing = True
            return False
        if self._failing:
            log.info("market data refresh recovered", extra={"source": self._provider.name})
        self._failing = False
        return True

    async def run(self) -> None:
        """Refresh forever, every ``refresh_seconds`` (the background task's body)."""
        while True:
            started = self._clock()
            try:
                await self.refresh()
            except Exception:
                # A bug in a provider must not kill the feed for good.
                log.exception("market data refresh crashed")
                self._failing = True
            elapsed = self._clock() - started
            await asyncio.sleep(max(0.0, self._refresh_seconds - elapsed))
