"""The `hyperoru` command: serve, db upgrade, users …"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import ipaddress
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.auth import service as auth_service
from hyperoru.auth.session_changes import SessionChanges
from hyperoru.auth.token_cache import TokenCache
from hyperoru.db.engine import create_engine, create_sessionmaker
from hyperoru.db.migrate import upgrade_database
from hyperoru.errors import ApiError
from hyperoru.flows.sessions import announcer_for
from hyperoru.logging_setup import configure_logging
from hyperoru.realtime.bus import open_event_bus
from hyperoru.settings import Settings
from hyperoru.vault.cli import secrets_app

app = typer.Typer(help="Hyperoru server", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database maintenance", no_args_is_help=True)
users_app = typer.Typer(help="User administration", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(secrets_app, name="secrets")

log = logging.getLogger("hyperoru.cli")
T = TypeVar("T")


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


def _with_session(
    settings: Settings, work: Callable[[AsyncSession, SessionChanges], Awaitable[T]]
) -> T:
    """Run ``work`` in a session; session changes are announced to running servers over
    the event bus when Redis is configured (otherwise they see them within their cache
    TTL, HYPERORU_TOKEN_CACHE_SECONDS)."""

    async def run() -> T:
        engine = create_engine(settings)
        try:
            await upgrade_database(engine)
            async with open_event_bus(settings) as bus, create_sessionmaker(engine)() as session:
                return await work(session, SessionChanges(TokenCache(0), announcer_for(bus)))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a demo user with two builtin traders")
    ] = False,
) -> None:
    """Start the API server (and, in the embedded default, everything else)."""
    # Imported here so that the other commands start fast.
    import uvicorn

    from hyperoru.app import create_app
    from hyperoru.demo import url_for
    from hyperoru.realtime.limits import uvicorn_ws_options

    settings = _settings()
    if demo:
        settings = settings.model_copy(update={"demo": True, "demo_url": url_for(host, port)})
    if not _is_loopback(host):
        log.warning(
            "listening on a non-loopback address: put a TLS-terminating proxy in front",
            extra={"host": host},
        )
    proxies = list(settings.trusted_proxy_list)
    uvicorn.run(
        create_app(settings, freeze_after_startup=True),
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,
        **uvicorn_ws_options(),
    )


@app.command()
def worker() -> None:
    """Run only the trader runtime (the scaled shape: API processes set HYPERORU_RUNTIME=off)."""
    from hyperoru.app import create_app

    settings = _settings().model_copy(update={"runtime": "embedded"})
    application = create_app(settings, freeze_after_startup=True)

    async def run() -> None:
        async with application.router.lifespan_context(application):
            log.info("worker started", extra={"event": "worker_started"})
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = _settings()

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await upgrade_database(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    typer.echo("database is up to date")


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        typer.echo("passwords do not match", err=True)
        raise typer.Exit(1)
    return first


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Login name")],
    email: Annotated[str | None, typer.Option(help="Email address")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator")] = False,
) -> None:
    """Create a user; the password is read from a prompt or standard input."""
    settings = _settings()
    password = _read_password()

    async def work(session: AsyncSession, _changes: SessionChanges) -> int:
        user = await auth_service.register_user(
            session, username=username, email=email, password=password, is_admin=admin
        )
        return user.id

    try:
        user_id = _with_session(settings, work)
    except ApiError as exc:
        raise _fail(f"error: {exc.message} ({exc.code})") from None
    typer.echo(f"created user {username} (id {user_id}){' as admin' if admin else ''}")


@users_app.command("deactivate")
def users_deactivate(username: Annotated[str, typer.Argument(help="Username or email")]) -> None:
    """Deactivate a user: they cannot log in and their tokens stop working."""
    settings = _settings()

    async def work(session: AsyncSession, changes: SessionChanges) -> bool:
        user = await auth_service.find_user(session, username)
        if user is None:
            return False
        await auth_service.deactivate_user(session, user=user, changes=changes)
        return True

    if not _with_session(settings, work):
        raise _fail(f"no such user: {username}")
    typer.echo(f"deactivated {username}; all their sessions are revoked")


@users_app.command("revoke-sessions")
def users_revoke_sessions(
    username: Annotated[str | None, typer.Argument(help="Username or email")] = None,
    all_users: Annotated[bool, typer.Option("--all", help="Revoke every user's sessions")] = False,
) -> None:
    """End the sessions of one user, or of everyone with --all."""
    if (username is None) == (not all_users):
        raise _fail("name one user, or pass --all")
    settings = _settings()

    async def work(session: AsyncSession, changes: SessionChanges) -> int | None:
        if all_users:
            return await auth_service.revoke_all_sessions(session, user_id=None, changes=changes)
        user = await auth_service.find_user(session, username or "")
        if user is None:
            return None
        return await auth_service.revoke_all_sessions(session, user_id=user.id, changes=changes)

    count = _with_session(settings, work)
    if count is None:
        raise _fail(f"no such user: {username}")
    typer.echo(f"revoked {count} session(s)")


def main() -> None:
    app()
