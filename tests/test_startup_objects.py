"""A process that runs one app until it exits (``hyperoru serve``, ``worker``) moves what
exists after start-up out of the garbage collector's reach (full collections stalled
requests for 50-100 ms: bench/README.md); an app built without asking, as in the test
suite, leaves the collector alone."""

from __future__ import annotations

import gc

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.conftest import running


async def test_a_serving_process_freezes_its_startup_objects(settings: Settings) -> None:
    before = gc.get_freeze_count()
    app = create_app(settings, freeze_after_startup=True)
    async with running(app):
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0


async def test_an_app_built_by_default_leaves_the_collector_alone(settings: Settings) -> None:
    gc.unfreeze()
    app = create_app(settings)
    async with running(app):
        assert gc.get_freeze_count() == 0
