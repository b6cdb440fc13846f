"""POST /api/prompts/preview: live variables on the simulated market, both placeholder
syntaxes, injection-looking text kept and reported, lazy computation, ownership."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from hyperoru.market.models import StoredCandle
from hyperoru.strategies.variables import OUTPUT_FORMAT, VARIABLE_NAMES
from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error


async def _preview(api: Api, token: str, **body: Any) -> dict[str, Any]:
    response = await api.client.post("/api/prompts/preview", json=body, headers=api.bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def _stored_candles(app: FastAPI, interval: str) -> int:
    async with app.state.services.sessionmaker() as session:
        query = (
            select(func.count()).select_from(StoredCandle).where(StoredCandle.interval == interval)
        )
        return int(await session.scalar(query) or 0)


async def test_every_variable_renders_with_live_data(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, max_leverage=7, max_open_positions=3)
    template = "\n".join(f"<{name}>\n{{{name}}}" for name in VARIABLE_NAMES)
    result = await _preview(
        api, token, content=template, account_id=trader["id"], symbols=["btc", "ETH"]
    )
    assert result["variables_used"] == list(VARIABLE_NAMES)
    assert result["unknown_variables"] == []
    rendered = result["rendered"]
    assert "{" + "market_prices}" not in rendered

    def section(name: str) -> str:
        start = rendered.index(f"<{name}>\n") + len(name) + 3
        following = [rendered.find("\n<", start)]
        return rendered[start : following[0] if following[0] != -1 else None]

    assert section("market_prices").startswith("BTC: ")
    assert "\nETH: " in section("market_prices")
    assert "RSI14 " in section("technical_indicators")
    assert "n/a" not in section("technical_indicators")  # 200 hourly bars: no warm-up left
    assert section("market_regime").split(": ", 1)[1].split(" ", 1)[0] in {
        "trending_up",
        "trending_down",
        "ranging",
        "volatile",
        "calm",
    }
    assert section("kline_data").count("\n") >= 24
    assert "1m closes" in section("sampling_data")
    assert section("max_leverage") == "7"
    assert section("symbols") == "BTC, ETH"
    assert section("current_time_utc").endswith("Z")
    assert "Equity: 10000.00 USD" in section("account_state")
    assert "max open positions 3" in section("account_state")
    assert section("open_positions") == "No open positions."
    assert section("recent_trades") == "No trades yet."
    assert section("trigger_context") == "Trigger: preview"
    assert section("news_context") == ""
    assert OUTPUT_FORMAT in rendered


async def test_both_syntaxes_and_injection_text_stay_literal(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, max_leverage=5)
    template = (
        "{max_leverage} {{max_leverage}} {market_prices.__class__} {{7*7}} "
        '{x.__class__.__init__.__globals__} {unknown} {"operation": "long"}'
    )
    result = await _preview(api, token, content=template, account_id=trader["id"])
    assert result["rendered"] == (
        "5 5 {market_prices.__class__} {{7*7}} {x.__class__.__init__.__globals__} "
        '{unknown} {"operation": "long"}'
    )
    assert result["variables_used"] == ["max_leverage"]
    assert result["unknown_variables"] == [
        "market_prices.__class__",
        "7*7",
        "x.__class__.__init__.__globals__",
        "unknown",
    ]


async def test_only_used_variables_are_computed(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    cheap = await _preview(
        api,
        token,
        content="{symbols} {market_prices} {account_state}",
        account_id=trader["id"],
        symbols=["BTC"],
    )
    assert cheap["variables_used"] == ["symbols", "market_prices", "account_state"]
    # Candles are stored when first read: none were, so no candle variable was computed.
    assert await _stored_candles(app, "1h") == 0
    assert await _stored_candles(app, "1m") == 0

    await _preview(
        api, token, content="{technical_indicators}", account_id=trader["id"], symbols=["BTC"]
    )
    assert await _stored_candles(app, "1h") > 0
    assert await _stored_candles(app, "1m") == 0


async def test_builtin_template_by_id_and_default_symbols(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    strategy = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["SOL"]},
        headers=api.bearer(token),
    )
    assert strategy.status_code == 200, strategy.text
    listed = (await api.client.get("/api/prompts/", headers=api.bearer(token))).json()
    risk_averse = next(p for p in listed if p["system_key"] == "risk_averse")
    result = await _preview(api, token, prompt_id=risk_averse["id"], account_id=trader["id"])
    assert result["unknown_variables"] == []
    assert "- Symbols: SOL\n" in result["rendered"]
    assert "SOL: " in result["rendered"]


async def test_ownership_of_trader_and_template(api: Api) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    alice_trader = await create_trader(api, alice)
    bob_trader = await create_trader(api, bob)
    alice_prompt = await api.client.post(
        "/api/prompts/", json={"name": "mine", "content": "{symbols}"}, headers=api.bearer(alice)
    )
    prompt_id = alice_prompt.json()["id"]

    def post(token: str, **body: Any) -> Any:
        return api.client.post("/api/prompts/preview", json=body, headers=api.bearer(token))

    assert_error(await post(bob, content="x", account_id=alice_trader["id"]), 403, "FORBIDDEN")
    assert_error(await post(bob, content="x", account_id=2_000_000_000), 404, "ACCOUNT_NOT_FOUND")
    deleted = await create_trader(api, bob)
    await api.client.delete(f"/api/account/{deleted['id']}", headers=api.bearer(bob))
    assert_error(await post(bob, content="x", account_id=deleted["id"]), 404, "ACCOUNT_NOT_FOUND")
    assert_error(
        await post(bob, prompt_id=prompt_id, account_id=bob_trader["id"]), 403, "FORBIDDEN"
    )
    assert_error(
        await post(bob, prompt_id=2_000_000_000, account_id=bob_trader["id"]),
        404,
        "PROMPT_NOT_FOUND",
    )
    mine = await post(alice, prompt_id=prompt_id, account_id=alice_trader["id"])
    assert mine.status_code == 200, mine.text


async def test_preview_validation(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    for body in (
        {"account_id": trader["id"]},
        {"content": "x"},
        {"content": "x", "prompt_id": 1, "account_id": trader["id"]},
        {"content": "x", "account_id": trader["id"], "symbols": ["BTC-PERP!"]},
        {"content": "x", "account_id": trader["id"], "symbols": ["BTC"] * 21},
    ):
        response = await api.client.post(
            "/api/prompts/preview", json=body, headers=api.bearer(token)
        )
        assert_error(response, 400, "VALIDATION_ERROR")
    unknown = await api.client.post(
        "/api/prompts/preview",
        json={"content": "{market_prices}", "account_id": trader["id"], "symbols": ["NOPE"]},
        headers=api.bearer(token),
    )
    body = assert_error(unknown, 422, "UNKNOWN_SYMBOL")
    assert body["details"] == {"symbols": ["NOPE"]}
