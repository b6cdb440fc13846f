"""Loaders for /api/prompts routes: a template id in the path becomes a template the
caller may read (built-in or own) or edit (own only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.auth.dependencies import CurrentUser
from hyperoru.exchanges.base import ExchangeClient
from hyperoru.http.dependencies import DbSession
from hyperoru.prompts import service
from hyperoru.prompts.models import PromptTemplate

PromptId = Annotated[int, Path(description="The prompt template's id")]


async def readable_prompt(prompt_id: PromptId, user: CurrentUser, db: DbSession) -> PromptTemplate:
    return await service.load_readable_prompt(db, user=user, prompt_id=prompt_id)


async def editable_prompt(prompt_id: PromptId, user: CurrentUser, db: DbSession) -> PromptTemplate:
    return await service.load_editable_prompt(db, user=user, prompt_id=prompt_id)


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.sessionmaker


async def get_trader_exchange(request: Request) -> ExchangeClient | None:
    """Where previews read positions, fills and balance: the paper venue, the only one
    traders run on today (live venues will be chosen by ``execution_mode`` here). None
    when the trading domain is not running."""
    trading = getattr(request.app.state, "trading", None)
    return trading.paper if trading is not None else None


ReadablePrompt = Annotated[PromptTemplate, Depends(readable_prompt)]
EditablePrompt = Annotated[PromptTemplate, Depends(editable_prompt)]
Sessionmaker = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
TraderExchange = Annotated[ExchangeClient | None, Depends(get_trader_exchange)]
