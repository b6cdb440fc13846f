"""Binance's answers into our types: every error code we act on, orders, algo orders, trades."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from hyperoru.exchanges.binance.parsing import (
    algo_order_state,
    fill,
    is_unknown_order,
    order_state,
    retry_after_seconds,
    venue_error,
)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, -1021, "VENUE_TIMESTAMP"),
        (400, -1022, "VENUE_AUTH"),
        (401, -2014, "VENUE_AUTH"),
        (401, -2015, "VENUE_AUTH"),
        (400, -2019, "VENUE_INSUFFICIENT_MARGIN"),
        (400, -4164, "VENUE_MIN_NOTIONAL"),
        (400, -1111, "VENUE_PRECISION"),
        (400, -4014, "VENUE_PRECISION"),
        (400, -4023, "VENUE_PRECISION"),
        (400, -2022, "VENUE_REDUCE_ONLY"),
        (400, -2021, "VENUE_WOULD_TRIGGER"),
        (400, -5022, "VENUE_WOULD_TRIGGER"),
        (400, -5021, "VENUE_NO_LIQUIDITY"),
        (400, -4120, "VENUE_REJECTED"),
        (400, -4116, "VENUE_REJECTED"),
        (400, -2011, "VENUE_REJECTED"),
        (403, -9999, "VENUE_AUTH"),
        (400, -1003, "VENUE_RATE_LIMITED"),
    ],
)
def test_error_codes(status: int, code: int, expected: str) -> None:
    error = venue_error(status, {"code": code, "msg": "text"})
    assert error.code == expected
    assert error.venue_code == code
    assert str(code) in error.message


@pytest.mark.parametrize("status", [429, 418])
def test_rate_limits_carry_retry_after(status: int) -> None:
    error = venue_error(status, {"code": -1003, "msg": "Too many requests"}, retry_after=7.0)
    assert (error.code, error.retry_after) == ("VENUE_RATE_LIMITED", 7.0)


def test_retry_after_only_for_rate_limits_and_parsed_safely() -> None:
    assert venue_error(400, {"code": -2019, "msg": ""}, retry_after=7.0).retry_after is None
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_bodies_without_a_code() -> None:
    assert venue_error(502, "<html>").code == "VENUE_UNAVAILABLE"
    assert venue_error(400, {"msg": "?"}).code == "VENUE_UNAVAILABLE"


def test_unknown_order_codes() -> None:
    assert is_unknown_order(venue_error(400, {"code": -2013, "msg": "Order does not exist."}))
    assert is_unknown_order(venue_error(400, {"code": -2011, "msg": "Unknown order sent."}))
    assert not is_unknown_order(venue_error(400, {"code": -2019, "msg": ""}))


ORDER = {
    "orderId": 22542179,
    "symbol": "BTCUSDT",
    "status": "PARTIALLY_FILLED",
    "clientOrderId": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "price": "60000.0",
    "avgPrice": "59990.00000",
    "origQty": "0.010",
    "executedQty": "0.004",
    "cumQuote": "239.96",
    "timeInForce": "GTC",
    "type": "LIMIT",
    "origType": "LIMIT",
    "reduceOnly": False,
    "side": "BUY",
    "stopPrice": "0",
    "updateTime": 1767225600000,
}


def test_order_state() -> None:
    state = order_state(ORDER)
    assert state.venue_order_id == "22542179"
    assert state.client_order_id == ORDER["clientOrderId"]
    assert (state.symbol, state.side, state.status) == ("BTC", "buy", "partially_filled")
    assert (state.quantity, state.filled_quantity) == (D("0.010"), D("0.004"))
    assert (state.average_price, state.price) == (D("59990"), D("60000"))
    assert state.updated_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert state.trigger is None


@pytest.mark.parametrize(
    ("status", "ours"),
    [
        ("NEW", "open"),
        ("FILLED", "filled"),
        ("CANCELED", "canceled"),
        ("REJECTED", "rejected"),
        ("EXPIRED", "canceled"),
        ("EXPIRED_IN_MATCH", "canceled"),
    ],
)
def test_order_statuses(status: str, ours: str) -> None:
    assert order_state({**ORDER, "status": status}).status == ours


def test_unfilled_order_has_no_average_price() -> None:
    state = order_state({**ORDER, "status": "NEW", "executedQty": "0", "avgPrice": "0.00000"})
    assert state.average_price is None


ALGO = {
    "algoId": 2146760,
    "clientAlgoId": "aa11",
    "algoType": "CONDITIONAL",
    "orderType": "TAKE_PROFIT_MARKET",
    "symbol": "ETHUSDT",
    "side": "SELL",
    "quantity": "0.5",
    "algoStatus": "NEW",
    "triggerPrice": "3500.00",
    "price": "0",
    "reduceOnly": True,
    "updateTime": 1767225600000,
}


def test_algo_order_state() -> None:
    state = algo_order_state(ALGO)
    assert state.venue_order_id == "algo:2146760"
    assert (state.symbol, state.side, state.status, state.reduce_only) == (
        "ETH",
        "sell",
        "open",
        True,
    )
    assert state.trigger is not None
    assert (state.trigger.kind, state.trigger.trigger_price) == ("tp", D("3500"))
    assert state.price is None
    stop = algo_order_state({**ALGO, "orderType": "STOP_MARKET"})
    assert stop.trigger is not None and stop.trigger.kind == "sl"


@pytest.mark.parametrize(
    ("fields", "status", "filled"),
    [
        ({"algoStatus": "FINISHED", "executedQty": "0.5", "avgPrice": "3501"}, "filled", "0.5"),
        ({"algoStatus": "FINISHED", "executedQty": "0"}, "canceled", "0"),
        ({"algoStatus": "FINISHED"}, "filled", "0.5"),
        ({"algoStatus": "TRIGGERED", "executedQty": "0"}, "open", "0"),
        ({"algoStatus": "TRIGGERED", "executedQty": "0.2"}, "partially_filled", "0.2"),
        ({"algoStatus": "CANCELED"}, "canceled", "0"),
        ({"algoStatus": "EXPIRED"}, "canceled", "0"),
        ({"algoStatus": "REJECTED"}, "rejected", "0"),
    ],
)
def test_algo_statuses(fields: dict, status: str, filled: str) -> None:
    state = algo_order_state({**ALGO, **fields})
    assert (state.status, state.filled_quantity) == (status, D(filled))


def test_fill() -> None:
    trade = {
        "buyer": False,
        "commission": "0.03",
        "commissionAsset": "USDT",
        "id": 698759,
        "maker": True,
        "orderId": 25851813,
        "price": "60000",
        "qty": "0.001",
        "quoteQty": "60",
        "realizedPnl": "1.5",
        "side": "SELL",
        "symbol": "BTCUSDT",
        "time": 1767225600000,
    }
    result = fill(trade, "abc")
    assert result.venue_fill_id == "BTCUSDT-698759"
    assert (result.venue_order_id, result.client_order_id) == ("25851813", "abc")
    assert (result.side, result.liquidity, result.fee, result.realized_pnl) == (
        "sell",
        "maker",
        D("0.03"),
        D("1.5"),
    )
