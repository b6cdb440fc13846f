"""/api/account: create, list, update, delete, overviews, both field spellings."""

from __future__ import annotations

from decimal import Decimal

from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error

ACCOUNT_FIELDS = {
    "id", "account_id", "user_id", "name", "description", "account_type", "model",
    "llm_model", "llm_provider", "base_url", "llm_base_url", "has_api_key", "api_key_hint",
    "initial_capital", "current_cash", "frozen_cash", "equity", "is_active", "status",
    "status_reason", "auto_trading_enabled", "show_on_dashboard", "execution_mode",
    "exchange", "hyperliquid_enabled", "hyperliquid_environment", "default_leverage",
    "max_leverage", "max_position_notional", "max_open_positions", "avatar_preset_id",
    "taker_fee_rate", "maker_fee_rate", "margin_mode",
    "max_order_notional", "max_daily_loss", "allowed_symbols", "flatten_on_daily_loss",
    "created_at", "updated_at",
}  # fmt: skip


async def test_new_user_has_no_traders_and_no_default_overview(api: Api) -> None:
    _, token = await api.user()
    listed = await api.client.get("/api/account/list", headers=api.bearer(token))
    assert listed.status_code == 200 and listed.json() == []
    overview = await api.client.get("/api/account/overview", headers=api.bearer(token))
    assert_error(overview, 404, "ACCOUNT_NOT_FOUND")


async def test_create_with_llm_fields_returns_the_whole_object(api: Api) -> None:
    user, token = await api.user()
    created = await api.client.post(
        "/api/account/",
        json={
            "name": "BTC Trend Trader",
            "description": "Trend-following strategy for BTC perpetuals",
            "llm_provider": "openai",
            "llm_model": "gpt-4o",
            "llm_api_key": "sk-test-0123456789abcdWXYZ",
        },
        headers=api.bearer(token),
    )
    assert created.status_code == 201, created.text
    trader = created.json()
    assert set(trader) == ACCOUNT_FIELDS
    assert trader["id"] == trader["account_id"] and trader["user_id"] == user["id"]
    assert trader["model"] == trader["llm_model"] == "gpt-4o"
    assert trader["base_url"] == trader["llm_base_url"] == "https://api.openai.com/v1"
    assert trader["has_api_key"] is True and trader["api_key_hint"] == "WXYZ"
    assert "sk-test" not in created.text
    assert trader["initial_capital"] == trader["current_cash"] == trader["equity"] == 10000
    assert trader["frozen_cash"] == 0
    assert trader["account_type"] == "prompt" and trader["status"] == "active"
    assert trader["execution_mode"] == "paper" and trader["exchange"] == "hyperliquid"
    assert (trader["default_leverage"], trader["max_leverage"]) == (1, 10)
    assert trader["is_active"] is True and trader["show_on_dashboard"] is True
    assert trader["created_at"].endswith("Z")


