"""Save-time URL checks and the operator allowlist."""

from __future__ import annotations

import pytest

from hyperoru.net.policy import (
    AllowedHosts,
    OutboundGuard,
    OutboundUrlRefused,
    parse_outbound_url,
)
from hyperoru.net.resolver import SystemResolver
from tests.net.fakes import TableResolver

MALFORMED = [
    "file:///etc/passwd",
    "gopher://x",
    "ftp://x",
    "data:,x",
    "javascript:alert(1)",
    "https://api.openai.com@127.0.0.1/",
    "https://user:pw@api.openai.com/",
    "https://127.0.0.1#@api.openai.com/",
    "https:///v1",
    "https://localhost./",
    "https://exa mple.com/",
    "https://" + "a" * 2100 + ".com/",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(OutboundUrlRefused):
        parse_outbound_url(url)


def test_ports_default_by_scheme() -> None:
    assert parse_outbound_url("https://api.openai.com/v1").port == 443
    assert parse_outbound_url("http://api.openai.com/v1").port == 80
    assert parse_outbound_url("HTTPS://API.OpenAI.com:8443/v1").host == "api.openai.com"


def test_allowlist_entries() -> None:
    allowed = AllowedHosts.parse(["localhost:11434", "gateway.lan", "[::1]:8000", "10.0.0.7"])
    assert allowed.permits("localhost", 11434) and not allowed.permits("localhost", 8080)
    assert allowed.permits("GATEWAY.lan", 1) and allowed.permits("gateway.lan", 443)
    assert allowed.permits("::1", 8000) and allowed.permits("[::1]", 8000)
    assert not allowed.permits("::1", 8001)
    assert allowed.permits("10.0.0.7", 9)
    with pytest.raises(ValueError, match="HYPERORU_LLM_ALLOWED_HOSTS"):
        AllowedHosts.parse(["localhost:port"])


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/",
        "https://0x7f.1/",
        "https://127.1/",
        "https://0177.0.0.1/",
        "https://017700000001/",
        "http://localhost:8080/",
        "https://foo.localhost/",
    ],
)
async def test_numeric_and_local_forms_resolve_to_loopback(url: str) -> None:
    guard = OutboundGuard(AllowedHosts(), SystemResolver())
    with pytest.raises(OutboundUrlRefused):
        await guard.check_url(url)


async def test_any_private_answer_refuses_the_name() -> None:
    resolver = TableResolver(
        {"rebind.test": ["93.184.216.34", "127.0.0.1"], "public.test": ["93.184.216.34"]}
    )
    guard = OutboundGuard(AllowedHosts(), resolver)
    with pytest.raises(OutboundUrlRefused):
        await guard.check_url("https://rebind.test/v1")
    assert (await guard.check_url("https://public.test/v1")).host == "public.test"
    # Not resolvable now: accepted, the connect-time check still applies.
    assert (await guard.check_url("https://later.test/v1")).host == "later.test"


async def test_allowlisted_hosts_skip_the_address_check() -> None:
    resolver = TableResolver({"ollama.lan": ["192.168.1.20"]})
    guard = OutboundGuard(AllowedHosts.parse(["ollama.lan:11434", "localhost:11434"]), resolver)
    await guard.check_url("http://ollama.lan:11434/v1")
    await guard.check_url("http://localhost:11434/v1")
    with pytest.raises(OutboundUrlRefused):
        await guard.check_url("http://ollama.lan:22/")
