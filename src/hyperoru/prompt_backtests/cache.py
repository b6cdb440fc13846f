"""Model answers cached by prompt digest, so that a rerun replays them without a call.

The digest covers everything that decides the answer of a remote model and whose it is:
the user, the provider, the model, the base URL, the system prompt and the rendered
prompt (contract §14: a cache shared between users never mixes them). API keys are not
part of it and never stored. The builtin model is not cached: it is free, offline and
deterministic, so asking it again costs nothing and gives the same answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.prompt_backtests.models import CachedResponse
from hyperoru.timeutils import utcnow


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """Which model answers, as far as the cache is concerned (never the key)."""

    user_id: int
    provider: str | None
    model: str | None
    base_url: str | None


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    reasoning: str | None
    prompt_tokens: int
    completion_tokens: int


def prompt_digest(identity: ModelIdentity, *, system: str | None, prompt: str) -> str:
    canonical = json.dumps(
        {
            "user_id": identity.user_id,
            "provider": (identity.provider or "").lower(),
            "model": identity.model or "",
            "base_url": (identity.base_url or "").rstrip("/"),
            "system": system,
            "prompt": prompt,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def cached_answer(session: AsyncSession, *, owner_id: int, digest: str) -> Answer | None:
    row = await session.scalar(
        select(CachedResponse).where(
            CachedResponse.digest == digest, CachedResponse.owner_id == owner_id
        )
    )
    if row is None:
        return None
    return Answer(row.raw_output, row.reasoning, row.prompt_tokens, row.completion_tokens)


async def store_answer(
    session: AsyncSession, *, identity: ModelIdentity, digest: str, answer: Answer
) -> None:
    """Insert the answer; an answer already stored for the digest is kept (flushes)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(CachedResponse)
        .values(
            digest=digest,
            owner_id=identity.user_id,
            llm_provider=identity.provider,
            llm_model=identity.model,
            raw_output=answer.text,
            reasoning=answer.reasoning,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["digest"])
    )