async def test_create_with_short_spelling(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(
        api,
        token,
        name="BTC Scalper",
        model="claude-sonnet-4-20250514",
        base_url="https://8.8.8.8/v1",
        api_key="abc",
        initial_capital=5000,
    )
    assert trader["llm_model"] == "claude-sonnet-4-20250514"
    assert trader["llm_base_url"] == "https://8.8.8.8/v1"
    assert trader["llm_provider"] is None
    assert trader["has_api_key"] is True and trader["api_key_hint"] is None  # too short
    assert trader["initial_capital"] == trader["current_cash"] == 5000


async def test_conflicting_spellings_are_refused(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.post(
        "/api/account/",
        json={"name": "x", "model": "gpt-4o", "llm_model": "gpt-4o-mini"},
        headers=api.bearer(token),
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_known_providers_get_their_default_base_url(api: Api) -> None:
    _, token = await api.user()
    expected = {
        "anthropic": "https://api.anthropic.com/v1",
        "google": "https://generativelanguage.googleapis.com/v1beta",
        "deepseek": "https://api.deepseek.com/v1",
        "ollama": "http://localhost:11434/v1",
        "builtin": None,
        "my-gateway": None,
    }
    for provider, url in expected.items():
        trader = await create_trader(api, token, llm_provider=provider, llm_model="m")
        assert trader["base_url"] == url, provider


async def test_list_hides_hidden_traders_unless_asked_and_paginates(api: Api) -> None:
    _, token = await api.user()
    first = await create_trader(api, token, name="one")
    hidden = await create_trader(api, token, name="two", show_on_dashboard=False)
    third = await create_trader(api, token, name="three")
    headers = api.bearer(token)

    visible = (await api.client.get("/api/account/list", headers=headers)).json()
    assert [t["id"] for t in visible] == [first["id"], third["id"]]
    everything = await api.client.get(
        "/api/account/list", params={"include_hidden": "true"}, headers=headers
    )
    assert [t["id"] for t in everything.json()] == [first["id"], hidden["id"], third["id"]]

    page = await api.client.get(
        "/api/account/list",
        params={"include_hidden": "true", "limit": 1, "offset": 1},
        headers=headers,
    )
    assert [t["id"] for t in page.json()] == [hidden["id"]]
    page = await api.client.get(
        "/api/account/list",
        params={"include_hidden": "true", "page": 2, "per_page": 2},
        headers=headers,
    )
    assert [t["id"] for t in page.json()] == [third["id"]]
    too_big = await api.client.get("/api/account/list", params={"limit": 1001}, headers=headers)
    assert_error(too_big, 400, "VALIDATION_ERROR")


async def test_list_shows_only_the_callers_traders(api: Api) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    await create_trader(api, alice, name="alice's")
    listed = await api.client.get("/api/account/list", headers=api.bearer(bob))
    assert listed.json() == []


async def test_update_changes_sent_fields_only(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, llm_provider="openai", llm_model="gpt-4o")
    response = await api.client.put(
        f"/api/account/{trader['id']}",
        json={"name": "BTC Scalper v2", "model": "claude-sonnet-4-20250514", "max_leverage": 20},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "BTC Scalper v2"
    assert updated["model"] == updated["llm_model"] == "claude-sonnet-4-20250514"
    assert updated["max_leverage"] == 20 and updated["default_leverage"] == 1
    assert updated["llm_provider"] == "openai" and updated["description"] is None
    assert updated["updated_at"] >= trader["updated_at"]


async def test_server_owned_fields_cannot_be_set(api: Api) -> None:
    _, alice = await api.user()
    bob_user, _ = await api.user()
    trader = await create_trader(api, alice)
    forged = {
        "user_id": bob_user["id"],
        "current_cash": 1e9,
        "frozen_cash": 5,
        "equity": 1e9,
        "status": "error",
        "created_at": "2000-01-01T00:00:00Z",
        "id": 999,
        "has_api_key": True,
        "api_key_hint": "abcd",
    }
    created = await api.client.post(
        "/api/account/", json={"name": "forged", **forged}, headers=api.bearer(alice)
    )
    updated = await api.client.put(
        f"/api/account/{trader['id']}", json=forged, headers=api.bearer(alice)
    )
    for body in (created.json(), updated.json()):
        assert body["user_id"] != bob_user["id"]
        assert body["current_cash"] == body["equity"] == 10000 and body["frozen_cash"] == 0
        assert body["status"] == "active" and body["is_active"] is True
        assert body["has_api_key"] is False and body["api_key_hint"] is None
        assert not body["created_at"].startswith("2000")
    assert updated.json()["id"] == trader["id"]


async def test_pausing_and_resuming_moves_the_status(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    url, headers = f"/api/account/{trader['id']}", api.bearer(token)
    paused = await api.client.put(url, json={"auto_trading_enabled": False}, headers=headers)
    assert paused.json()["status"] == "paused"
    resumed = await api.client.put(url, json={"auto_trading_enabled": True}, headers=headers)
    assert resumed.json()["status"] == "active"


async def test_initial_capital_change_resets_cash_before_any_trade(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    response = await api.client.put(
        f"/api/account/{trader['id']}",
        json={"initial_capital": "2500.5"},
        headers=api.bearer(token),
    )
    body = response.json()
    assert body["initial_capital"] == body["current_cash"] == body["equity"] == 2500.5


async def test_soft_delete_then_404_everywhere(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    keep = await create_trader(api, token, name="keep")
    url, headers = f"/api/account/{trader['id']}", api.bearer(token)
    deleted = await api.client.delete(url, headers=headers)
    assert deleted.status_code == 204 and deleted.content == b""
    for method, path in [
        ("GET", url),
        ("PUT", url),
        ("DELETE", url),
        ("GET", f"{url}/overview"),
        ("GET", f"{url}/strategy"),
        ("PUT", f"{url}/strategy"),
    ]:
        body = {} if method == "PUT" else None
        response = await api.client.request(method, path, json=body, headers=headers)
        assert_error(response, 404, "ACCOUNT_NOT_FOUND")
    listed = await api.client.get(
        "/api/account/list", params={"include_hidden": True}, headers=headers
    )
    assert [t["id"] for t in listed.json()] == [keep["id"]]


async def test_overviews_share_one_shape(api: Api) -> None:
    _, token = await api.user()
    paused = await create_trader(api, token, name="paused", auto_trading_enabled=False)
    running = await create_trader(api, token, name="running", initial_capital=1234.5)
    headers = api.bearer(token)

    default = await api.client.get("/api/account/overview", headers=headers)
    assert default.status_code == 200
    body = default.json()
    assert body["id"] == body["account"]["id"] == running["id"]  # first *running* trader
    assert body["name"] == "running" and body["trading_enabled"] is True
    assert body["total_trades"] == 0 and body["positions_value"] == 0
    assert body["total_assets"] == body["equity"] == 1234.5

    one = await api.client.get(f"/api/account/{paused['id']}/overview", headers=headers)
    assert one.json()["account"]["id"] == paused["id"]
    assert one.json()["trading_enabled"] is False
    assert set(one.json()) == set(body)


async def test_money_stays_exact(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, initial_capital=0.1, max_position_notional="0.3")
    assert trader["initial_capital"] == 0.1 and trader["max_position_notional"] == 0.3
    assert Decimal(str(trader["current_cash"])) == Decimal("0.1")


async def test_is_active_pauses_and_resumes_the_trader(api: Api) -> None:
    # Contract §10: a trader the runtime paused is resumed by updating is_active.
    _, token = await api.user()
    trader = await create_trader(api, token)
    url = f"/api/account/{trader['id']}"
    stopped = await api.client.put(url, json={"is_active": False}, headers=api.bearer(token))
    assert stopped.json()["is_active"] is False and stopped.json()["status"] == "paused"
    resumed = await api.client.put(url, json={"is_active": True}, headers=api.bearer(token))
    assert resumed.json()["is_active"] is True and resumed.json()["status"] == "active"
    assert resumed.json()["status_reason"] is None
