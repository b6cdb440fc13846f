"""Liveness and dependency status; public and exempt from rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from hyperoru import __version__
from hyperoru.api_types import ResponseModel

public_router = APIRouter(prefix="/api", tags=["health"])

# Other domains add probes (e.g. market data) as name -> async () -> status string.
HealthProbe = Callable[[], Awaitable[str]]


class HealthOut(ResponseModel):
    status: Literal["healthy", "unhealthy"]
    version: str
    database: Literal["ok", "error"]
    market_data: Literal["ok", "stale", "error"] | None = None


@public_router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def health(request: Request) -> JSONResponse:
    try:
        async with request.app.state.services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any failure to reach the database is "error", never a 500
        database = "error"
    body: dict[str, str] = {
        "status": "healthy" if database == "ok" else "unhealthy",
        "version": __version__,
        "database": database,
    }
    probes: dict[str, HealthProbe] = request.app.state.services.health_probes
    for name, probe in probes.items():
        try:
            body[name] = await probe()
        except Exception:
            body[name] = "error"
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
