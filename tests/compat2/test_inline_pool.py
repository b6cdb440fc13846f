"""A signal pool created with inline ``signals: [...]`` (the signal-system guide's JSON)
creates the signals as the caller's definitions and links them, in one transaction; a bad
element is named and leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api, assert_error

# The guide's example, as written there.
GUIDE_POOL: dict[str, Any] = {
    "name": "Bullish Confluence",
    "logic": "and",
    "symbols": ["BTC", "ETH"],
    "signals": [
        {"indicator": "rsi", "period": 14, "operator": "<", "threshold": 35},
        {"indicator": "price", "operator": "crosses_above", "reference": "ema_50"},
        {"indicator": "volume", "operator": ">", "threshold": "2x_avg"},
    ],
}


async def _signals(api: Api, token: str) -> dict[str, Any]:
    response = await api.client.get("/api/signals/", headers=api.bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_guide_pool_with_inline_signals_is_created(api: Api) -> None:
    _, token = await api.user()
    _, other = await api.user()
    response = await api.client.post(
        "/api/signals/pools", json=GUIDE_POOL, headers=api.bearer(token)
    )
    assert response.status_code == 201, response.text
    pool = response.json()
    assert pool["signals_count"] == 3 and pool["logic"] == "and"
    assert pool["symbols"] == ["BTC", "ETH"]

    overview = await _signals(api, token)
    definitions = {d["id"]: d for d in overview["definitions"]}
    assert sorted(definitions) == sorted(pool["signal_ids"])
    rsi, cross, volume = (definitions[i] for i in pool["signal_ids"])
    assert rsi["type"] == "threshold" and rsi["config"]["threshold"] == 35
    assert rsi["name"] == "rsi_14 < 35 (1h)"
    assert cross["type"] == "crossover" and cross["config"]["reference"] == "ema_50"
    assert volume["type"] == "threshold" and volume["config"]["threshold"] == "2x_avg"
    assert {d["user_id"] for d in definitions.values()} == {pool["user_id"]}
    # Owned by the caller: another user sees none of them.
    assert await _signals(api, other) == {"definitions": [], "pools": []}
    foreign = await api.client.get(
        f"/api/signals/definitions/{pool['signal_ids'][0]}", headers=api.bearer(other)
    )
    assert_error(foreign, 403, "FORBIDDEN")


async def test_inline_and_existing_signals_mix_and_definition_form_works(api: Api) -> None:
    _, token = await api.user()
    existing = await api.client.post(
        "/api/signals/definitions",
        json={
            "name": "RSI oversold",
            "type": "threshold",
            "config": {"indicator": "rsi", "operator": "<", "threshold": 30},
        },
        headers=api.bearer(token),
    )
    body = {
        "name": "Mixed",
        "symbols": ["SOL"],
        "logic": "or",
        "signal_ids": [existing.json()["id"]],
        "signals": [
            {
                "name": "Engulfing",
                "type": "pattern",
                "config": {"pattern": "bullish_engulfing", "interval": "4h"},
            }
        ],
    }
    response = await api.client.post("/api/signals/pools", json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    pool = response.json()
    assert pool["signal_ids"][0] == existing.json()["id"] and pool["signals_count"] == 2
    names = [d["name"] for d in (await _signals(api, token))["definitions"]]
    assert names == ["RSI oversold", "Engulfing"]


@pytest.mark.parametrize(
    ("signals", "field"),
    [
        (
            [{"indicator": "rsi", "operator": "<", "threshold": 35}, {"indicator": "vibes"}],
            "signals.1.indicator",
        ),
        (
            [{"indicator": "rsi", "operator": "<", "threshold": 35}, {"indicator": "rsi"}],
            "signals.1.operator",
        ),
        ([{"indicator": "price", "operator": "~", "threshold": 1}], "signals.0.operator"),
        (
            [{"type": "threshold", "config": {"indicator": "rsi", "operator": "<"}}],
            "signals.0.config.threshold",
        ),
        ([{"indicator": "rsi", "operator": "<", "threshold": 3, "name": ""}], "signals.0.name"),
        (["rsi < 30"], "signals.0"),
    ],
)
async def test_bad_inline_signal_is_named_and_nothing_is_stored(
    api: Api, signals: list[Any], field: str
) -> None:
    _, token = await api.user()
    body = {"name": "Broken", "symbols": ["BTC"], "signals": signals}
    response = await api.client.post("/api/signals/pools", json=body, headers=api.bearer(token))
    error = assert_error(response, 400, "VALIDATION_ERROR")
    named = error["details"]["fields"][0]["field"]
    assert named.startswith("signals.") and field in named, error
    # The valid element before the bad one was not kept either.
    assert await _signals(api, token) == {"definitions": [], "pools": []}


async def test_a_pool_needs_some_signal(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.post(
        "/api/signals/pools", json={"name": "Empty", "symbols": ["BTC"]}, headers=api.bearer(token)
    )
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]["fields"][0]["field"] == "signal_ids"


async def test_update_with_inline_signals_replaces_the_pools_signals(api: Api) -> None:
    _, token = await api.user()
    created = await api.client.post(
        "/api/signals/pools", json=GUIDE_POOL, headers=api.bearer(token)
    )
    pool = created.json()
    body = {
        "signal_ids": pool["signal_ids"][:1],
        "signals": [{"indicator": "macd", "operator": "crosses_above", "reference": "macd_signal"}],
    }
    response = await api.client.put(
        f"/api/signals/pools/{pool['id']}", json=body, headers=api.bearer(token)
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["signals_count"] == 2
    assert updated["signal_ids"][0] == pool["signal_ids"][0]
    definitions = {d["id"]: d for d in (await _signals(api, token))["definitions"]}
    assert definitions[updated["signal_ids"][1]]["type"] == "crossover"
    assert definitions[updated["signal_ids"][1]]["name"] == "macd crosses_above macd_signal (1h)"

    bad = await api.client.put(
        f"/api/signals/pools/{pool['id']}",
        json={"signals": [{"indicator": "rsi", "operator": "<", "threshold": "low"}]},
        headers=api.bearer(token),
    )
    error = assert_error(bad, 400, "VALIDATION_ERROR")
    assert error["details"]["fields"][0]["field"] == "signals.0.threshold"
    after = await api.client.get(f"/api/signals/pools/{pool['id']}", headers=api.bearer(token))
    assert after.json()["signal_ids"] == updated["signal_ids"]
    assert len((await _signals(api, token))["definitions"]) == 4
