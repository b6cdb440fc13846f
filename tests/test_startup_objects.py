"""The app moves what exists after start-up out of the garbage collector's reach while it
runs (full collections stalled requests for 50-100 ms: bench/README.md) and gives it back
at shutdown, so a process that starts many apps still frees them."""

from __future__ import annotations

import gc

from asgi_lifespan import LifespanManager

from hyperoru.app import create_app
from hyperoru.settings import Settings


async def test_startup_objects_are_frozen_while_the_app_runs(settings: Settings) -> None:
    gc.unfreeze()
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
