"""CPU-bound work off the event loop, on one small pool of worker threads per process.

The event loop answers every request of the process: a computation that holds it for
20 ms delays every waiting request by 20 ms, and a hundred traders deciding at once add
up. Indicator lines, regimes, prompt blocks over candle windows and simulated candles
therefore run through ``off_loop``. numpy releases the GIL inside its array kernels, so
that part runs beside the loop; the pure-Python parts still share the GIL, but the loop
gets it back every switch interval (5 ms) instead of waiting for the whole computation.

One bounded pool rather than ``asyncio.to_thread``: that uses the loop's default executor,
shared with DNS lookups and growing to 32 threads, while CPU work gains nothing from more
threads than cores. Hundreds of traders deciding at once queue here for ``CPU_WORKERS``
threads instead.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# At least two, so that one long computation does not hold up every other; at most four,
# since more threads than cores only make them wait for the GIL and each other.
CPU_WORKERS = max(2, min(4, os.cpu_count() or 1))
THREAD_PREFIX = "hyperoru-cpu"

_executor = ThreadPoolExecutor(max_workers=CPU_WORKERS, thread_name_prefix=THREAD_PREFIX)


async def off_loop(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` on a worker thread; the caller's context variables
    (request id, log fields) go with it, as with ``asyncio.to_thread``."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
    return await loop.run_in_executor(_executor, call)


def on_worker_thread() -> bool:
    """True inside ``off_loop``'s threads."""
    return threading.current_thread().name.startswith(THREAD_PREFIX)
