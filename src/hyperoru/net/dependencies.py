"""How the app's outbound guard (``Services.outbound_guard``) is built at start-up."""

from __future__ import annotations

from hyperoru.net.policy import AllowedHosts, OutboundGuard
from hyperoru.net.resolver import SystemResolver
from hyperoru.settings import Settings


def build_outbound_guard(settings: Settings) -> OutboundGuard:
    return OutboundGuard(AllowedHosts.parse(settings.llm_allowed_host_list), SystemResolver())
