"""Name resolution behind a small interface, so tests can inject a fake DNS."""

from __future__ import annotations

import asyncio
import socket
from typing import Protocol

from hyperoru.net.addresses import IPAddress, parse_ip_literal


class UnresolvableHost(Exception):
    """The name has no address (or DNS is unreachable)."""


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to, in the order to try them; or UnresolvableHost."""
        ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo), run off the event loop."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        literal = parse_ip_literal(host)
        if literal is not None:
            return [literal]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:
            raise UnresolvableHost(host) from exc
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _canonname, sockaddr in infos:
            # getaddrinfo also turns numeric forms such as 2130706433 or 0x7f.1 into
            # addresses, so those are judged by what they really are.
            address = parse_ip_literal(str(sockaddr[0]))
            if address is not None and address not in addresses:
                addresses.append(address)
        if not addresses:
            raise UnresolvableHost(host)
        return addresses
