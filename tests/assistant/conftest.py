from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from hyperoru.settings import Settings
from tests.assistant.helpers import World, world
from tests.strategies.fake_llm import FakeLlm


@pytest.fixture
async def ai(make_settings: Callable[..., Settings], llm: FakeLlm) -> AsyncIterator[World]:
    async with world(make_settings, llm) as running_world:
        yield running_world
