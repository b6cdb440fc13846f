"""An httpx client for user-chosen destinations that enforces the policy at connect time.

The guard runs inside httpcore's network backend: the host is resolved once, every
answer is checked, and the socket goes to an address that was checked, so DNS
rebinding between "check" and "connect" cannot slip through. TLS still verifies the
certificate against the URL's host name. No redirects, no proxy from the environment,
no compressed bodies (their decoded size could not be bounded), a capped body size.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from functools import cache

import httpcore
import httpx

from hyperoru.net.policy import OutboundGuard, OutboundUrlRefused
from hyperoru.net.resolver import UnresolvableHost

log = logging.getLogger("hyperoru.net")

MAX_RESPONSE_BYTES = 2 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class _RefusedConnect(httpcore.ConnectError):
    """Raised inside httpcore; surfaces as ``DestinationNotAllowed``."""


class DestinationNotAllowed(httpx.ConnectError):
    """The destination failed the outbound policy; nothing was sent to it."""


class ResponseTooLarge(httpx.TransportError):
    """The upstream answered with more bytes than the client accepts."""


class UnsupportedContentEncoding(httpx.TransportError):
    """The upstream compressed its answer although identity was requested."""


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    def __init__(
        self, guard: OutboundGuard, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore backend interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._guard.addresses_for_connect(host, port)
        except OutboundUrlRefused as exc:
            raise _RefusedConnect(str(exc)) from exc
        except UnresolvableHost as exc:
            raise httpcore.ConnectError(f"could not resolve {host}") from exc
        failure: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address.compressed,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore backend interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise _RefusedConnect("unix sockets are never used for outbound calls")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int, request: httpx.Request) -> None:
        self._inner = inner
        self._limit = limit
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        async for chunk in self._inner:
            received += len(chunk)
            if received > self._limit:
                raise ResponseTooLarge(
                    f"response is larger than {self._limit} bytes", request=self._request
                )
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


@cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every guarded client of the process: loading the CA bundle
    took 25-140 ms per context, twice per client, at every app start-up."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(
        self, guard: OutboundGuard, *, max_response_bytes: int, limits: httpx.Limits | None = None
    ) -> None:
        super().__init__(verify=_tls_context(), trust_env=False, retries=0)
        limits = limits or httpx.Limits()
        # httpx offers no public way to choose the network backend, so the pool it built
        # is replaced by one that connects only through the guard (httpx is pinned; the
        # canary tests in tests/net fail if this stops taking effect).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_tls_context(),
            network_backend=GuardedNetworkBackend(guard),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        )
        self._max_response_bytes = max_response_bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.ConnectError as exc:
            if isinstance(exc.__cause__, _RefusedConnect):
                raise DestinationNotAllowed(str(exc), request=request) from None
            raise
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        declared = response.headers.get("content-length", "")
        if encoding not in ("", "identity"):
            await response.aclose()
            raise UnsupportedContentEncoding(f"upstream sent a {encoding!r} body", request=request)
        if declared.isdigit() and int(declared) > self._max_response_bytes:
            await response.aclose()
            raise ResponseTooLarge(
                f"response is larger than {self._max_response_bytes} bytes", request=request
            )
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, self._max_response_bytes, request),
            extensions=response.extensions,
        )


def guarded_async_client(
    guard: OutboundGuard,
    *,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    limits: httpx.Limits | None = None,
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
) -> httpx.AsyncClient:
    """A client for URLs chosen by users. 3xx answers come back as they are: callers
    treat them as upstream errors rather than following them."""
    transport: httpx.AsyncBaseTransport = GuardedTransport(
        guard, max_response_bytes=max_response_bytes, limits=limits
    )
    return httpx.AsyncClient(
        transport=wrap(transport) if wrap else transport,
        follow_redirects=False,
        trust_env=False,
        timeout=timeout,
        headers={"accept-encoding": "identity", **dict(headers or {})},
    )
