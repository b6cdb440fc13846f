"""Liveness and dependency status; public and exempt from rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
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
    redis: Literal["ok", "error"] | None = None
    probe: Literal["live", "ready"] = "ready"


# Without these this process must not take traffic: it would fail requests (no database)
# or serve other processes' stale copies and miss their revocations (no Redis). Stale
# market data only degrades the answers, so it is reported but does not fail the check.
_REQUIRED = ("redis",)


@public_router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def health(
    request: Request,
    probe: Annotated[
        Literal["live", "ready"],
        Query(
            description="`live`: the process answers (it touches nothing else; restart it "
            "when this fails). `ready` (default): it can serve, its database and Redis "
            "reachable; 503 when not, and it recovers without a restart."
        ),
    ] = "ready",
) -> JSONResponse:
    if probe == "live":
        return JSONResponse({"status": "healthy", "version": __version__, "probe": "live"})
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
    for name, check in probes.items():
        try:
            body[name] = await check()
        except Exception:
            body[name] = "error"
    ready = database == "ok" and all(body.get(name, "ok") == "ok" for name in _REQUIRED)
    body["status"] = "healthy" if ready else "unhealthy"
    body["probe"] = "ready"
    return JSONResponse(body, status_code=200 if ready else 503)
