"""Where the live client gets a trader's venue credentials.

The live client asks a ``CredentialSource`` and never reads a table itself. The server's
is ``StoredCredentials``: the credentials store of ``accounts/exchange_credentials.py``
(sealed per trader with the vault, validated against the venue when saved), opened in a
short session of its own, so no connection is held while the adapter is used.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts.exchange_credentials import read_venue_credentials
from hyperoru.accounts.models import Account
from hyperoru.errors import ApiError
from hyperoru.exchanges.venue import VenueCredentials
from hyperoru.vault.cipher import SecretBox, SecretUnreadable


class CredentialSource(Protocol):
    async def for_trader(self, account_id: int) -> VenueCredentials | None:
        """The trader's credentials, or None when it has none."""
        ...


class MemoryCredentials:
    """Credentials held in memory (tests, and scripts that bring their own)."""

    def __init__(self, by_trader: dict[int, VenueCredentials] | None = None) -> None:
        self.by_trader: dict[int, VenueCredentials] = dict(by_trader or {})

    async def for_trader(self, account_id: int) -> VenueCredentials | None:
        return self.by_trader.get(account_id)


class StoredCredentials:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], box: SecretBox) -> None:
        self._sessionmaker = sessionmaker
        self._box = box

    async def for_trader(self, account_id: int) -> VenueCredentials | None:
        async with self._sessionmaker() as session:
            account = await session.get(Account, account_id)
            if account is None or account.deleted_at is not None:
                return None
            try:
                return await read_venue_credentials(session, self._box, account=account)
            except SecretUnreadable:
                # The vault key that sealed them is gone (rotation without re-sealing):
                # nothing can be sent until the owner connects the credentials again.
                raise ApiError(
                    409,
                    "EXCHANGE_CREDENTIALS_MISSING",
                    "this trader's exchange credentials cannot be opened with this "
                    "server's vault keys; connect them again with "
                    "PUT /api/account/{id}/exchange",
                    details={"account_id": account_id},
                ) from None
