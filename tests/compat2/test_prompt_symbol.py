"""The API reference's prompt example, ``"Analyze {{symbol}} momentum..."``, renders the
trader's symbol, and a placeholder that is no variable is shown to the user when the
template is saved and when it is previewed, never rendered empty."""

from __future__ import annotations

from typing import Any

from tests.accounts.helpers import create_trader
from tests.helpers import Api

DOCUMENTED_EXAMPLE = {"name": "Momentum Strategy", "content": "Analyze {{symbol}} momentum..."}


async def _post(api: Api, token: str, path: str, body: dict[str, Any], status: int) -> Any:
    response = await api.client.post(path, json=body, headers=api.bearer(token))
    assert response.status_code == status, response.text
    return response.json()


async def test_documented_double_brace_symbol_renders(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    prompt = await _post(api, token, "/api/prompts/", DOCUMENTED_EXAMPLE, 201)
    assert prompt["content"] == DOCUMENTED_EXAMPLE["content"]
    assert prompt["variables"] == ["symbol"] and prompt["unknown_variables"] == []

    one = await _post(
        api,
        token,
        "/api/prompts/preview",
        {"prompt_id": prompt["id"], "account_id": trader["id"], "symbols": ["BTC"]},
        200,
    )
    assert one["rendered"] == "Analyze BTC momentum..."
    assert one["variables_used"] == ["symbol"] and one["unknown_variables"] == []

    single_brace = await _post(
        api,
        token,
        "/api/prompts/preview",
        {"content": "Watch {symbol}.", "account_id": trader["id"], "symbols": ["ETH", "SOL"]},
        200,
    )
    assert single_brace["rendered"] == "Watch ETH, SOL."


async def test_unknown_placeholder_is_reported_and_kept_as_written(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    content = "Analyze {{symbl}} with {market_prices} and {{risk_budget}}"
    prompt = await _post(api, token, "/api/prompts/", {"name": "Typo", "content": content}, 201)
    assert prompt["variables"] == ["market_prices"]
    assert prompt["unknown_variables"] == ["symbl", "risk_budget"]
    # Every read of the template says the same, so the typo is seen before any cycle.
    fetched = await api.client.get(f"/api/prompts/{prompt['id']}", headers=api.bearer(token))
    assert fetched.json()["unknown_variables"] == ["symbl", "risk_budget"]
    updated = await api.client.put(
        f"/api/prompts/{prompt['id']}",
        json={"content": "Analyze {{symbol}}"},
        headers=api.bearer(token),
    )
    assert updated.json()["unknown_variables"] == []

    preview = await _post(
        api,
        token,
        "/api/prompts/preview",
        {"content": content, "account_id": trader["id"], "symbols": ["BTC"]},
        200,
    )
    assert preview["unknown_variables"] == ["symbl", "risk_budget"]
    assert "{{symbl}}" in preview["rendered"] and "{{risk_budget}}" in preview["rendered"]
    assert preview["rendered"].startswith("Analyze {{symbl}} with BTC: ")
