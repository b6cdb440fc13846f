"""Use cases of /api/prompts. Each public function owns its transaction."""

from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts import service as accounts
from hyperoru.accounts.models import Account
from hyperoru.api_types import MAX_ID
from hyperoru.auth.principal import Principal
from hyperoru.errors import ApiError, forbidden, not_found
from hyperoru.exchanges.base import ExchangeClient
from hyperoru.market.runtime import MarketRuntime
from hyperoru.paging import ListWindow
from hyperoru.prompts.builtin_templates import BUILTIN_TEMPLATES
from hyperoru.prompts.models import PromptTemplate
from hyperoru.prompts.schemas import PreviewRequest, PromptCreate, PromptUpdate
from hyperoru.quotas import ensure_room
from hyperoru.strategies import primary
from hyperoru.strategies.template import RenderedPrompt, placeholders, render
from hyperoru.strategies.variables import VARIABLE_NAMES, DecisionInputs, TriggerInfo
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.prompts")

MAX_TEMPLATES_PER_USER = 500
COPY_SUFFIX = " (copy)"
NAME_COLUMN_LENGTH = 128
# What a trader renders when its strategy names no template.
DEFAULT_BUILTIN_KEY = "general"


# --- built-in templates -----------------------------------------------------------------


async def sync_builtin_templates(session: AsyncSession) -> None:
    """Write the built-in templates of this release: missing ones are added, changed ones
    updated in place (same id). Commits. Safe when several processes start at once."""
    for builtin in BUILTIN_TEMPLATES:
        row = await session.scalar(
            select(PromptTemplate).where(PromptTemplate.system_key == builtin.key)
        )
        now = utcnow()
        if row is None:
            session.add(
                PromptTemplate(
                    user_id=None,
                    system_key=builtin.key,
                    name=builtin.name,
                    description=builtin.description,
                    content=builtin.content,
                    created_at=now,
                    updated_at=now,
                )
            )
        elif (row.name, row.description, row.content, row.deleted_at) != (
            builtin.name,
            builtin.description,
            builtin.content,
            None,
        ):
            row.name, row.description, row.content = (
                builtin.name,
                builtin.description,
                builtin.content,
            )
            row.deleted_at, row.updated_at = None, now
        try:
            await session.commit()
        except IntegrityError:
            # Another process inserted the same key first; its row is as good as ours.
            await session.rollback()


def template_variables(content: str) -> tuple[list[str], list[str]]:
    """The variables ``content`` uses and its placeholders that are no variable (shown on
    every template, so a typo is seen when the template is saved, not after a cycle)."""
    names = placeholders(content)
    known = set(VARIABLE_NAMES)
    return [n for n in names if n in known], [n for n in names if n not in known]


# --- loading and ownership --------------------------------------------------------------


async def _prompt_readable_by(
    session: AsyncSession, *, owner_id: int, prompt_id: int
) -> PromptTemplate:
    if not 1 <= prompt_id <= MAX_ID:
        raise not_found("prompt")
    prompt = await session.get(PromptTemplate, prompt_id)
    if prompt is None or prompt.deleted_at is not None:
        raise not_found("prompt")
    if not prompt.is_system and prompt.user_id != owner_id:
        raise forbidden("This prompt template belongs to another user")
    return prompt


async def load_readable_prompt(
    session: AsyncSession, *, user: Principal, prompt_id: int
) -> PromptTemplate:
    """A built-in template or one of the caller's own.

    Raises 404 PROMPT_NOT_FOUND when missing or deleted, 403 FORBIDDEN when another
    user's.
    """
    return await _prompt_readable_by(session, owner_id=user.id, prompt_id=prompt_id)


async def load_editable_prompt(
    session: AsyncSession, *, user: Principal, prompt_id: int
) -> PromptTemplate:
    """One of the caller's own templates; built-in ones are read-only (403 FORBIDDEN)."""
    prompt = await load_readable_prompt(session, user=user, prompt_id=prompt_id)
    if prompt.is_system:
        raise forbidden("Built-in prompt templates are read-only: copy one to change it")
    return prompt


async def template_for_trader(
    session: AsyncSession, *, account: Account, prompt_id: int | None
) -> PromptTemplate:
    """The template a trader's cycle renders: its strategy's ``prompt_id`` when the
    trader's owner may read it, the built-in general template when none is set.

    Raises 404 PROMPT_NOT_FOUND (missing or deleted) or 403 FORBIDDEN (another user's),
    so that a cycle records why it could not run instead of trading on another prompt.
    """
    if prompt_id is None:
        builtin = await session.scalar(
            select(PromptTemplate).where(PromptTemplate.system_key == DEFAULT_BUILTIN_KEY)
        )
        if builtin is None:
            raise not_found("prompt", "The built-in general prompt template is missing")
        return builtin
    return await _prompt_readable_by(session, owner_id=account.user_id, prompt_id=prompt_id)


# --- use cases --------------------------------------------------------------------------


