"""What the assistant's routes read from the app: its runtime, and the tool context of
the caller (the services a tool may reach, as that user)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hyperoru.assistant.tools import ToolContext
from hyperoru.assistant.turns import AssistantRuntime
from hyperoru.auth.dependencies import CurrentUser


async def get_runtime(request: Request) -> AssistantRuntime:
    runtime: AssistantRuntime = request.app.state.assistant
    return runtime


async def tool_context(request: Request, user: CurrentUser) -> ToolContext:
    services = request.app.state.services  # hyperoru.services.Services
    return ToolContext(
        user=user,
        sessionmaker=services.sessionmaker,
        settings=services.settings,
        market=services.market,
        sandbox=services.sandbox,
        jobs=services.jobs,
        trader_reads=services.trader_reads,
        paper=services.trading.paper,
        limiter=services.limiter,
    )


Runtime = Annotated[AssistantRuntime, Depends(get_runtime)]
Tools = Annotated[ToolContext, Depends(tool_context)]
