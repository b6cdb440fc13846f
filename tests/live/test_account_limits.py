"""The live risk limits are account fields a client sets and clears like the others."""

from __future__ import annotations

from tests.helpers import Api, assert_error
from tests.trading.helpers import new_trader


async def test_limits_are_set_shown_and_cleared(api: Api) -> None:
    trader = await new_trader(api)
    assert trader.account["flatten_on_daily_loss"] is False
    assert trader.account["max_daily_loss"] is None
    limits = {
        "max_order_notional": 500, "max_daily_loss": "250.5",
        "allowed_symbols": ["BTC", "ETH"], "flatten_on_daily_loss": True,
    }  # fmt: skip
    response = await api.client.put(
        f"/api/account/{trader.id}", json=limits, headers=trader.headers
    )
    assert response.status_code == 200, response.text
    shown = await trader.get(f"/api/account/{trader.id}")
    shown = shown.get("account", shown)
    assert (shown["max_order_notional"], shown["max_daily_loss"]) == (500, 250.5)
    assert (shown["allowed_symbols"], shown["flatten_on_daily_loss"]) == (["BTC", "ETH"], True)
    cleared = {"max_order_notional": None, "max_daily_loss": None, "allowed_symbols": None}
    response = await api.client.put(
        f"/api/account/{trader.id}", json=cleared, headers=trader.headers
    )
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["max_order_notional"] is None and shown["allowed_symbols"] is None
    assert shown["flatten_on_daily_loss"] is True  # null leaves a switch as it is
    bad = await api.client.put(
        f"/api/account/{trader.id}", json={"max_daily_loss": -1}, headers=trader.headers
    )
    assert_error(bad, 400, "VALIDATION_ERROR")
