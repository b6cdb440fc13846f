"""Validation of trader fields: shapes (400) and business rules (422)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error

BAD_SHAPES: list[dict[str, Any]] = [
    {"name": ""},
    {"name": "   "},
    {"name": "x" * 65},
    {"name": "two\nlines"},
    {"initial_capital": 0},
    {"initial_capital": -5},
    {"initial_capital": 1_000_000_001},
    {"initial_capital": "1e999999999"},
    {"initial_capital": "NaN"},
    {"initial_capital": 0.000000001},
    {"default_leverage": 0},
    {"max_open_positions": 10**40},
    {"account_type": "manual"},
    {"exchange": "ftx"},
    {"llm_provider": "Not A Provider!"},
]


async def test_name_of_64_characters_and_capital_of_a_billion_are_fine(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, name="n" * 64, initial_capital=10**9)
    assert len(trader["name"]) == 64 and trader["initial_capital"] == 10**9


async def test_leverage_rules_are_422(api: Api) -> None:
    _, token = await api.user()
    for fields in (
        {"default_leverage": 20, "max_leverage": 10},
        {"max_leverage": 51},
        {"default_leverage": 11},  # above the default max of 10
        {"max_leverage": 10**30},
    ):
        response = await api.client.post(
            "/api/account/", json={"name": "x", **fields}, headers=api.bearer(token)
        )
        assert_error(response, 422, "LEVERAGE_TOO_HIGH")


async def test_leverage_update_is_checked_against_stored_values(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, default_leverage=5, max_leverage=50)
    url, headers = f"/api/account/{trader['id']}", api.bearer(token)
    lowered = await api.client.put(url, json={"max_leverage": 4}, headers=headers)
    assert_error(lowered, 422, "LEVERAGE_TOO_HIGH")
    fine = await api.client.put(url, json={"default_leverage": 50}, headers=headers)
    assert fine.status_code == 200 and fine.json()["default_leverage"] == 50


async def test_a_trader_is_never_created_live(api: Api) -> None:
    # Live needs credentials, which only an existing trader can have (tests/accounts/
    # test_live_gate.py covers the switch); without the operator's flag: 403.
    _, token = await api.user()
    response = await api.client.post(
        "/api/account/", json={"name": "x", "execution_mode": "live"}, headers=api.bearer(token)
    )
    assert_error(response, 403, "LIVE_TRADING_DISABLED")


REFUSED_URLS = [
    "ftp://api.example.com/v1",
    "file:///etc/passwd",
    "data:,x",
    "gopher://x",
    "not a url",
    "http://127.0.0.1:8080/",
    "http://localhost:11434/v1",
    "https://localhost./v1",
    "https://foo.localhost/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.100.100.200/",
    "https://192.0.0.192/",
    "https://10.1.2.3/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[fd00:ec2::254]/",
    "https://[fe80::1]/",
    "https://2130706433/",
    "https://0x7f.1/",
    "https://127.1/",
    "https://api.openai.com@127.0.0.1/",
    "https://127.0.0.1#@api.openai.com/",
]


async def test_bad_shapes_are_400(api: Api) -> None:
    _, token = await api.user()
    for fields in BAD_SHAPES:
        body = {"name": "ok", **fields}
        response = await api.client.post("/api/account/", json=body, headers=api.bearer(token))
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_nul_in_any_text_is_refused_before_the_route(api: Api) -> None:
    _, token = await api.user()
    for fields in ({"name": "bad\x00name"}, {"description": "nul\x00byte"}):
        body = {"name": "ok", **fields}
        response = await api.client.post("/api/account/", json=body, headers=api.bearer(token))
        assert_error(response, 400, "INVALID_JSON")
    assert (await api.client.get("/api/account/list", headers=api.bearer(token))).json() == []


async def test_base_urls_outside_the_policy_are_422(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    for url in REFUSED_URLS:
        for spelling in ("base_url", "llm_base_url"):
            response = await api.client.post(
                "/api/account/", json={"name": "x", spelling: url}, headers=api.bearer(token)
            )
            assert_error(response, 422, "URL_NOT_ALLOWED")
        response = await api.client.put(
            f"/api/account/{trader['id']}", json={"base_url": url}, headers=api.bearer(token)
        )
        assert_error(response, 422, "URL_NOT_ALLOWED")


async def test_unresolvable_host_is_accepted_at_save_time(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, base_url="https://llm.gateway.invalid/v1")
    assert trader["base_url"] == "https://llm.gateway.invalid/v1"


async def test_operator_allowlist_admits_a_local_llm(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(llm_allowed_hosts="localhost:11434, 10.0.0.7")
    application = create_app(settings)
    async with running(application), asgi_client(application) as client:
        api = Api(client)
        _, token = await api.user()
        for url in ("http://localhost:11434/v1", "https://10.0.0.7:8443/v1"):
            trader = await create_trader(api, token, llm_provider="ollama", base_url=url)
            assert trader["base_url"] == url
        other_port = await client.post(
            "/api/account/",
            json={"name": "x", "base_url": "http://localhost:8080/v1"},
            headers=api.bearer(token),
        )
        assert_error(other_port, 422, "URL_NOT_ALLOWED")
