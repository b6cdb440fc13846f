"""How a domain package plugs into the app: its routers and an optional lifespan.

Each domain exposes ``DOMAIN`` (in ``<package>/domain.py``); ``app.py`` lists them once.
Protected routers get the token verifier attached at include time; public routers may hold
only routes named in ``http.route_policy.PUBLIC_ROUTES`` (checked at start-up).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

DomainLifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    protected_routers: tuple[APIRouter, ...] = ()
    public_routers: tuple[APIRouter, ...] = ()
    # Entered after the database is migrated, left before it is closed, in DOMAINS order.
    lifespan: DomainLifespan | None = None
