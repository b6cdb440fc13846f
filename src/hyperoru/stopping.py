"""Stopping background tasks without losing a cancel meant for the one that stops them.

``task.cancel()`` then ``with suppress(CancelledError): await task`` drops the task's own
CancelledError, as intended, but also the caller's: a shutdown that is itself cancelled
(a lifespan limit, a second Ctrl-C) carries on as if nothing happened. ``asyncio.wait``
waits without raising what the tasks raised, so only a cancel of the caller propagates.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Task[Any] | asyncio.Future[Any]) -> None:
    """Cancel ``tasks`` and wait until every one has finished. A task that ended with an
    error other than its cancel raises it here (the first one), as ``await task`` would."""
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            task.result()
