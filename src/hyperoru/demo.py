"""`hyperoru serve --demo`: a demo user with two builtin-model traders on the simulated
market, trading from the first minute, so a newcomer sees decisions, fills and equity move.

The password is random and printed once, when the user is created; it is never stored in
clear and never fixed in code.
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts import service as accounts_service
from hyperoru.accounts.schemas import AccountCreate, StrategyUpdate
from hyperoru.auth import service as auth_service
from hyperoru.auth.principal import Principal
from hyperoru.domain import Domain
from hyperoru.paging import ListWindow
from hyperoru.strategies import primary

log = logging.getLogger("hyperoru.demo")

DEMO_USERNAME = "demo"
# Each trader watches different coins so that at least one of them usually finds a trend.
DEMO_TRADERS = (
    ("Demo trend trader (BTC, ETH)", ["BTC", "ETH"]),
    ("Demo trend trader (SOL, DOGE, XRP)", ["SOL", "DOGE", "XRP"]),
)
DEMO_INTERVAL_SECONDS = 30


@dataclass(frozen=True, slots=True)
class DemoSetup:
    username: str
    password: str | None  # only when the user was created by this call
    trader_ids: tuple[int, ...]


async def ensure_demo(app: FastAPI, session: AsyncSession) -> DemoSetup:
    """Create the demo user and its traders unless they exist. Commits."""
    user = await auth_service.find_user(session, DEMO_USERNAME)
    password = None
    if user is None:
        password = secrets.token_urlsafe(18)
        user = await auth_service.register_user(session, username=DEMO_USERNAME, password=password)
    principal = Principal.of(user)
    existing = await accounts_service.list_accounts(
        session,
        user=principal,
        include_hidden=True,
        window=ListWindow(limit=100, offset=0),
    )
    if existing:
        return DemoSetup(DEMO_USERNAME, password, tuple(account.id for account in existing))
    trader_ids = []
    for name, symbols in DEMO_TRADERS:
        services = app.state.services
        created = await accounts_service.create_account(
            session,
            services.secret_box,
            services.outbound_guard,
            user=principal,
            data=AccountCreate(
                name=name, llm_provider="builtin", max_leverage=3, default_leverage=2
            ),
        )
        account = await accounts_service.load_owned_account(
            session, user=principal, account_id=created.id
        )
        await primary.update_strategy(
            session,
            account=account,
            data=StrategyUpdate(
                symbols=symbols,
                trigger_interval=DEMO_INTERVAL_SECONDS,
                scheduled_trigger_enabled=True,
            ),
        )
        trader_ids.append(account.id)
    return DemoSetup(DEMO_USERNAME, password, tuple(trader_ids))


def _announce(setup: DemoSetup) -> None:
    if setup.password is None:
        message = f"demo: user '{setup.username}' already exists (its password was shown once)"
    else:
        message = (
            f"demo: created user '{setup.username}' with password {setup.password}\n"
            "demo: this password is shown only now; log in with it to follow the traders"
        )
    # The terminal, not the log: the password must not end up in log files.
    print(message, file=sys.stdout, flush=True)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = app.state.services
    if services.settings.demo:
        async with services.sessionmaker() as session:
            setup = await ensure_demo(app, session)
        _announce(setup)
        log.info("demo ready", extra={"event": "demo_ready", "traders": list(setup.trader_ids)})
    yield


DOMAIN = Domain(name="demo", lifespan=_lifespan)
