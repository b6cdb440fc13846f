"""Performance by market regime for a prompt trader on the simulated market: the regime
recorded with each decision is the one its prompt showed the model."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.app import create_app
from hyperoru.settings import Settings
from hyperoru.strategies.records import DecisionRecord
from tests.conftest import running
from tests.helpers import Api
from tests.strategies.fake_llm import FakeLlm, Reply, completion
from tests.trading.helpers import new_trader


@pytest.fixture
def settings(make_settings: Callable[..., Settings], llm: FakeLlm) -> Settings:
    return make_settings(llm_allowed_hosts=f"127.0.0.1:{llm.port}")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The default app on the simulated market (it has the candle history regimes need)."""
    application = create_app(settings)
    async with running(application):
        assert await application.state.services.market.cache.refresh()
        yield application


async def test_decisions_record_the_regime_their_prompt_showed(
    app: FastAPI, api: Api, llm: FakeLlm
) -> None:
    trader = await new_trader(
        api,
        llm_provider="openai",
        llm_model="fake-model-1",
        llm_base_url=llm.base_url,
        llm_api_key="sk-test-regimes-0123456789abcdef",
        max_leverage=5,
    )
    response = await api.client.put(
        f"/api/account/{trader.id}/strategy", json={"symbols": ["BTC"]}, headers=trader.headers
    )
    assert response.status_code == 200, response.text
    for decision in (
        {"operation": "long", "symbol": "BTC", "size_pct": 10},
        {"operation": "close", "symbol": "BTC"},
    ):
        llm.queue(Reply(body=completion(json.dumps({"decisions": [decision]}))))
        response = await api.client.post(
            f"/api/account/{trader.id}/trigger", headers=trader.headers
        )
        assert response.status_code == 200 and response.json()["executed"], response.text

    async with app.state.services.sessionmaker() as session:
        opening = await session.scalar(
            select(DecisionRecord)
            .where(DecisionRecord.account_id == trader.id)
            .order_by(DecisionRecord.id)
            .limit(1)
        )
    assert opening is not None and opening.context is not None
    assert "market_regime" in opening.context["variables"]
    shown = re.search(r"BTC: (\w+) \(trend efficiency", opening.rendered_prompt or "")
    assert shown is not None, "the default template shows the regime"
    assert opening.context["regimes"] == {"BTC": shown.group(1)}

    attribution = await trader.get("/api/analytics/ai-attribution", trader_id=trader.id, days=1)
    (row,) = attribution["regimes"]
    assert row["regime"] == shown.group(1) and row["decisions"] == 1
