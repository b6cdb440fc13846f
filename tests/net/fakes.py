"""Fakes of the outside world for outbound tests: a DNS that answers from a table, and
real HTTP servers on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from ipaddress import ip_address

from hyperoru.net.addresses import IPAddress, parse_ip_literal
from hyperoru.net.resolver import UnresolvableHost


@dataclass
class TableResolver:
    """Answers from a table; IP literals resolve to themselves. Counts every lookup."""

    table: dict[str, list[str]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.lookups.append(host)
        literal = parse_ip_literal(host)
        if literal is not None:
            return [literal]
        if host not in self.table:
            raise UnresolvableHost(host)
        return [ip_address(a) for a in self.table[host]]


@dataclass
class LoopbackServer:
    port: int
    connections: int = 0


Responder = Callable[[bytes], bytes]


def plain_response(body: bytes, status: str = "200 OK", headers: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n{headers}\r\n"
    ).encode() + body


@asynccontextmanager
async def loopback_http_server(respond: Responder) -> AsyncIterator[LoopbackServer]:
    """A minimal HTTP/1.1 server on 127.0.0.1 that counts the connections it gets."""
    state = LoopbackServer(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            writer.write(respond(head))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()
