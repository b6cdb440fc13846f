"""Route dependencies that spend a budget and expose it in ``X-RateLimit-*`` headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from hyperoru.errors import ApiError
from hyperoru.http.dependencies import client_ip
from hyperoru.ratelimit.limiter import Budget, LimitStatus

MINUTE = 60


def remember_status(request: Request, status: LimitStatus) -> None:
    """Keep the tightest budget seen in this request for the response headers."""
    current: LimitStatus | None = getattr(request.state, "rate_limit", None)
    if current is None or status.remaining <= current.remaining or not status.allowed:
        request.state.rate_limit = status


def rate_limited(status: LimitStatus, message: str = "Too many requests") -> ApiError:
    return ApiError(
        429,
        "RATE_LIMITED",
        message,
        details={"limit": status.limit, "retry_after": status.reset_seconds},
        headers={**status.headers(), "Retry-After": str(status.reset_seconds)},
    )


async def spend(request: Request, budget: Budget, key: str) -> LimitStatus:
    status = await request.app.state.services.limiter.hit(budget, key)
    remember_status(request, status)
    if not status.allowed:
        raise rate_limited(status)
    return status


def per_ip(
    bucket: str, amount_of: Callable[[Request], int], *, exact: bool = False
) -> Callable[[Request], Awaitable[None]]:
    """A dependency that spends ``bucket`` for the calling IP."""

    async def dependency(request: Request) -> None:
        budget = Budget(bucket, amount_of(request), MINUTE, exact=exact)
        await spend(request, budget, client_ip(request))

    dependency.__name__ = f"rate_limit_{bucket}"
    return dependency


anonymous_budget = per_ip("ip", lambda r: r.app.state.services.settings.rate_limit_ip_per_minute)
