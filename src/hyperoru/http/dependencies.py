"""Typed dependency aliases every router uses: the settings, a database session, the
caller's address. They read the app's shared services (``hyperoru.services``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.services.settings


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    session: AsyncSession = request.app.state.services.sessionmaker()
    try:
        yield session
    finally:
        # Routes answered from memory (a finished backtest's poll) never use theirs; a
        # session that began nothing and holds nothing has nothing to close, and closing
        # it cost a task, a shield and a greenlet hop per request.
        if not _untouched(session):
            async with session:  # closes it, shielded from a cancelled request
                pass


def _untouched(session: AsyncSession) -> bool:
    return not (session.in_transaction() or session.identity_map or session.new or session.deleted)


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.services.sessionmaker


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def caller_ip(request: Request) -> str:
    # Dependencies must be async: FastAPI runs plain functions in a thread pool, a hop that
    # costs more than most of our handlers.
    return client_ip(request)


AppSettings = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[AsyncSession, Depends(get_db)]
# For work that outlives one session (previews commit what they fetch as they go).
Sessionmaker = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
ClientIp = Annotated[str, Depends(caller_ip)]
