"""The outbound URL policy of contract §14: http(s) only, public addresses only, unless
the operator allowlisted the host (``HYPERORU_LLM_ALLOWED_HOSTS``).

The same ``OutboundGuard`` answers twice: when a URL is saved (an early, friendly 422)
and when a connection is made (the real control, see ``hyperoru.net.client``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from hyperoru.net.addresses import IPAddress, is_public_address, parse_ip_literal
from hyperoru.net.resolver import Resolver, UnresolvableHost

log = logging.getLogger("hyperoru.net")

MAX_URL_LENGTH = 2048
_SCHEMES = {"http": 80, "https": 443}
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$"
)


class OutboundUrlRefused(Exception):
    """A URL or destination the policy does not allow; the message is safe to show."""


def _canonical_host(host: str) -> str:
    literal = parse_ip_literal(host)
    return literal.compressed if literal is not None else host.lower()


def _is_local_name(host: str) -> bool:
    # RFC 6761: "localhost" and every name under it always mean this machine.
    return host == "localhost" or host.endswith(".localhost")


def _split_allowlist_entry(entry: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``v6``, ``[v6]`` or ``[v6]:port``."""
    host, port_text = entry, ""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
    if not host or (port_text and not port_text.isdigit()):
        raise ValueError(f"HYPERORU_LLM_ALLOWED_HOSTS entry {entry!r} is not host or host:port")
    return host, int(port_text) if port_text else None


@dataclass(frozen=True, slots=True)
class AllowedHosts:
    """Operator allowlist of ``host`` (any port) or ``host:port`` entries."""

    any_port: frozenset[str] = frozenset()
    with_port: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowedHosts:
        any_port: set[str] = set()
        with_port: set[tuple[str, int]] = set()
        for raw in entries:
            host, port = _split_allowlist_entry(raw.strip())
            if port is None:
                any_port.add(_canonical_host(host))
            else:
                with_port.add((_canonical_host(host), port))
        return cls(frozenset(any_port), frozenset(with_port))

    def permits(self, host: str, port: int) -> bool:
        canonical = _canonical_host(host)
        return canonical in self.any_port or (canonical, port) in self.with_port


@dataclass(frozen=True, slots=True)
class OutboundTarget:
    url: httpx.URL
    host: str
    port: int


def parse_outbound_url(raw: str) -> OutboundTarget:
    """Shape checks with the same parser the client uses; raises OutboundUrlRefused."""
    if len(raw) > MAX_URL_LENGTH:
        raise OutboundUrlRefused(f"URL is longer than {MAX_URL_LENGTH} characters")
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL:
        raise OutboundUrlRefused("URL is not valid") from None
    if url.scheme not in _SCHEMES:
        raise OutboundUrlRefused("URL must start with http:// or https://")
    if url.userinfo:
        raise OutboundUrlRefused("URL must not contain a user name or password")
    if url.fragment:
        raise OutboundUrlRefused("URL must not contain a fragment (#...)")
    host = url.raw_host.decode("ascii").lower()
    if not host:
        raise OutboundUrlRefused("URL has no host")
    if parse_ip_literal(host) is None and not _HOSTNAME.match(host):
        # Also refuses trailing dots ("localhost."), which would dodge the allowlist.
        raise OutboundUrlRefused("URL host is not a valid host name")
    return OutboundTarget(url=url, host=host, port=url.port or _SCHEMES[url.scheme])


@dataclass(frozen=True, slots=True)
class OutboundGuard:
    allowed: AllowedHosts
    resolver: Resolver

    def _refuse_unless_public(self, host: str, port: int, addresses: list[IPAddress]) -> None:
        blocked = [a for a in addresses if not is_public_address(a)]
        if blocked or _is_local_name(host):
            # The resolved addresses go to the log only: telling the client would make
            # this an oracle for the operator's internal DNS.
            log.warning(
                "outbound destination refused",
                extra={
                    "event": "ssrf_blocked",
                    "target": f"{host}:{port}",
                    "addresses": [a.compressed for a in blocked],
                },
            )
            raise OutboundUrlRefused(
                "URL points to a loopback, private, link-local or otherwise non-public "
                "address; the operator can allow it in HYPERORU_LLM_ALLOWED_HOSTS"
            )

    async def check_url(self, raw: str) -> OutboundTarget:
        """Save-time check: refuse what is certainly not allowed.

        A name that does not resolve now is accepted: DNS may be down or the name may be
        created later, and every connection is checked again when it is made.
        """
        target = parse_outbound_url(raw)
        if self.allowed.permits(target.host, target.port):
            return target
        self._refuse_unless_public(target.host, target.port, [])
        try:
            addresses = await self.resolver.resolve(target.host, target.port)
        except UnresolvableHost:
            return target
        self._refuse_unless_public(target.host, target.port, addresses)
        return target

    async def addresses_for_connect(self, host: str, port: int) -> list[IPAddress]:
        """Connect-time check: resolve once, refuse unless every answer is allowed, and
        return the checked addresses so the caller connects to exactly those.

        Raises OutboundUrlRefused or UnresolvableHost.
        """
        host = host.lower()
        allowed = self.allowed.permits(host, port)
        if not allowed:
            self._refuse_unless_public(host, port, [])
        addresses = await self.resolver.resolve(host, port)
        if not allowed:
            self._refuse_unless_public(host, port, addresses)
        return addresses
