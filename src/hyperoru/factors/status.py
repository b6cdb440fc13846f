"""GET /api/factors/status (our addition): whether the factor engine is on, so that a
client asks once instead of reading 403 FACTOR_ENGINE_DISABLED from every factor route.
Its own router because every route of ``router`` is refused while the engine is off."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hyperoru.factors.dependencies import engine_enabled
from hyperoru.factors.schemas import FactorStatusOut

status_router = APIRouter(prefix="/api/factors", tags=["factors"])


@status_router.get("/status", response_model=FactorStatusOut)
async def factor_status(request: Request) -> FactorStatusOut:
    """Answers while the engine is off too; any signed-in user may ask."""
    return FactorStatusOut(enabled=engine_enabled(request.app.state.settings))
