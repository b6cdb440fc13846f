"""DecisionInputs on a running app (simulated market): the catalogue, shared reads, the
trigger context, and the structured context the builtin model decides from."""

from __future__ import annotations

from fastapi import FastAPI

from hyperoru.accounts.models import Account
from hyperoru.prompts.builtin_templates import BUILTIN_TEMPLATES
from hyperoru.strategies.decision import parse_model_output
from hyperoru.strategies.llm.base import LlmRequest
from hyperoru.strategies.llm.builtin import BuiltinModel
from hyperoru.strategies.template import render
from hyperoru.strategies.variables import (
    INDICATOR_BARS,
    DecisionInputs,
    TriggerInfo,
)
from tests.accounts.helpers import create_trader
from tests.helpers import Api


async def _inputs(app: FastAPI, api: Api, trigger: TriggerInfo | None = None) -> DecisionInputs:
    _, token = await api.user()
    trader = await create_trader(api, token, default_leverage=2, max_leverage=4)
    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, trader["id"])
    assert account is not None
    return DecisionInputs(
        account=account,
        symbols=["BTC", "ETH", "BTC"],
        market=app.state.services.market,
        sessionmaker=app.state.services.sessionmaker,
        trigger=trigger,
    )


async def test_builtin_templates_render_completely(app: FastAPI, api: Api) -> None:
    inputs = await _inputs(app, api)
    for builtin in BUILTIN_TEMPLATES:
        rendered = await render(builtin.content, inputs.catalogue())
        assert rendered.unknown_variables == ()
        assert "{" + "symbols}" not in rendered.rendered
        assert "Trade only these symbols: BTC, ETH." in rendered.rendered or (
            "- Symbols: BTC, ETH" in rendered.rendered
        )


async def test_market_reads_are_shared_within_a_cycle(app: FastAPI, api: Api) -> None:
    inputs = await _inputs(app, api)
    first = await inputs.candles("BTC", "1h")
    await render("{technical_indicators} {market_regime} {kline_data}", inputs.catalogue())
    assert await inputs.candles("BTC", "1h") is first
    assert INDICATOR_BARS - 1 <= len(first) <= INDICATOR_BARS + 1
    assert await inputs.price("ETH") is await inputs.price("ETH")


async def test_signal_trigger_context(app: FastAPI, api: Api) -> None:
    trigger = TriggerInfo(
        kind="signal",
        signal_pool_id=4,
        signal_pool_name="RSI dip",
        values={"BTC": {"rsi": 28.4}},
    )
    inputs = await _inputs(app, api, trigger)
    rendered = await render("{trigger_context}", inputs.catalogue())
    assert rendered.rendered == (
        'Trigger: signal\nSignal pool: 4 (RSI dip)\nSignal values: {"BTC": {"rsi": 28.4}}'
    )


async def test_builtin_model_decides_from_the_context(app: FastAPI, api: Api) -> None:
    inputs = await _inputs(app, api)
    context = await inputs.model_context()
    assert [f.symbol for f in context.symbols] == ["BTC", "ETH"]
    assert (context.default_leverage, context.max_leverage, context.open_positions) == (2, 4, 0)
    for facts in context.symbols:
        assert facts.price is not None and facts.price > 0
        assert len(facts.closes_1h) >= INDICATOR_BARS - 1
    prompt = await render(BUILTIN_TEMPLATES[0].content, inputs.catalogue())
    response = await BuiltinModel().complete(LlmRequest(prompt=prompt.rendered, context=context))
    decisions = parse_model_output(response.text)
    assert [d.symbol for d in decisions] == ["BTC", "ETH"]
    for decision in decisions:
        assert decision.operation in {"long", "short", "hold"}
        if decision.operation != "hold":
            assert decision.leverage == 2
