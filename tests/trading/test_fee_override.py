"""Per-trader fee rates override the venue's base tier, each rate on its own."""

from __future__ import annotations

from tests.helpers import assert_error
from tests.trading.helpers import new_trader


async def test_taker_override_is_charged_and_reported(api) -> None:
    trader = await new_trader(api, taker_fee_rate=0.001)
    assert trader.account["taker_fee_rate"] == 0.001
    assert trader.account["maker_fee_rate"] is None
    order = (await trader.create(side="buy", quantity=0.1, leverage=2)).json()
    (fill,) = (await trader.execute(order["id"])).json()["fills"]
    # 0.1 BTC at 50010 (best ask of the scripted book) × 0.1% = 5.001
    assert (fill["price"], fill["fee"], fill["liquidity"]) == (50010, 5.001, "taker")


async def test_venue_rates_apply_without_override(api) -> None:
    trader = await new_trader(api)
    order = (await trader.create(side="buy", quantity=0.1, leverage=2)).json()
    (fill,) = (await trader.execute(order["id"])).json()["fills"]
    assert fill["fee"] == 2.25045  # Hyperliquid taker 0.045%


async def test_fee_rates_are_bounded(api) -> None:
    _, token = await api.user()
    for body in ({"taker_fee_rate": 0.5}, {"maker_fee_rate": -0.01}, {"taker_fee_rate": "x"}):
        response = await api.client.post(
            "/api/account/", json={"name": "fees", **body}, headers=api.bearer(token)
        )
        assert_error(response, 400, "VALIDATION_ERROR")
