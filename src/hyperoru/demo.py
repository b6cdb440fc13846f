"""`hyperoru serve --demo`: a demo user with two builtin-model traders on the simulated
market, trading from the first minutes and on and on, so a newcomer sees decisions, fills
and equity move.

The traders use the builtin model's demo rules (``DEMO_MODEL_NAME``: trend and RSI on
minute closes, small sizes, tight stop-loss and take-profit), so positions open, close and
reopen within minutes while leverage stays at 2 (at most 3) and each entry risks a tenth
of the free balance.

The password is random and printed once, when the user is created; it is never stored in
clear and never fixed in code. It goes to stdout in a block of its own, apart from the
JSON log on stderr.
"""

from __future__ import annotations

import ipaddress
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
from hyperoru.strategies.llm.builtin import DEMO_MODEL_NAME

log = logging.getLogger("hyperoru.demo")

DEMO_USERNAME = "demo"
# Each trader watches different coins so that at least one of them usually finds a trend.
DEMO_TRADERS = (
    ("Demo trend trader (BTC, ETH)", ["BTC", "ETH"]),
    ("Demo trend trader (SOL, DOGE, XRP)", ["SOL", "DOGE", "XRP"]),
)
DEMO_INTERVAL_SECONDS = 30
DEMO_DEFAULT_LEVERAGE = 2
DEMO_MAX_LEVERAGE = 3


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
                name=name,
                llm_provider="builtin",
                llm_model=DEMO_MODEL_NAME,
                max_leverage=DEMO_MAX_LEVERAGE,
                default_leverage=DEMO_DEFAULT_LEVERAGE,
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


def url_for(host: str, port: int) -> str:
    """The address a browser on this machine uses for a server listening on host:port."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host or '127.0.0.1'}:{port}"  # a name such as localhost
    if address.is_unspecified:
        return f"http://127.0.0.1:{port}"  # listening everywhere includes loopback
    return f"http://[{host}]:{port}" if address.version == 6 else f"http://{host}:{port}"


def announcement(setup: DemoSetup, url: str | None) -> str:
    """The block the terminal shows: one fact per line, fenced off from the log."""
    lines = ["", "=" * 60, "Hyperoru demo"]
    if url:
        lines.append("  Open this address in a browser and sign in as the demo user:")
        lines.append(f"  URL:      {url}")
    lines.append(f"  username: {setup.username}")
    if setup.password is None:
        lines += [
            "  password: (shown once, when the user was created)",
            f"  lost it? hyperoru users set-password {setup.username}",
        ]
    else:
        lines += [
            f"  password: {setup.password}",
            "  This password is shown only now. API clients: POST /api/users/login",
            '  {"username": "demo", "password": "..."}',
        ]
    lines += ["=" * 60, ""]
    return "\n".join(lines)


def _announce(setup: DemoSetup, url: str | None) -> None:
    # The terminal, not the log: the password must not end up in log files.
    print(announcement(setup, url), file=sys.stdout, flush=True)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = app.state.services
    if services.settings.demo:
        async with services.sessionmaker() as session:
            setup = await ensure_demo(app, session)
        _announce(setup, services.settings.demo_url or None)
        log.info("demo ready", extra={"event": "demo_ready", "traders": list(setup.trader_ids)})
    yield


DOMAIN = Domain(name="demo", lifespan=_lifespan)
