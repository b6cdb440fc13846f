"""Every answer shape of Hyperliquid parsed, and its error texts mapped to our codes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hyperoru.exchanges.hyperliquid.parsing import (
    Filled,
    MalformedReply,
    Resting,
    Waiting,
    account_of,
    cancel_outcomes,
    error_code_for,
    fill_of,
    funding_of,
    http_error,
    open_order_state,
    order_outcomes,
    order_status_state,
)
from hyperoru.exchanges.venue import Trigger, VenueError

CLOID = "0x" + "ab" * 16
T0 = 1_767_225_600_000
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _orders(*statuses: object) -> dict[str, object]:
    return {"status": "ok", "response": {"type": "order", "data": {"statuses": list(statuses)}}}


def test_every_per_order_status_is_read_in_request_order() -> None:
    outcomes = order_outcomes(
        _orders(
            {"resting": {"oid": 77738308}},
            {"filled": {"totalSz": "0.02", "avgPx": "1891.4", "oid": 77747314}},
            {"error": "Order must have minimum value of $10."},
            "waitingForFill",
            "waitingForTrigger",
        )
    )
    assert outcomes[:2] == [
        Resting(77738308),
        Filled(77747314, Decimal("0.02"), Decimal("1891.4")),
    ]
    assert isinstance(outcomes[2], VenueError) and outcomes[2].code == "VENUE_MIN_NOTIONAL"
    assert outcomes[3:] == [Waiting("waitingForFill"), Waiting("waitingForTrigger")]


def test_a_whole_request_failure_raises_with_its_text() -> None:
    body = {"status": "err", "response": "User or API Wallet 0xafa5 does not exist."}
    with pytest.raises(VenueError) as raised:
        order_outcomes(body)
    assert raised.value.code == "VENUE_AUTH"
    assert "0xafa5" in raised.value.message
    with pytest.raises(VenueError) as nonce:
        order_outcomes(
            {"status": "err", "response": "Invalid nonce: duplicate nonce 1741107452532"}
        )
    assert nonce.value.code == "VENUE_TIMESTAMP"


@pytest.mark.parametrize(
    "body",
    [None, [], {"status": "ok"}, {"status": "ok", "response": {"type": "order"}}, _orders(42)],
)
def test_answers_that_are_not_the_venues_are_malformed(body: object) -> None:
    with pytest.raises(MalformedReply):
        order_outcomes(body)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Insufficient margin to place order. asset=4", "VENUE_INSUFFICIENT_MARGIN"),
        ("Order must have minimum value of $10.", "VENUE_MIN_NOTIONAL"),
        ("Price must be divisible by tick size. asset=1", "VENUE_PRECISION"),
        ("Order has invalid size.", "VENUE_PRECISION"),
        ("Reduce only order would increase position.", "VENUE_REDUCE_ONLY"),
        ("Post only order would have immediately matched, bbo was 1.2@1.3", "VENUE_WOULD_TRIGGER"),
        ("Invalid TP/SL price. asset=1", "VENUE_WOULD_TRIGGER"),
        ("Order could not immediately match against any resting orders.", "VENUE_NO_LIQUIDITY"),
        ("No liquidity available for market order.", "VENUE_NO_LIQUIDITY"),
        ("User or API Wallet 0x1234 does not exist.", "VENUE_AUTH"),
        ("Invalid nonce: duplicate nonce 1", "VENUE_TIMESTAMP"),
        ("Open interest is at cap.", "VENUE_REJECTED"),
    ],
)
def test_documented_error_texts_map_to_our_codes(text: str, code: str) -> None:
    assert error_code_for(text) == code


def test_http_errors() -> None:
    limited = http_error(429, "", "7")
    assert limited.code == "VENUE_RATE_LIMITED" and limited.retry_after == 7.0
    assert http_error(429, "", None).retry_after is None
    malformed = http_error(422, "Failed to deserialize the JSON body into the target type", None)
    assert malformed.code == "VENUE_REJECTED" and "deserialize" in malformed.message


def test_cancel_statuses() -> None:
    body = {
        "status": "ok",
        "response": {
            "type": "cancel",
            "data": {
                "statuses": [
                    "success",
                    {"error": "Order was never placed, already canceled, or filled."},
                ]
            },
        },
    }
    first, second = cancel_outcomes(body)
    assert first is None
    assert isinstance(second, VenueError) and "never placed" in second.message


def _order(**changes: object) -> dict[str, object]:
    order: dict[str, object] = {
        "coin": "ETH",
        "side": "A",
        "limitPx": "2412.7",
        "sz": "0.0",
        "oid": 1,
        "timestamp": T0,
        "triggerCondition": "N/A",
        "isTrigger": False,
        "triggerPx": "0.0",
        "children": [],
        "isPositionTpsl": False,
        "reduceOnly": True,
        "orderType": "Market",
        "origSz": "0.0076",
        "tif": "FrontendMarket",
        "cloid": CLOID,
    }
    return order | changes


def _status(status: str, **changes: object) -> dict[str, object]:
    return {
        "status": "order",
        "order": {"order": _order(**changes), "status": status, "statusTimestamp": T0 + 5},
    }


def test_order_status_shapes() -> None:
    assert order_status_state({"status": "unknownOid"}) is None
    filled = order_status_state(_status("filled"))
    assert filled is not None
    assert (filled.status, filled.filled_quantity, filled.quantity) == (
        "filled",
        Decimal("0.0076"),
        Decimal("0.0076"),
    )
    assert filled.client_order_id == "ab" * 16
    assert filled.side == "sell" and filled.reduce_only
    assert filled.updated_at == datetime.fromtimestamp((T0 + 5) / 1000, UTC)
    partly = order_status_state(_status("open", sz="0.005"))
    assert partly is not None and partly.status == "partially_filled"
    assert partly.filled_quantity == Decimal("0.0026")
    resting = order_status_state(_status("open", sz="0.0076"))
    assert resting is not None and resting.status == "open" and resting.reason is None
    for venue_status, ours in [
        ("canceled", "canceled"),
        ("marginCanceled", "canceled"),
        ("scheduledCancel", "canceled"),
        ("siblingFilledCanceled", "canceled"),
        ("rejected", "rejected"),
        ("perpMarginRejected", "rejected"),
        ("triggered", "open"),
    ]:
        state = order_status_state(_status(venue_status, sz="0.0076"))
        assert state is not None and state.status == ours, venue_status
        assert state.reason == venue_status
    with pytest.raises(MalformedReply):
        order_status_state({"status": "order"})


def test_open_trigger_orders_carry_their_trigger() -> None:
    state = open_order_state(
        _order(isTrigger=True, triggerPx="2600", orderType="Take Profit Market", sz="0.0076")
    )
    assert state.trigger == Trigger(kind="tp", trigger_price=Decimal(2600))
    stop = open_order_state(_order(isTrigger=True, triggerPx="2000", orderType="Stop Market"))
    assert stop.trigger == Trigger(kind="sl", trigger_price=Decimal(2000))
    foreign = open_order_state(_order(cloid=None))
    assert foreign.client_order_id is None


def test_fills() -> None:
    fill = fill_of(
        {
            "coin": "AVAX",
            "px": "18.435",
            "sz": "93.53",
            "side": "B",
            "time": T0,
            "startPosition": "26.86",
            "dir": "Open Long",
            "closedPnl": "0.0",
            "hash": "0xa166e3fa63c25663024b03f2e0da011a00307e4017465df020210d3d432e7cb8",
            "oid": 90542681,
            "crossed": False,
            "fee": "-0.01",
            "tid": 118906512037719,
            "feeToken": "USDC",
        }
    )
    assert fill.venue_fill_id == "118906512037719" and fill.venue_order_id == "90542681"
    assert fill.side == "buy" and fill.liquidity == "maker"
    assert fill.fee == Decimal("-0.01")  # a maker rebate: negative = received
    assert fill.client_order_id is None and not fill.is_liquidation
    assert fill.time == NOW
    liquidated = fill_of(
        {
            "coin": "ETH", "px": "1", "sz": "1", "side": "A", "time": T0, "closedPnl": "-5",
            "oid": 1, "crossed": True, "fee": "0.1", "tid": 2, "cloid": CLOID,
            "liquidation": {"markPx": "1", "method": "market"},
        }
    )  # fmt: skip
    assert liquidated.is_liquidation and liquidated.liquidity == "taker"
    assert liquidated.realized_pnl == Decimal(-5) and liquidated.client_order_id == "ab" * 16


def test_funding() -> None:
    payment = funding_of(
        {
            "delta": {
                "coin": "ETH",
                "fundingRate": "0.0000125",
                "szi": "-1.5",
                "type": "funding",
                "usdc": "0.0375",
            },
            "hash": "0x0",
            "time": T0,
        }
    )
    assert (payment.symbol, payment.position_size, payment.rate, payment.payment) == (
        "ETH",
        Decimal("-1.5"),
        Decimal("0.0000125"),
        Decimal("0.0375"),
    )


def test_clearinghouse_state() -> None:
    state = {
        "assetPositions": [
            {
                "position": {
                    "coin": "ETH",
                    "cumFunding": {"allTime": "514.08", "sinceChange": "0.0", "sinceOpen": "0.0"},
                    "entryPx": "2986.3",
                    "leverage": {"rawUsd": "-95.06", "type": "isolated", "value": 20},
                    "liquidationPx": "2866.26936529",
                    "marginUsed": "4.96",
                    "maxLeverage": 50,
                    "positionValue": "100.02",
                    "returnOnEquity": "-0.0026",
                    "szi": "0.0335",
                    "unrealizedPnl": "-0.0134",
                },
                "type": "oneWay",
            },
            {
                "position": {
                    "coin": "BTC", "entryPx": "1", "szi": "0.0", "unrealizedPnl": "0",
                    "marginUsed": "0", "leverage": {"type": "cross", "value": 3},
                },
                "type": "oneWay",
            },
        ],
        "crossMaintenanceMarginUsed": "0.0",
        "crossMarginSummary": {"accountValue": "13104.51", "totalMarginUsed": "0.0",
                               "totalNtlPos": "0.0", "totalRawUsd": "13104.51"},
        "marginSummary": {"accountValue": "13109.48", "totalMarginUsed": "4.96",
                          "totalNtlPos": "100.02", "totalRawUsd": "13009.46"},
        "time": T0,
        "withdrawable": "13104.51",
    }  # fmt: skip
    account = account_of(state, taken_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert account.equity == Decimal("13109.48")
    assert account.available == Decimal("13104.51")
    assert account.margin_used == Decimal("4.96")
    assert account.taken_at == NOW
    (eth,) = account.positions  # a flat position is not a position
    assert eth.size == Decimal("0.0335") and eth.isolated and eth.leverage == 20
    assert eth.liquidation_price == Decimal("2866.26936529")
    assert eth.mark_price == Decimal("100.02") / Decimal("0.0335")
    assert account.unrealized_pnl == Decimal("-0.0134")
    with pytest.raises(MalformedReply):
        account_of({"assetPositions": []}, taken_at=NOW)
