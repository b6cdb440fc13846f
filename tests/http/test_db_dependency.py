"""The request's database session (``hyperoru.http.dependencies.get_db``): a session the
route used is closed, its connection back in the pool and its objects detached; one the
route never touched is dropped without a close (it holds nothing)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from sqlalchemy import inspect, text

from hyperoru.auth.models import User
from hyperoru.http.dependencies import get_db


def _request(app: FastAPI) -> Any:
    return SimpleNamespace(app=app)


async def _run(app: FastAPI, use) -> Any:
    dependency = get_db(_request(app))
    session = await anext(dependency)
    kept = await use(session)
    await dependency.aclose()
    return session, kept


async def test_a_session_that_read_gives_its_connection_back(app: FastAPI) -> None:
    async def read(session):
        connection = await session.connection()
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1
        return connection

    session, connection = await _run(app, read)
    assert connection.closed  # back in the pool
    assert not session.in_transaction()


async def test_an_added_object_is_detached_when_the_request_ends(app: FastAPI) -> None:
    async def add(session):
        user = User(username="never-flushed", password_hash="x")
        session.add(user)
        return user

    session, user = await _run(app, add)
    assert inspect(user).detached or inspect(user).transient
    assert user not in session


async def test_an_untouched_session_is_left_as_it_was(app: FastAPI) -> None:
    async def nothing(session):
        return None

    session, _ = await _run(app, nothing)
    assert not session.in_transaction()
    assert not session.new and not session.identity_map
    # Not closed, and never needed to be: it can still be used like a fresh one.
    assert (await session.execute(text("SELECT 1"))).scalar() == 1
    await session.close()
