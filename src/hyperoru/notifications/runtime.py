"""What the bot routes and workers share in a running app (``app.state.bots``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hyperoru.notifications.commands import TraderDesk
from hyperoru.notifications.service import Platforms
from hyperoru.vault.cipher import SecretBox


@dataclass(frozen=True, slots=True)
class BotRuntime:
    platforms: Platforms
    desk: TraderDesk
    box: SecretBox


async def bot_runtime(request: Request) -> BotRuntime:
    runtime: BotRuntime = request.app.state.bots
    return runtime


Bots = Annotated[BotRuntime, Depends(bot_runtime)]
