"""Outbound HTTP to a venue: a weight budget, back-off on 429/418, errors made clean.

Both venues count request *weight* per minute per IP and punish overuse (Hyperliquid
answers 429; Binance answers 429 and then bans the IP with 418). We keep our own count
so we never reach their limit, and after a 429/418 we stop calling until the back-off
has passed: every call in that time fails fast instead of deepening the penalty.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from hyperoru.market.providers.base import MarketDataUnavailable, UpstreamError

MINUTE = 60.0
_MAX_429_BACKOFF = 60.0
_DEFAULT_BAN_SECONDS = 120.0


class VenueRejected(UpstreamError):
    """A 4xx other than a rate limit: the venue refused this request."""

    def __init__(self, venue: str, status: int, body: Any) -> None:
        super().__init__(f"{venue} refused the request (HTTP {status})")
        self.status = status
        self.body = body


class WeightLimiter:
    """A sliding one-minute window of spent weight, plus a "blocked until" after a penalty."""

    def __init__(
        self, capacity: int, *, window: float = MINUTE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        self._window = window
        self._clock = clock
        self._spent: deque[tuple[float, int]] = deque()
        self._used = 0
        self._blocked_until = 0.0
        self._strikes = 0
        self._lock = asyncio.Lock()

    @property
    def used(self) -> int:
        self._expire(self._clock())
        return self._used

    def blocked_for(self) -> float:
        return max(0.0, self._blocked_until - self._clock())

    def _expire(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - self._window:
            self._used -= self._spent.popleft()[1]

    async def acquire(self, weight: int, *, max_wait: float) -> None:
        """Spend ``weight``, waiting at most ``max_wait`` seconds for room in the window."""
        weight = min(weight, self.capacity)
        async with self._lock:
            while True:
                now = self._clock()
                blocked = self._blocked_until - now
                if blocked > 0:
                    raise MarketDataUnavailable(
                        "upstream rate limit: backing off", retry_after=blocked
                    )
                self._expire(now)
                if self._used + weight <= self.capacity:
                    self._spent.append((now, weight))
                    self._used += weight
                    return
                wait = self._spent[0][0] + self._window - now
                if wait > max_wait:
                    raise MarketDataUnavailable(
                        "outbound request budget spent for this minute", retry_after=wait
                    )
                await asyncio.sleep(wait)

    def observe_used(self, used: int) -> None:
        """Adopt the venue's own count when it is higher (other clients on our IP)."""
        now = self._clock()
        self._expire(now)
        if used > self._used:
            self._spent.append((now, used - self._used))
            self._used = used

    def record(self, weight: int) -> None:
        """Count weight the venue charges after the fact (e.g. per item returned)."""
        if weight > 0:
            now = self._clock()
            self._spent.append((now, weight))
            self._used += weight

    def penalise(self, retry_after: float | None, *, ban: bool = False) -> float:
        """Block calls after a 429 (exponential) or a 418 ban (as long as the venue says)."""
        self._strikes += 1
        if retry_after is not None:
            pause = retry_after
        elif ban:
            pause = _DEFAULT_BAN_SECONDS
        else:
            pause = min(_MAX_429_BACKOFF, 2.0 ** (self._strikes - 1))
        self._blocked_until = max(self._blocked_until, self._clock() + pause)
        return pause

    def forgive(self) -> None:
        self._strikes = 0


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class VenueHttp:
    """JSON over HTTP to one venue. Every failure becomes a ``ProviderError``."""

    def __init__(
        self,
        *,
        venue: str,
        base_url: str,
        limiter: WeightLimiter,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        used_weight_header: str | None = None,
    ) -> None:
        self.venue = venue
        self.limiter = limiter
        self._used_weight_header = used_weight_header
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            # Exchange hosts are fixed by settings; proxy variables of the environment
            # must not silently reroute (or leak) our traffic.
            trust_env=False,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "hyperoru-market-data"},
        )
        # Waiting for budget longer than a request would wait for the venue is pointless.
        self._max_wait = timeout

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        weight: int,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Any:
        await self.limiter.acquire(weight, max_wait=self._max_wait)
        try:
            response = await self._client.request(method, path, params=params, json=json_body)
        except httpx.TimeoutException as exc:
            raise MarketDataUnavailable(f"{self.venue} did not answer in time") from exc
        except (httpx.RemoteProtocolError, httpx.DecodingError) as exc:
            raise UpstreamError(f"{self.venue} sent a broken or truncated answer") from exc
        except httpx.TransportError as exc:
            raise MarketDataUnavailable(f"{self.venue} is unreachable") from exc
        self._observe_weight(response)
        self._raise_for_status(response)
        self.limiter.forgive()
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UpstreamError(f"{self.venue} sent an answer that is not JSON") from exc

    def _observe_weight(self, response: httpx.Response) -> None:
        if self._used_weight_header is None:
            return
        value = response.headers.get(self._used_weight_header)
        if value is not None and value.isdigit():
            self.limiter.observe_used(int(value))

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (418, 429):
            pause = self.limiter.penalise(_retry_after(response.headers), ban=status == 418)
            what = "banned our address" if status == 418 else "rate limited us"
            raise MarketDataUnavailable(f"{self.venue} {what}", retry_after=pause)
        if status >= 500:
            raise MarketDataUnavailable(f"{self.venue} failed (HTTP {status})")
        try:
            body: Any = json.loads(response.content)
        except ValueError:
            body = response.text[:200]
        raise VenueRejected(self.venue, status, body)
