"""Which IP addresses a user-chosen URL may reach: public unicast addresses only.

The standard library's ``is_global``/``is_private`` flags alone are not enough (on 3.11.7
``64:ff9b::a9fe:a9fe`` and ``::ffff:1.1.1.1`` are "global" and ``100.100.100.200`` is not
"private"), so explicit tables decide, and IPv6 forms that embed an IPv4 address are
judged by that IPv4 address too.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address

_DENIED_V4 = tuple(
    IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # CGNAT (Alibaba metadata 100.100.100.200 lives here)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, AWS/GCP/Azure metadata 169.254.169.254
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments (Oracle metadata 192.0.0.192)
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
)
_DENIED_V6 = tuple(
    IPv6Network(net)
    for net in (
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, Teredo included
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local (AWS metadata fd00:ec2::254 lives here)
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)
# Metadata services that sit on addresses the tables above would otherwise allow.
_METADATA_HOSTS = frozenset({IPv4Address("168.63.129.16")})  # Azure WireServer

_MAPPED = IPv6Network("::ffff:0:0/96")
_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compatible, NAT64, 6to4), if any."""
    if address in _MAPPED:
        return address.ipv4_mapped
    if address in _COMPATIBLE or address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses outside every deny table."""
    if address in _METADATA_HOSTS:
        return False
    if isinstance(address, IPv6Address):
        if address.scope_id:
            return False  # a zone index only makes sense for link-scoped addresses
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
        return address.is_global and not any(address in net for net in _DENIED_V6)
    return address.is_global and not any(address in net for net in _DENIED_V4)


def parse_ip_literal(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is written as one (brackets allowed), else None."""
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ip_address(candidate)
    except ValueError:
        return None
