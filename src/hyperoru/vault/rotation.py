"""Re-encrypt every stored secret under the current key, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.timeutils import utcnow
from hyperoru.vault.cipher import SealedSecret, SecretBox, SecretUnreadable
from hyperoru.vault.models import StoredSecret
from hyperoru.vault.store import address_of

_BATCH = 500


@dataclass(slots=True)
class RotationReport:
    key_id: str
    rewritten: int = 0
    already_current: int = 0
    unreadable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unreadable


async def rotate_secrets(session: AsyncSession, box: SecretBox) -> RotationReport:
    """Open every secret with whichever configured key sealed it and seal it again under
    the current key. If any secret cannot be opened nothing is written (the report lists
    them), so a missing old key can never cost a secret. Commits on success."""
    report = RotationReport(key_id=box.current_key_id)
    last_id = 0
    while True:
        rows = (
            await session.scalars(
                select(StoredSecret)
                .where(StoredSecret.id > last_id)
                .order_by(StoredSecret.id)
                .limit(_BATCH)
            )
        ).all()
        if not rows:
            break
        for row in rows:
            address = address_of(row)
            try:
                plaintext = box.open(SealedSecret(row.key_id, row.ciphertext), address)
            except SecretUnreadable as exc:
                report.unreadable.append(str(exc))
                continue
            if row.key_id == box.current_key_id:
                report.already_current += 1
                continue
            sealed = box.seal(plaintext, address)
            row.key_id, row.ciphertext, row.updated_at = sealed.key_id, sealed.ciphertext, utcnow()
            report.rewritten += 1
        last_id = rows[-1].id
        await session.flush()
    if report.ok:
        await session.commit()
    else:
        await session.rollback()
        report.rewritten = 0
    return report
