"""``AsyncClient`` and ``Client``: one method per row of ``operations.OPERATIONS``, made
from the row, so both clients always offer the same routes with the same arguments."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Self

import httpx

from hyperoru.client.core import (
    DEFAULT_BASE_URL,
    Auth,
    RetryPolicy,
    finish,
    prepare,
    websocket_url,
)
from hyperoru.client.models import Backtest
from hyperoru.client.operations import BY_NAME, OPERATIONS, Operation
from hyperoru.client.stream import Stream


class _Base:
    """Token and settings both clients keep; ``__getattr__`` only tells type checkers
    that the generated methods exist."""

    def __init__(self, base_url: str, token: str | None, retry: RetryPolicy) -> None:
        self.base_url = base_url
        self.auth = Auth(token)
        self.retry = retry

    @property
    def token(self) -> str | None:
        return self.auth.token

    def stream(self, channels: Iterable[str] = (), **options: Any) -> Stream:
        """A WebSocket on ``/ws`` with this client's token, subscribed to ``channels``
        and subscribed again after every reconnect (use with ``async with``)."""
        return Stream(websocket_url(self.base_url), self.auth, channels, **options)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        raise AttributeError(f"{type(self).__name__} has no operation {name!r}")


class AsyncClient(_Base):
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str | None = None,
        *,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timeout: float = 30.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, token, retry)
        self._sleep = sleep
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def call(self, operation: str, /, *args: Any, **kwargs: Any) -> Any:
        """Run ``operation`` by name (see ``operations.OPERATIONS``)."""
        op = BY_NAME[operation]
        request = prepare(op, self.auth, args, kwargs)
        attempt = 1
        while True:
            response = await self._http.request(**request.as_httpx())
            delay = self.retry.delay(request, response, attempt)
            if delay is None:
                return finish(op, self.auth, response)
            await self._sleep(delay)
            attempt += 1

    async def wait_backtest(
        self, backtest_id: int, *, prompt: bool = False, interval: float = 1.0
    ) -> Backtest:
        """Poll a program (or ``prompt=True``: prompt) backtest until it has ended."""
        name = "get_prompt_backtest" if prompt else "get_backtest"
        while not (job := await self.call(name, backtest_id)).done:
            await self._sleep(interval)
        return job

    async def pages(
        self, operation: str, /, *args: Any, page_size: int = 100, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Every item of a list operation, fetched ``page_size`` at a time."""
        offset = 0
        while True:
            page = await self.call(operation, *args, limit=page_size, offset=offset, **kwargs)
            for item in page:
                yield item
            if not _more_pages(page, page_size):
                return
            offset += len(page)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Client(_Base):
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str | None = None,
        *,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, token, retry)
        self._sleep = sleep
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)

    def call(self, operation: str, /, *args: Any, **kwargs: Any) -> Any:
        """Run ``operation`` by name (see ``operations.OPERATIONS``)."""
        op = BY_NAME[operation]
        request = prepare(op, self.auth, args, kwargs)
        attempt = 1
        while True:
            response = self._http.request(**request.as_httpx())
            delay = self.retry.delay(request, response, attempt)
            if delay is None:
                return finish(op, self.auth, response)
            self._sleep(delay)
            attempt += 1

    def wait_backtest(
        self, backtest_id: int, *, prompt: bool = False, interval: float = 1.0
    ) -> Backtest:
        """Poll a program (or ``prompt=True``: prompt) backtest until it has ended."""
        name = "get_prompt_backtest" if prompt else "get_backtest"
        while not (job := self.call(name, backtest_id)).done:
            self._sleep(interval)
        return job

    def pages(
        self, operation: str, /, *args: Any, page_size: int = 100, **kwargs: Any
    ) -> Iterator[Any]:
        """Every item of a list operation, fetched ``page_size`` at a time."""
        offset = 0
        while True:
            page = self.call(operation, *args, limit=page_size, offset=offset, **kwargs)
            yield from page
            if not _more_pages(page, page_size):
                return
            offset += len(page)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _describe(op: Operation) -> str:
    args = ", ".join(op.path_params + op.body_args)
    also = "".join(f"\nAlso served at {op.method} {alias}." for alias in op.aliases)
    return f"{op.method} {op.path}({args}){also}"


def _async_method(op: Operation) -> Callable[..., Awaitable[Any]]:
    async def method(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
        return await self.call(op.name, *args, **kwargs)

    return method


def _sync_method(op: Operation) -> Callable[..., Any]:
    def method(self: Client, *args: Any, **kwargs: Any) -> Any:
        return self.call(op.name, *args, **kwargs)

    return method


for _op in OPERATIONS:
    for _cls, _make in ((AsyncClient, _async_method), (Client, _sync_method)):
        _method = _make(_op)
        _method.__name__ = _method.__qualname__ = _op.name
        _method.__doc__ = _describe(_op)
        setattr(_cls, _op.name, _method)


def _more_pages(page: list[Any], page_size: int) -> bool:
    """Whether a list route may have another page after ``page``.

    A route that answers more items than asked for ignores ``limit`` (and so, surely,
    ``offset``): it has given everything at once, and asking again would loop forever.
    """
    return len(page) == page_size
