from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.accounts.router import router
from hyperoru.domain import Domain
from hyperoru.net.dependencies import build_outbound_guard
from hyperoru.vault.cipher import SecretBox
from hyperoru.vault.keys import load_keyring


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Traders are the first owners of secrets and outbound URLs, so this domain opens
    # the vault and the outbound guard for the whole app; later domains read them from
    # app.state through hyperoru.vault.dependencies and hyperoru.net.dependencies.
    settings = app.state.settings
    app.state.secret_box = SecretBox(load_keyring(settings))
    app.state.outbound_guard = build_outbound_guard(settings)
    yield


DOMAIN = Domain(name="accounts", protected_routers=(router,), lifespan=_lifespan)
