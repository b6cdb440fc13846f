"""Signed REST calls to Binance USDⓈ-M futures, and what their failures mean.

Three kinds of call, because a failure means something different for each:

- ``read``: nothing changes at the venue, so a dropped connection, a timeout or a 5xx is
  retried with back-off.
- ``write``: changes state but doing it twice is harmless (cancel, leverage, margin type,
  the countdown); retried like a read.
- ``order``: a new order. Once the request may have left, a timeout, a dropped
  connection, a 5xx (Binance's 503 "Unknown error…") or a garbled 2xx is
  ``UnknownOutcome``: the venue may hold the order, so the caller asks for it by client
  id and nothing here ever sends it again.

Rate limits (429, 418, -1003) are never retried here: calling again deepens the penalty
(Binance bans an IP that keeps calling after a 429). Until the ``Retry-After`` has passed,
every call fails at once without reaching the venue.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import httpx

from hyperoru.exchanges.binance.parsing import (
    TIMESTAMP_OUTSIDE_WINDOW,
    BinanceError,
    retry_after_seconds,
    venue_error,
)
from hyperoru.exchanges.binance.signing import (
    DEFAULT_RECV_WINDOW_MS,
    Params,
    ServerClock,
    encode,
    sign,
)
from hyperoru.exchanges.venue import UnknownOutcome, VenueError

CallKind = Literal["read", "write", "order"]
Auth = Literal["none", "key", "signed"]

DEFAULT_BACKOFF = (0.25, 1.0)
# When a rate-limit answer names no Retry-After: a minute for a 429, Binance's shortest
# ban for a 418.
_DEFAULT_PAUSE_MS = {429: 60_000, 418: 120_000}
# Codes that mean the backend may or may not have acted: "Unknown error", "Internal error;
# unable to process", an unexpected backend answer, and "timeout waiting for the backend;
# send status unknown". (-1008 "overloaded" is a refusal before anything was done.)
_OUTCOME_UNKNOWN_CODES = frozenset({-1000, -1001, -1006, -1007})


class _Retryable(Exception):
    """A failure that left the venue unchanged as far as a read or an idempotent write cares."""


class BinanceRest:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        api_secret: str,
        http: httpx.AsyncClient,
        clock: ServerClock,
        recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
        attempts: int = 3,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._secret = api_secret
        self._http = http
        self.clock = clock
        self._recv_window_ms = recv_window_ms
        self._attempts = max(1, attempts)
        self._backoff = tuple(backoff) or (0.0,)
        self._sleep = sleep
        self._sync_lock = asyncio.Lock()
        self._paused_until_ms = 0  # local clock

    async def call(
        self,
        method: str,
        path: str,
        params: Params = (),
        *,
        auth: Auth = "signed",
        kind: CallKind = "read",
        host: str | None = None,
    ) -> Any:
        """``host`` replaces the base URL for this call (the key-permission read lives on
        the spot host)."""
        paused_ms = self._paused_until_ms - self.clock.local_ms()
        if paused_ms > 0:
            raise VenueError(
                "VENUE_RATE_LIMITED",
                "binance rate limit: not calling until the venue's pause has passed",
                retry_after=paused_ms / 1000,
            )
        attempts = 1 if kind == "order" else self._attempts
        resynced = False
        attempt = 0
        while True:
            attempt += 1
            if auth == "signed" and not self.clock.synced:
                await self.sync_clock()
            try:
                return await self._send(method, path, params, auth=auth, kind=kind, host=host)
            except _Retryable as exc:
                if attempt >= attempts:
                    raise VenueError("VENUE_UNAVAILABLE", str(exc)) from exc
                await self._sleep(self._backoff[min(attempt, len(self._backoff)) - 1])
            except BinanceError as exc:
                if exc.venue_code != TIMESTAMP_OUTSIDE_WINDOW or auth != "signed" or resynced:
                    raise
                # -1021 is decided at the gateway from the timestamp alone, before the
                # request reaches the matching engine: the venue refused it outright and
                # holds nothing. Re-signing with a fresh timestamp after re-measuring the
                # clock is therefore safe even for a new order; it happens once per call.
                resynced = True
                await self.sync_clock(force=True)

    async def sync_clock(self, *, force: bool = False) -> None:
        async with self._sync_lock:
            if self.clock.synced and not force:
                return
            sent = self.clock.local_ms()
            data = await self.call("GET", "/fapi/v1/time", auth="none")
            self.clock.adopt(
                int(data["serverTime"]), sent_ms=sent, received_ms=self.clock.local_ms()
            )

    def _prepare(self, method: str, params: Params, auth: Auth) -> tuple[str, str, dict[str, str]]:
        headers: dict[str, str] = {}
        if auth != "none":
            headers["X-MBX-APIKEY"] = self._api_key
        in_body = method in ("POST", "PUT")
        if auth != "signed":
            query, body = ("", encode(params)) if in_body else (encode(params), "")
        else:
            signed = sign(
                self._secret,
                query=() if in_body else params,
                body=params if in_body else (),
                timestamp_ms=self.clock.now_ms(),
                recv_window_ms=self._recv_window_ms,
            )
            query, body = signed.query, signed.body
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return query, body, headers

    async def _send(
        self,
        method: str,
        path: str,
        params: Params,
        *,
        auth: Auth,
        kind: CallKind,
        host: str | None,
    ) -> Any:
        query, body, headers = self._prepare(method, params, auth)
        base = host.rstrip("/") if host else self._base_url
        url = f"{base}{path}" + (f"?{query}" if query else "")
        try:
            response = await self._http.request(
                method, url, content=body.encode() if body else None, headers=headers
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # No connection, so nothing was sent: a definite failure even for an order.
            if kind == "order":
                raise VenueError("VENUE_UNAVAILABLE", f"binance unreachable: {exc!r}") from exc
            raise _Retryable(f"binance unreachable: {exc!r}") from exc
        except httpx.TransportError as exc:
            if kind == "order":
                raise UnknownOutcome(f"binance {path}: no answer after sending ({exc!r})") from exc
            raise _Retryable(f"binance {path}: {exc!r}") from exc
        return self._read(response, path, kind)

    def _pause(self, status: int, retry_after: float | None) -> None:
        pause_ms = (
            int(retry_after * 1000)
            if retry_after is not None
            else _DEFAULT_PAUSE_MS.get(status, _DEFAULT_PAUSE_MS[429])
        )
        self._paused_until_ms = max(self._paused_until_ms, self.clock.local_ms() + pause_ms)

    def _read(self, response: httpx.Response, path: str, kind: CallKind) -> Any:
        status = response.status_code
        try:
            data = json.loads(response.content) if response.content else None
        except ValueError:
            data = None
        if status >= 500:
            message = data.get("msg") if isinstance(data, dict) else None
            text = f"binance {path}: HTTP {status} {message or ''}".rstrip()
            if kind == "order":
                raise UnknownOutcome(text)
            raise _Retryable(text)
        if status >= 400:
            error = venue_error(
                status, data, retry_after=retry_after_seconds(response.headers.get("retry-after"))
            )
            if kind == "order" and error.venue_code in _OUTCOME_UNKNOWN_CODES:
                raise UnknownOutcome(error.message)
            if error.code == "VENUE_RATE_LIMITED":
                self._pause(status, error.retry_after)
            raise error
        if data is None:
            text = f"binance {path}: HTTP {status} with a body that is not JSON"
            if kind == "order":
                raise UnknownOutcome(text)
            raise _Retryable(text)
        return data
