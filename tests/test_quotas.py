"""Each user may keep a bounded number of each stored resource; past it, creation is
refused with the resource's code, and deleting one makes room again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from hyperoru.accounts import service as accounts
from hyperoru.programs import service as programs
from hyperoru.prompts import service as prompts
from hyperoru.signals import service as signals
from tests.helpers import Api, assert_error

PROGRAM = "class Strategy:\n    def should_trade(self, data):\n        return Decision('hold')\n"
SIGNAL = {"indicator": "rsi", "period": 14, "operator": "<", "threshold": 30}

# resource → (module, limit constant, collection path, body for the n-th one, code)
CASES: dict[str, tuple[Any, str, str, Callable[[int], dict[str, Any]], str]] = {
    "traders": (
        accounts,
        "MAX_TRADERS_PER_USER",
        "/api/account/",
        lambda n: {"name": f"trader {n}", "llm_provider": "builtin"},
        "ACCOUNT_LIMIT_REACHED",
    ),
    "prompts": (
        prompts,
        "MAX_TEMPLATES_PER_USER",
        "/api/prompts/",
        lambda n: {"name": f"prompt {n}", "content": "Decide on {symbols}."},
        "PROMPT_LIMIT_REACHED",
    ),
    "programs": (
        programs,
        "MAX_PROGRAMS_PER_USER",
        "/api/programs/",
        lambda n: {"name": f"program {n}", "code": PROGRAM},
        "PROGRAM_LIMIT_REACHED",
    ),
    "signals": (
        signals,
        "MAX_DEFINITIONS_PER_USER",
        "/api/signals/definitions",
        lambda n: {"name": f"signal {n}", "type": "threshold", "config": SIGNAL},
        "SIGNAL_LIMIT_REACHED",
    ),
}


@pytest.mark.parametrize("resource", sorted(CASES))
async def test_a_user_keeps_a_bounded_number_of_each_resource(
    api: Api, monkeypatch: pytest.MonkeyPatch, resource: str
) -> None:
    module, constant, path, body, code = CASES[resource]
    monkeypatch.setattr(module, constant, 2)
    _, token = await api.user()
    _, other = await api.user()
    made = []
    for n in range(2):
        response = await api.client.post(path, json=body(n), headers=api.bearer(token))
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    refused = await api.client.post(path, json=body(2), headers=api.bearer(token))
    assert "at most 2" in assert_error(refused, 422, code)["message"]
    # The cap is per user, and deleting one makes room again.
    assert (await api.client.post(path, json=body(0), headers=api.bearer(other))).status_code == 201
    deleted = await api.client.delete(f"{path.rstrip('/')}/{made[0]}", headers=api.bearer(token))
    assert deleted.status_code in (200, 204), deleted.text
    again = await api.client.post(path, json=body(3), headers=api.bearer(token))
    assert again.status_code == 201, again.text


async def test_pools_are_capped_too(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signals, "MAX_POOLS_PER_USER", 1)
    _, token = await api.user()
    definition = await api.client.post(
        "/api/signals/definitions", json=CASES["signals"][3](0), headers=api.bearer(token)
    )
    pool = {"name": "p", "signal_ids": [definition.json()["id"]], "symbols": ["BTC"]}
    first = await api.client.post("/api/signals/pools", json=pool, headers=api.bearer(token))
    assert first.status_code == 201, first.text
    second = await api.client.post("/api/signals/pools", json=pool, headers=api.bearer(token))
    assert_error(second, 422, "POOL_LIMIT_REACHED")


@pytest.mark.parametrize("resource", sorted(CASES))
async def test_simultaneous_creations_never_pass_the_cap(
    api: Api, monkeypatch: pytest.MonkeyPatch, resource: str
) -> None:
    module, constant, path, body, code = CASES[resource]
    monkeypatch.setattr(module, constant, 2)
    _, token = await api.user()
    responses = await asyncio.gather(
        *(api.client.post(path, json=body(n), headers=api.bearer(token)) for n in range(8))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 2 + [422] * 6, [r.text for r in responses]
    for response in responses:
        if response.status_code == 422:
            assert_error(response, 422, code)
