"""`POST /api/traders` and `PUT /api/traders/{id}/llm` (the ai-traders page, api map
§4.3.2) run the /api/account handlers: same answers, validation and ownership."""

from __future__ import annotations

from fastapi import FastAPI

from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error

GUIDE_CREATE = {
    "name": "BTC Momentum",
    "description": "Trend-following strategy for BTC perpetuals",
    "user_id": "your-user-id",  # server-owned: ignored, as on /api/account/
}
GUIDE_LLM = {
    "model": "gpt-4o",
    "api_key": "sk-your-api-key",
    "base_url": "https://api.openai.com/v1",
}


async def test_post_api_traders_creates_a_trader_like_post_api_account(api: Api) -> None:
    user, token = await api.user()
    response = await api.client.post("/api/traders", json=GUIDE_CREATE, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"] == created["account_id"] and created["user_id"] == user["id"]
    assert (created["name"], created["description"]) == (
        GUIDE_CREATE["name"],
        GUIDE_CREATE["description"],
    )
    reference = await create_trader(api, token, description=GUIDE_CREATE["description"])
    assert set(created) == set(reference)
    assert created["initial_capital"] == reference["initial_capital"] == 10000
    listed = await api.client.get("/api/account/list", headers=api.bearer(token))
    assert [t["id"] for t in listed.json()] == [created["id"], reference["id"]]
    slashed = await api.client.post("/api/traders/", json={"name": "x"}, headers=api.bearer(token))
    assert slashed.status_code == 201


async def test_post_api_traders_validates_and_authenticates_like_the_account_route(
    api: Api,
) -> None:
    _, token = await api.user()
    for path in ("/api/account/", "/api/traders"):
        missing = await api.client.post(
            path, json={"description": "no name"}, headers=api.bearer(token)
        )
        body = assert_error(missing, 400, "VALIDATION_ERROR")
        assert body["details"]["fields"][0]["field"] == "name"
        leverage = await api.client.post(
            path, json={"name": "x", "max_leverage": 60}, headers=api.bearer(token)
        )
        assert_error(leverage, 422, "LEVERAGE_TOO_HIGH")
        assert_error(await api.client.post(path, json={"name": "x"}), 401, "AUTH_REQUIRED")


async def test_put_llm_changes_the_model_settings_only(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, name="Keeps its name")
    path = f"/api/traders/{trader['id']}/llm"
    response = await api.client.put(
        path, json={**GUIDE_LLM, "name": "not an llm field"}, headers=api.bearer(token)
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["model"] == changed["llm_model"] == "gpt-4o"
    assert changed["base_url"] == changed["llm_base_url"] == "https://api.openai.com/v1"
    assert changed["has_api_key"] is True and changed["api_key_hint"] == "key"
    assert "api_key" not in changed and changed["name"] == "Keeps its name"
    again = await api.client.get(f"/api/account/{trader['id']}", headers=api.bearer(token))
    assert again.json()["model"] == "gpt-4o" and again.json()["has_api_key"] is True

    # The llm_* spelling works too, and a null key clears it, as on PUT /api/account/{id}.
    cleared = await api.client.put(
        path, json={"llm_model": "o3", "llm_api_key": None}, headers=api.bearer(token)
    )
    assert cleared.json()["model"] == "o3" and cleared.json()["has_api_key"] is False


async def test_put_llm_checks_ownership_and_urls_like_the_account_route(api: Api) -> None:
    _, token = await api.user()
    _, other = await api.user()
    theirs = await create_trader(api, other)
    forbidden = await api.client.put(
        f"/api/traders/{theirs['id']}/llm", json=GUIDE_LLM, headers=api.bearer(token)
    )
    assert_error(forbidden, 403, "FORBIDDEN")
    missing = await api.client.put(
        "/api/traders/999999/llm", json=GUIDE_LLM, headers=api.bearer(token)
    )
    assert_error(missing, 404, "ACCOUNT_NOT_FOUND")
    mine = await create_trader(api, token)
    private = await api.client.put(
        f"/api/traders/{mine['id']}/llm",
        json={"base_url": "http://127.0.0.1:9/v1"},
        headers=api.bearer(token),
    )
    assert_error(private, 422, "URL_NOT_ALLOWED")
    both = await api.client.put(
        f"/api/traders/{mine['id']}/llm",
        json={"model": "a", "llm_model": "b"},
        headers=api.bearer(token),
    )
    assert_error(both, 400, "VALIDATION_ERROR")


async def test_the_aliases_are_in_the_openapi_schema(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert "post" in paths["/api/traders"]
    operation = paths["/api/traders/{account_id}/llm"]["put"]
    assert operation["security"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/LlmFields")
