"""The guarded client: the policy is applied when connecting, against real loopback
servers standing in for the operator's internal services."""

from __future__ import annotations

import httpx
import pytest

from hyperoru.net.client import (
    DestinationNotAllowed,
    ResponseTooLarge,
    UnsupportedContentEncoding,
    guarded_async_client,
)
from hyperoru.net.policy import AllowedHosts, OutboundGuard
from tests.net.fakes import TableResolver, loopback_http_server, plain_response


def _ok(_: bytes) -> bytes:
    return plain_response(b'{"ok": true}', headers="Content-Type: application/json\r\n")


async def test_loopback_canary_is_never_contacted() -> None:
    async with loopback_http_server(_ok) as canary:
        resolver = TableResolver(
            {"canary.test": ["127.0.0.1"], "rebind.test": ["1.1.1.1", "127.0.0.1"]}
        )
        async with guarded_async_client(OutboundGuard(AllowedHosts(), resolver)) as client:
            for url in (
                f"http://127.0.0.1:{canary.port}/",
                f"http://canary.test:{canary.port}/",
                f"http://rebind.test:{canary.port}/",
                f"http://[::ffff:127.0.0.1]:{canary.port}/",
                f"http://localhost:{canary.port}/",
            ):
                with pytest.raises(DestinationNotAllowed):
                    await client.get(url)
        assert canary.connections == 0


async def test_allowlisted_destination_is_reached_through_the_checked_address() -> None:
    async with loopback_http_server(_ok) as upstream:
        resolver = TableResolver({"llm.test": ["127.0.0.1"]})
        guard = OutboundGuard(AllowedHosts.parse([f"llm.test:{upstream.port}"]), resolver)
        async with guarded_async_client(guard) as client:
            response = await client.post(f"http://llm.test:{upstream.port}/v1/chat", json={})
        assert response.status_code == 200 and response.json() == {"ok": True}
        assert upstream.connections == 1
        assert resolver.lookups == ["llm.test"]  # one resolution for the one connection


async def test_redirects_are_returned_not_followed() -> None:
    async with loopback_http_server(_ok) as canary:
        location = f"http://127.0.0.1:{canary.port}/latest/meta-data/"

        def redirect(_: bytes) -> bytes:
            return plain_response(b"", status="302 Found", headers=f"Location: {location}\r\n")

        async with loopback_http_server(redirect) as upstream:
            guard = OutboundGuard(
                AllowedHosts.parse([f"127.0.0.1:{upstream.port}"]), TableResolver()
            )
            async with guarded_async_client(guard) as client:
                response = await client.get(f"http://127.0.0.1:{upstream.port}/v1")
        assert response.status_code == 302
        assert canary.connections == 0


async def test_proxy_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    async with loopback_http_server(_ok) as proxy, loopback_http_server(_ok) as upstream:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        guard = OutboundGuard(AllowedHosts.parse([f"127.0.0.1:{upstream.port}"]), TableResolver())
        async with guarded_async_client(guard) as client:
            response = await client.get(f"http://127.0.0.1:{upstream.port}/")
        assert response.status_code == 200
        assert proxy.connections == 0 and upstream.connections == 1


async def test_oversized_and_compressed_answers_are_refused() -> None:
    big = b"x" * 5000

    def streamed(_: bytes) -> bytes:  # no Content-Length: the cap applies while reading
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big

    def declared(_: bytes) -> bytes:
        return plain_response(big)

    def gzipped(_: bytes) -> bytes:
        return plain_response(b"\x1f\x8b", headers="Content-Encoding: gzip\r\n")

    for respond, error in (
        (streamed, ResponseTooLarge),
        (declared, ResponseTooLarge),
        (gzipped, UnsupportedContentEncoding),
    ):
        async with loopback_http_server(respond) as upstream:
            guard = OutboundGuard(
                AllowedHosts.parse([f"127.0.0.1:{upstream.port}"]), TableResolver()
            )
            async with guarded_async_client(guard, max_response_bytes=1000) as client:
                with pytest.raises(error):
                    await client.get(f"http://127.0.0.1:{upstream.port}/")
    assert issubclass(ResponseTooLarge, httpx.TransportError)


async def test_requests_ask_for_identity_encoding() -> None:
    seen: list[bytes] = []

    def record(head: bytes) -> bytes:
        seen.append(head.lower())
        return _ok(head)

    async with loopback_http_server(record) as upstream:
        guard = OutboundGuard(AllowedHosts.parse([f"127.0.0.1:{upstream.port}"]), TableResolver())
        async with guarded_async_client(guard) as client:
            await client.get(f"http://127.0.0.1:{upstream.port}/")
    assert b"accept-encoding: identity" in seen[0]
