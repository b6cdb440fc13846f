"""Reading and writing sealed secrets. Helpers only flush: the caller's use case commits."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.timeutils import utcnow
from hyperoru.vault.cipher import SealedSecret, SecretAddress, SecretBox, SecretUnreadable
from hyperoru.vault.models import StoredSecret

log = logging.getLogger("hyperoru.vault")


def address_of(row: StoredSecret) -> SecretAddress:
    return SecretAddress(
        user_id=row.user_id, scope=row.scope, scope_id=row.scope_id, field=row.field
    )


async def _find(session: AsyncSession, address: SecretAddress) -> StoredSecret | None:
    return await session.scalar(
        select(StoredSecret).where(
            StoredSecret.scope == address.scope,
            StoredSecret.scope_id == address.scope_id,
            StoredSecret.field == address.field,
        )
    )


async def put_secret(
    session: AsyncSession, box: SecretBox, address: SecretAddress, plaintext: str
) -> None:
    """Seal ``plaintext`` into its slot, replacing any previous value."""
    sealed = box.seal(plaintext, address)
    now = utcnow()
    row = await _find(session, address)
    if row is None:
        row = StoredSecret(
            user_id=address.user_id,
            scope=address.scope,
            scope_id=address.scope_id,
            field=address.field,
            created_at=now,
        )
        session.add(row)
    row.user_id = address.user_id
    row.key_id = sealed.key_id
    row.ciphertext = sealed.ciphertext
    row.updated_at = now
    await session.flush()


async def read_secret(session: AsyncSession, box: SecretBox, address: SecretAddress) -> str | None:
    """The plaintext, None when the slot is empty; SecretUnreadable when it cannot be
    opened (recorded in the log without any secret material)."""
    row = await _find(session, address)
    if row is None:
        return None
    try:
        return box.open(SealedSecret(row.key_id, row.ciphertext), address)
    except SecretUnreadable as exc:
        log.error(
            "stored secret unreadable",
            extra={"event": "secret_unreadable", "secret": str(address), "reason": str(exc)},
        )
        raise


async def delete_secret(session: AsyncSession, address: SecretAddress) -> None:
    await session.execute(
        delete(StoredSecret).where(
            StoredSecret.scope == address.scope,
            StoredSecret.scope_id == address.scope_id,
            StoredSecret.field == address.field,
        )
    )


async def delete_record_secrets(session: AsyncSession, *, scope: str, scope_id: int) -> None:
    """Wipe every secret of one record (e.g. when a trader is deleted)."""
    await session.execute(
        delete(StoredSecret).where(StoredSecret.scope == scope, StoredSecret.scope_id == scope_id)
    )
