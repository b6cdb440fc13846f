"""Whether a cycle may still place its orders, as seen by whoever started it.

The runtime starts a scheduled cycle under its lease on the trader and wraps it in
``placing_only_while(check)``. Should another worker take the trader over while the cycle
is still thinking (this worker's loop stalled, or it could not reach the database to renew
its lease), the other worker runs that cycle again; the pipeline asks ``ensure_still_ours``
under the trader's book lock, just before placing orders, so the superseded cycle stops
there and two workers never both trade for one trader. Cycles started by a request or a
signal carry no check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession

StillOurs = Callable[[AsyncSession], Awaitable[bool]]

_check: ContextVar[StillOurs | None] = ContextVar("hyperoru_cycle_guard", default=None)


class TraderTakenOver(Exception):
    """Another worker holds the trader now and runs this cycle again: stop, place nothing,
    record nothing."""


@contextmanager
def placing_only_while(check: StillOurs) -> Iterator[None]:
    token = _check.set(check)
    try:
        yield
    finally:
        _check.reset(token)


async def ensure_still_ours(session: AsyncSession) -> None:
    """Raise ``TraderTakenOver`` when the enclosing cycle's starter no longer holds it."""
    check = _check.get()
    if check is not None and not await check(session):
        raise TraderTakenOver
