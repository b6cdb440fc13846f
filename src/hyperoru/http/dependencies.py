"""Typed dependency aliases every router uses: the settings, a database session, the limiter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.ratelimit.limiter import RateLimiter
from hyperoru.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


async def get_limiter(request: Request) -> RateLimiter:
    return request.app.state.limiter


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def caller_ip(request: Request) -> str:
    # Dependencies must be async: FastAPI runs plain functions in a thread pool, a hop that
    # costs more than most of our handlers.
    return client_ip(request)


AppSettings = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[AsyncSession, Depends(get_db)]
Limiter = Annotated[RateLimiter, Depends(get_limiter)]
ClientIp = Annotated[str, Depends(caller_ip)]
