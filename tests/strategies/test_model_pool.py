"""The model client shared by every trader of a process: at most
``llm_max_connections_per_host`` calls wait on one host at once (the rest queue inside
their own deadline), so a slow provider cannot take the whole pool; another host is not
held up by it. Real servers on loopback."""

from __future__ import annotations

import asyncio

from hyperoru.net.policy import AllowedHosts, OutboundGuard
from hyperoru.net.resolver import SystemResolver
from hyperoru.settings import Settings
from hyperoru.strategies.llm.factory import llm_http_client
from tests.strategies.fake_llm import HOLD, fake_llm


async def test_calls_to_one_host_are_capped_and_other_hosts_are_not_held_up() -> None:
    async with fake_llm() as slow, fake_llm() as other:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, llm_max_connections=50, llm_max_connections_per_host=3
        )
        guard = OutboundGuard(
            AllowedHosts.parse([f"127.0.0.1:{slow.port}", f"127.0.0.1:{other.port}"]),
            SystemResolver(),
        )
        release, three_waiting = asyncio.Event(), asyncio.Event()

        async def hold_until_released(_: object) -> None:
            if len(slow.requests) == 3:
                three_waiting.set()
            await asyncio.wait_for(release.wait(), 60)

        slow.on_request = hold_until_released
        async with llm_http_client(guard, settings) as http:
            calls = [
                asyncio.create_task(http.post(f"{slow.base_url}/chat/completions", json={}))
                for _ in range(8)
            ]
            await asyncio.wait_for(three_waiting.wait(), 30)
            # The slow host has its three: the other host answers meanwhile.
            answer = await asyncio.wait_for(
                http.post(f"{other.base_url}/chat/completions", json={}), 30
            )
            assert answer.json() == HOLD
            assert len(slow.requests) == 3
            release.set()
            answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [200] * 8
    assert slow.most_in_flight == 3
