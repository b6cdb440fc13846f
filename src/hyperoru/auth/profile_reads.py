"""``GET /api/users/profile`` from memory: the caller's profile encoded once per change.

The token cache's principal may lag a change made through another process until the bus
delivers the announcement; the profile must not (read-your-writes). So each answer is
kept with the user's data version (``hyperoru.db.versions``, bumped by
``SessionChanges.user_changed`` after the commit) and read again, by primary key, only
when the version moved.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.auth.models import User
from hyperoru.auth.principal import Principal
from hyperoru.auth.schemas import UserOut
from hyperoru.db.versions import DataVersions

MAX_USERS = 50_000


@dataclass(frozen=True, slots=True)
class _Profile:
    version: Hashable
    body: bytes


class ProfileReads:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], versions: DataVersions
    ) -> None:
        self._sessionmaker = sessionmaker
        self._versions = versions
        self._profiles: dict[int, _Profile] = {}

    async def profile_json(self, user: Principal) -> bytes:
        """The caller's ``UserOut`` as JSON, as of their last committed change or later."""
        version = await self._versions.current(user.id)
        cached = self._profiles.get(user.id)
        if cached is not None and cached.version == version:
            return cached.body
        # The version is read before the row: a change committed meanwhile leaves this
        # copy behind the next version, so the next read loads again.
        async with self._sessionmaker() as session:
            row = await session.get(User, user.id)
        shown = UserOut.model_validate(row if row is not None else user)
        body = shown.model_dump_json().encode()
        if len(self._profiles) >= MAX_USERS and user.id not in self._profiles:
            self._profiles.pop(next(iter(self._profiles)))
        self._profiles[user.id] = _Profile(version, body)
        return body
