"""`hyperoru users …`: user administration for the operator (no login needed)."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.auth import service as auth_service
from hyperoru.auth.models import User
from hyperoru.auth.session_changes import SessionChanges
from hyperoru.cli.common import fail, load_settings, out, with_session
from hyperoru.errors import ApiError
from hyperoru.timeutils import isoformat_z

users_app = typer.Typer(help="User administration", no_args_is_help=True)


def _read_password(*, from_stdin: bool) -> str:
    """From standard input (one line) when asked to or when it is not a terminal, else
    from a hidden prompt, typed twice."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        fail("passwords do not match")
    return first


_PASSWORD_STDIN = typer.Option(
    "--password-stdin", help="Read the password from standard input (one line)"
)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Login name", show_default=False)],
    email: Annotated[str | None, typer.Option(help="Email address", show_default=False)] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator")] = False,
    password_stdin: Annotated[bool, _PASSWORD_STDIN] = False,
) -> None:
    """Create a user; the password is read from a hidden prompt or standard input."""
    settings = load_settings()
    password = _read_password(from_stdin=password_stdin)

    async def work(session: AsyncSession, _changes: SessionChanges) -> int:
        user = await auth_service.register_user(
            session, username=username, email=email, password=password, is_admin=admin
        )
        return user.id

    try:
        user_id = with_session(settings, work)
    except ApiError as exc:
        fail(f"{exc.message} ({exc.code})")
    out.print(f"created user {username} (id {user_id}){' as admin' if admin else ''}")


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on standard output")] = (
        False
    ),
) -> None:
    """Every user: id, username, email, administrator, active, created."""
    settings = load_settings()

    async def work(session: AsyncSession, _changes: SessionChanges) -> list[User]:
        return await auth_service.all_users(session)

    users = with_session(settings, work)
    if as_json:
        rows = [
            {
                "id": u.id,
                "username": u.username,
                "email": u.email,
                "is_admin": u.is_admin,
                "is_active": u.is_active,
                "created_at": isoformat_z(u.created_at),
            }
            for u in users
        ]
        typer.echo(json.dumps(rows))
        return
    if not users:
        out.print("no users yet: create one with `hyperoru users create --username NAME`")
        return
    table = Table("id", "username", "email", "admin", "active", "created")
    for u in users:
        table.add_row(
            str(u.id),
            u.username,
            u.email or "",
            "yes" if u.is_admin else "",
            "yes" if u.is_active else "no",
            isoformat_z(u.created_at),
        )
    out.print(table)


@users_app.command("set-password")
def users_set_password(
    username: Annotated[str, typer.Argument(help="Username or email", show_default=False)],
    password_stdin: Annotated[bool, _PASSWORD_STDIN] = False,
) -> None:
    """Set a user's password (a forgotten one, the demo user's); their sessions end."""
    settings = load_settings()
    password = _read_password(from_stdin=password_stdin)

    async def work(session: AsyncSession, changes: SessionChanges) -> int | None:
        user = await auth_service.find_user(session, username)
        if user is None:
            return None
        return await auth_service.set_password(
            session, user=user, password=password, changes=changes
        )

    try:
        revoked = with_session(settings, work)
    except ApiError as exc:
        fail(f"{exc.message} ({exc.code})")
    if revoked is None:
        fail(f"no such user: {username}")
    out.print(f"password set for {username}; {revoked} session(s) ended")


@users_app.command("deactivate")
def users_deactivate(
    username: Annotated[str, typer.Argument(help="Username or email", show_default=False)],
) -> None:
    """Deactivate a user: they cannot log in and their tokens stop working."""
    settings = load_settings()

    async def work(session: AsyncSession, changes: SessionChanges) -> bool:
        user = await auth_service.find_user(session, username)
        if user is None:
            return False
        await auth_service.deactivate_user(session, user=user, changes=changes)
        return True

    if not with_session(settings, work):
        fail(f"no such user: {username}")
    out.print(f"deactivated {username}; all their sessions are revoked")


@users_app.command("revoke-sessions")
def users_revoke_sessions(
    username: Annotated[
        str | None, typer.Argument(help="Username or email", show_default=False)
    ] = None,
    all_users: Annotated[bool, typer.Option("--all", help="Revoke every user's sessions")] = False,
) -> None:
    """End the sessions of one user, or of everyone with --all."""
    if (username is None) == (not all_users):
        fail("name one user, or pass --all")
    settings = load_settings()

    async def work(session: AsyncSession, changes: SessionChanges) -> int | None:
        if all_users:
            return await auth_service.revoke_all_sessions(session, user_id=None, changes=changes)
        user = await auth_service.find_user(session, username or "")
        if user is None:
            return None
        return await auth_service.revoke_all_sessions(session, user_id=user.id, changes=changes)

    count = with_session(settings, work)
    if count is None:
        fail(f"no such user: {username}")
    out.print(f"revoked {count} session(s)")
