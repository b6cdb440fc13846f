"""Which failures are an outage of the database or Redis (a 503 to retry) and which are
bugs (a 500): real exception objects, as the drivers raise them."""

from __future__ import annotations

import sqlite3

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError, OperationalError

from hyperoru.errors import unreachable_service


def _sqlite(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


def test_a_busy_sqlite_is_an_outage_but_a_missing_table_is_a_bug() -> None:
    assert unreachable_service(_sqlite("database is locked")) == "database"
    assert unreachable_service(_sqlite("no such table: accounts")) is None
    assert unreachable_service(ValueError("bad")) is None


def test_the_outage_is_found_through_the_chain_and_a_cycle_ends() -> None:
    try:
        try:
            raise RedisConnectionError("Connection closed by server.")
        except RedisConnectionError as exc:
            raise RuntimeError("rate limit check failed") from exc
    except RuntimeError as wrapped:
        assert unreachable_service(wrapped) == "redis"
    first, second = ValueError("a"), KeyError("b")
    first.__context__, second.__context__ = second, first
    assert unreachable_service(first) is None


def _postgres(error: Exception) -> DBAPIError:
    """What SQLAlchemy raises for an asyncpg error: a plain DBAPIError for the errors its
    dialect does not map (the connection is not marked invalid)."""
    adapted = AsyncAdapt_asyncpg_dbapi.Error(str(error), error)
    return DBAPIError.instance("SELECT 1", {}, adapted, AsyncAdapt_asyncpg_dbapi.Error)


def test_a_restarting_postgresql_is_an_outage_but_a_bad_query_is_a_bug() -> None:
    # What a request met while PostgreSQL restarted in the soak run (bench/README.md):
    # these answered 500 before the SQLSTATE classes were read.
    starting = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    assert unreachable_service(_postgres(starting)) == "database"
    shutdown = asyncpg.exceptions.AdminShutdownError("terminating connection")
    assert unreachable_service(_postgres(shutdown)) == "database"
    too_many = asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already")
    assert unreachable_service(_postgres(too_many)) == "database"
    assert unreachable_service(starting) == "database"  # raw, as a connect raises it
    bad = asyncpg.exceptions.UndefinedColumnError('column "nope" does not exist')
    assert unreachable_service(_postgres(bad)) is None


def test_a_connection_reset_while_connecting_to_postgresql_is_an_outage() -> None:
    # What opening a connection met while PostgreSQL shut down mid-handshake in the soak
    # (an order answered 500): asyncpg's socket error, passed on unwrapped by SQLAlchemy.
    reset = ConnectionResetError(104, "Connection reset by peer")
    assert unreachable_service(reset) == "database"
    assert unreachable_service(ConnectionRefusedError(111, "Connection refused")) == "database"
