"""Programs: the /api/programs routes; the sandbox is a shared service (``Services.sandbox``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.programs.router import router
from hyperoru.programs.sandbox.launcher import make_server_undumpable

log = logging.getLogger("hyperoru.programs")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # A sandbox child that escaped every other wall still cannot read this process's
    # memory or environment through /proc.
    if not make_server_undumpable():
        log.warning("could not make the server non-dumpable", extra={"event": "sandbox_setup"})
    yield


DOMAIN = Domain(name="programs", protected_routers=(router,), lifespan=_lifespan)
