"""The ledger row's JSON: isolated positions round-trip exactly, and a state stored before
margin modes existed still loads, with everything cross."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hyperoru.trading.codec import decode_state, encode_state
from hyperoru.trading.engine import (
    AccountState,
    MarginMode,
    Position,
    RestingOrder,
    Side,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
D = Decimal


def test_an_isolated_position_and_order_round_trip() -> None:
    state = AccountState(
        cash=D("8997.54955"),
        positions=(
            Position(
                "BTC",
                D("0.1"),
                D(50010),
                5,
                D(50000),
                T0,
                margin_mode=MarginMode.ISOLATED,
                isolated_margin=D("1000.2"),
            ),
        ),
        open_orders=(
            RestingOrder(
                "7", "ETH", Side.BUY, D(2900), D(1), 3, T0, margin_mode=MarginMode.ISOLATED
            ),
        ),
        last_fill_id=1,
    )
    assert decode_state(encode_state(state)) == state


def test_a_state_stored_before_margin_modes_loads_as_cross() -> None:
    stored = {
        "format": 1,
        "cash": "9995.5",
        "max_leverage": 10,
        "last_fill_id": 1,
        "funding_settled_at": None,
        "positions": [
            {
                "symbol": "BTC",
                "size": "0.1",
                "entry_price": "50010",
                "leverage": 5,
                "mark_price": "50000",
                "opened_at": T0.isoformat(),
            }
        ],
        "open_orders": [
            {
                "order_id": "7",
                "symbol": "ETH",
                "side": "buy",
                "price": "2900",
                "quantity": "1",
                "leverage": 3,
                "placed_at": T0.isoformat(),
                "filled_quantity": "0",
                "reduce_only": False,
                "time_in_force": "gtc",
                "client_order_id": None,
            }
        ],
        "triggers": [],
    }
    state = decode_state(stored)
    (position,) = state.positions
    assert (position.margin_mode, position.isolated_margin) == (MarginMode.CROSS, 0)
    assert state.open_orders[0].margin_mode is MarginMode.CROSS
    assert state.balance == D("9995.5")
