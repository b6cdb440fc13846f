"""Which failures are an outage of the database or Redis (a 503 to retry) and which are
bugs (a 500): real exception objects, as the drivers raise them."""

from __future__ import annotations

import sqlite3

from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

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
