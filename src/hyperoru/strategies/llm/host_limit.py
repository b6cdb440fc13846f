"""At most N model calls in flight to one host, however many traders ask it.

The model client's connection pool is shared by every trader of the process and bounded
as a whole (``llm_max_connections``). Without a cap per host, one slow or overloaded
provider (a laptop's Ollama, a rate-limited endpoint) would take every connection of the
pool while it dawdles and stall the traders of every other provider; with it, its calls
queue among themselves (inside each call's own deadline) and the rest of the pool stays
free. A slot is held from the request until its response body is closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx


@dataclass(slots=True)
class _HostSlot:
    semaphore: asyncio.Semaphore
    users: int = 0


class _ReleasingStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class PerHostLimit(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, *, per_host: int) -> None:
        self._inner = inner
        self._per_host = per_host
        # Only hosts with calls in flight or queued have an entry.
        self._slots: dict[tuple[str, int | None], _HostSlot] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.host, request.url.port)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _HostSlot(asyncio.Semaphore(self._per_host))
        slot.users += 1

        def release() -> None:
            slot.semaphore.release()
            done()

        def done() -> None:
            slot.users -= 1
            if slot.users == 0:
                self._slots.pop(key, None)

        try:
            await slot.semaphore.acquire()
        except BaseException:
            done()
            raise
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, release),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