async def list_prompts(
    session: AsyncSession, *, user: Principal, window: ListWindow
) -> list[PromptTemplate]:
    """Built-in templates first, then the caller's own, oldest first."""
    query = (
        select(PromptTemplate)
        .where(
            PromptTemplate.deleted_at.is_(None),
            or_(PromptTemplate.system_key.is_not(None), PromptTemplate.user_id == user.id),
        )
        .order_by(PromptTemplate.system_key.is_(None), PromptTemplate.id)
        .limit(window.limit)
        .offset(window.offset)
    )
    return list((await session.scalars(query)).all())


async def _check_room(session: AsyncSession, user: Principal) -> None:
    await ensure_room(
        session,
        PromptTemplate,
        PromptTemplate.user_id == user.id,
        PromptTemplate.deleted_at.is_(None),
        owner_id=user.id,
        limit=MAX_TEMPLATES_PER_USER,
        code="PROMPT_LIMIT_REACHED",
        what="prompt templates",
    )


async def _insert(
    session: AsyncSession, *, user: Principal, name: str, content: str, description: str | None
) -> PromptTemplate:
    await _check_room(session, user)
    now = utcnow()
    prompt = PromptTemplate(
        user_id=user.id,
        system_key=None,
        name=name,
        description=description,
        content=content,
        created_at=now,
        updated_at=now,
    )
    session.add(prompt)
    await session.commit()
    log.info("prompt created", extra={"event": "prompt_created", "prompt_id": prompt.id})
    return prompt


async def create_prompt(
    session: AsyncSession, *, user: Principal, data: PromptCreate
) -> PromptTemplate:
    """Raises 422 PROMPT_LIMIT_REACHED. Commits."""
    assert data.text is not None  # the schema requires one spelling
    return await _insert(
        session, user=user, name=data.name, content=data.text, description=data.description
    )


async def copy_prompt(
    session: AsyncSession, *, user: Principal, source: PromptTemplate
) -> PromptTemplate:
    """A new template of the caller's named ``<name> (copy)``. Commits."""
    name = source.name[: NAME_COLUMN_LENGTH - len(COPY_SUFFIX)] + COPY_SUFFIX
    return await _insert(
        session, user=user, name=name, content=source.content, description=source.description
    )


async def update_prompt(
    session: AsyncSession, *, prompt: PromptTemplate, data: PromptUpdate
) -> PromptTemplate:
    """Change the sent fields. Commits."""
    if data.name is not None:
        prompt.name = data.name
    if data.text is not None:
        prompt.content = data.text
    if "description" in data.model_fields_set:
        prompt.description = data.description
    prompt.updated_at = utcnow()
    await session.commit()
    return prompt


async def rename_prompt(
    session: AsyncSession, *, prompt: PromptTemplate, name: str
) -> PromptTemplate:
    prompt.name = name
    prompt.updated_at = utcnow()
    await session.commit()
    return prompt


async def delete_prompt(session: AsyncSession, *, prompt: PromptTemplate) -> None:
    """Soft delete: afterwards every route answers 404 for it. Commits."""
    now = utcnow()
    prompt.deleted_at = prompt.updated_at = now
    await session.commit()
    log.info("prompt deleted", extra={"event": "prompt_deleted", "prompt_id": prompt.id})


# --- preview ----------------------------------------------------------------------------


async def _preview_symbols(
    market: MarketRuntime,
    *,
    account_symbols: list[str],
    sent: list[str] | None,
) -> list[str]:
    """The sent symbols, else the trader's, else the market's tracked ones; all known."""
    symbols = list(dict.fromkeys(sent if sent is not None else account_symbols))
    if sent is None and not symbols:
        symbols = list(market.cache.tracked)
    known = await market.cache.assets()
    unknown = [s for s in symbols if s not in known]
    if unknown:
        raise ApiError(
            422,
            "UNKNOWN_SYMBOL",
            f"Unknown symbol: {', '.join(unknown)}",
            details={"symbols": unknown},
        )
    return symbols


async def preview_prompt(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    market: MarketRuntime,
    exchange: ExchangeClient | None,
    *,
    user: Principal,
    data: PreviewRequest,
) -> RenderedPrompt:
    """Render a template for one of the caller's traders with live variables.

    Raises 404/403 for the trader and the template, 422 UNKNOWN_SYMBOL, and the market
    data errors (``ProviderError``) of the variables the template uses.
    """
    account = await accounts.load_owned_account(session, user=user, account_id=data.account_id)
    if data.prompt_id is not None:
        template = (
            await load_readable_prompt(session, user=user, prompt_id=data.prompt_id)
        ).content
    else:
        assert data.text is not None
        template = data.text
    strategy = await primary.get_strategy(session, account=account)
    symbols = await _preview_symbols(
        market, account_symbols=list(strategy.symbols), sent=data.symbols
    )
    # The request's session is done: candles and the ledger are read with their own.
    await session.commit()
    inputs = DecisionInputs(
        account=account,
        symbols=symbols,
        market=market,
        sessionmaker=sessionmaker,
        exchange=exchange,
        trigger=TriggerInfo(kind="preview"),
    )
    return await render(template, inputs.catalogue())
