"""Route dependencies of the factor domain."""

from __future__ import annotations

from fastapi import Request

from hyperoru.errors import ApiError
from hyperoru.settings import Settings


def engine_enabled(settings: Settings) -> bool:
    return settings.factor_engine == "enabled"


def ensure_engine(settings: Settings) -> None:
    """403 FACTOR_ENGINE_DISABLED while the engine is off (routes and assistant tools)."""
    if not engine_enabled(settings):
        raise ApiError(
            403,
            "FACTOR_ENGINE_DISABLED",
            "The factor engine is off on this server; the operator enables it with "
            "HYPERORU_FACTOR_ENGINE=enabled (or FACTOR_ENGINE_ENABLED=true)",
        )


async def require_engine(request: Request) -> None:
    """Every factor route answers 403 FACTOR_ENGINE_DISABLED while the engine is off."""
    ensure_engine(request.app.state.settings)
