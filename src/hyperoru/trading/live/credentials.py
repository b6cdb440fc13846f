"""Where the live client gets a trader's venue credentials.

The seam until the credentials store (encrypted per trader, validated on save) lands: the
live client asks a ``CredentialSource`` and never reads a table itself. The app starts with
``NoCredentials`` (every live trader answers 409 LIVE_CREDENTIALS_MISSING); the store
implements the same one method.
"""

from __future__ import annotations

from typing import Protocol

from hyperoru.exchanges.venue import VenueCredentials


class CredentialSource(Protocol):
    async def for_trader(self, account_id: int) -> VenueCredentials | None:
        """The trader's credentials, or None when it has none."""
        ...


class NoCredentials:
    async def for_trader(self, account_id: int) -> VenueCredentials | None:
        return None


class MemoryCredentials:
    """Credentials held in memory (tests, and scripts that bring their own)."""

    def __init__(self, by_trader: dict[int, VenueCredentials] | None = None) -> None:
        self.by_trader: dict[int, VenueCredentials] = dict(by_trader or {})

    async def for_trader(self, account_id: int) -> VenueCredentials | None:
        return self.by_trader.get(account_id)
