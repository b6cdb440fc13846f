"""Per-account login throttling: after N failures in the window, refuse for a while.

Keyed by the user id when the account exists and by the normalised identifier when it
does not, so the answer never tells whether an account exists.

Wrong two-factor codes count in a bucket of their own (``SECOND_FACTOR_FAILURES``): a
successful login clears the login bucket, and whoever holds the password must not be
able to clear the count of their code guesses that way.
"""

from __future__ import annotations

from hyperoru.errors import ApiError
from hyperoru.ratelimit.limiter import Budget, RateLimiter
from hyperoru.settings import Settings

LOGIN_FAILURES = "login-failures"
SECOND_FACTOR_FAILURES = "second-factor-failures"


class LoginThrottle:
    def __init__(
        self, limiter: RateLimiter, settings: Settings, bucket: str = LOGIN_FAILURES
    ) -> None:
        self._limiter = limiter
        self._budget = Budget(
            bucket,
            settings.login_failure_limit,
            settings.login_failure_window_seconds,
            exact=True,
        )

    @staticmethod
    def key_for(user_id: int | None, identifier: str) -> str:
        return f"user:{user_id}" if user_id is not None else f"name:{identifier}"

    async def ensure_allowed(self, key: str) -> None:
        status = await self._limiter.peek(self._budget, key)
        if not status.allowed:
            raise ApiError(
                429,
                "LOGIN_THROTTLED",
                "Too many failed attempts for this account; try again later",
                details={"retry_after": status.reset_seconds},
                headers={"Retry-After": str(status.reset_seconds)},
            )

    async def record_failure(self, key: str) -> None:
        await self._limiter.hit(self._budget, key)

    async def reset(self, key: str) -> None:
        await self._limiter.clear(self._budget, key)
