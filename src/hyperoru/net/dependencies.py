"""The app's outbound guard (``Services.outbound_guard``), built once per app at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hyperoru.net.policy import AllowedHosts, OutboundGuard
from hyperoru.net.resolver import SystemResolver
from hyperoru.settings import Settings


def build_outbound_guard(settings: Settings) -> OutboundGuard:
    return OutboundGuard(AllowedHosts.parse(settings.llm_allowed_host_list), SystemResolver())


async def get_outbound_guard(request: Request) -> OutboundGuard:
    return request.app.state.services.outbound_guard


Guard = Annotated[OutboundGuard, Depends(get_outbound_guard)]
