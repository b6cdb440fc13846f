"""Binance answers turned into our types: ``{code, msg}`` errors into ``VenueError``,
order and algo-order JSON into ``VenueOrderState``, trades, income and account readings.

Pure functions over decoded JSON; the client decides what to ask and when.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hyperoru.exchanges.binance.rules import symbol_of
from hyperoru.exchanges.venue import (
    Side,
    SymbolRules,
    Trigger,
    VenueError,
    VenueErrorCode,
    VenueFill,
    VenueFunding,
    VenueOrderState,
    VenueOrderStatus,
    VenuePosition,
)

# The venue's codes that mean "no such order": -2011 when cancelling, -2013 when asking.
UNKNOWN_ORDER_CODES = frozenset({-2011, -2013})
# "No need to change margin type.": the account already has the margin type asked for.
MARGIN_TYPE_UNCHANGED = -4046
TIMESTAMP_OUTSIDE_WINDOW = -1021
# A conditional order's venue id: algo ids and order ids are separate number spaces.
ALGO_ID_PREFIX = "algo:"
# A funding income entry is stamped a moment after the funding time it settles.
FUNDING_MATCH_MS = 60_000

_CODES: dict[int, VenueErrorCode] = {
    -1021: "VENUE_TIMESTAMP",
    -1022: "VENUE_AUTH",
    -2014: "VENUE_AUTH",
    -2015: "VENUE_AUTH",
    -1002: "VENUE_AUTH",  # "You are not authorized to execute this request."
    -1003: "VENUE_RATE_LIMITED",
    -1015: "VENUE_RATE_LIMITED",  # too many new orders
    -2019: "VENUE_INSUFFICIENT_MARGIN",
    -2018: "VENUE_INSUFFICIENT_MARGIN",  # balance is insufficient
    -4164: "VENUE_MIN_NOTIONAL",
    -1111: "VENUE_PRECISION",
    -4014: "VENUE_PRECISION",
    -4023: "VENUE_PRECISION",
    -2022: "VENUE_REDUCE_ONLY",
    -2021: "VENUE_WOULD_TRIGGER",
    -5022: "VENUE_WOULD_TRIGGER",  # a post-only (GTX) order would have matched
    -5021: "VENUE_NO_LIQUIDITY",  # FOK could not fill at once
    -4131: "VENUE_NO_LIQUIDITY",  # the counterparty's best price is outside PERCENT_PRICE
    -1001: "VENUE_UNAVAILABLE",  # "Internal error; unable to process your request."
    -1007: "VENUE_UNAVAILABLE",  # timeout waiting for the backend (outcome judged by the caller)
    -1008: "VENUE_UNAVAILABLE",  # the server is overloaded
}


def retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class BinanceError(VenueError):
    """A ``VenueError`` that keeps the venue's own code, for the few codes the client acts
    on (an unknown order, a margin type already set, a stale timestamp)."""

    def __init__(
        self,
        code: VenueErrorCode,
        message: str,
        *,
        venue_code: int | None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(code, message, retry_after=retry_after)
        self.venue_code = venue_code


def is_unknown_order(error: VenueError) -> bool:
    return isinstance(error, BinanceError) and error.venue_code in UNKNOWN_ORDER_CODES


def venue_error(status: int, body: Any, *, retry_after: float | None = None) -> BinanceError:
    """The error for a non-2xx answer (or a 2xx carrying ``{code, msg}`` with a code < 0)."""
    code = body.get("code") if isinstance(body, Mapping) else None
    message = str(body.get("msg", "")) if isinstance(body, Mapping) else ""
    text = f"binance {code}: {message}" if isinstance(code, int) else f"binance HTTP {status}"
    venue_code = code if isinstance(code, int) else None
    mapped: VenueErrorCode
    if status in (418, 429):
        # 418 is an IP ban after ignoring 429s; both say when to come back.
        mapped = "VENUE_RATE_LIMITED"
    elif venue_code is not None and venue_code in _CODES:
        mapped = _CODES[venue_code]
    elif status in (401, 403):
        mapped = "VENUE_AUTH"
    elif status >= 500 or venue_code is None:
        mapped = "VENUE_UNAVAILABLE"
    else:
        mapped = "VENUE_REJECTED"
    return BinanceError(
        mapped,
        text,
        venue_code=venue_code,
        retry_after=retry_after if mapped == "VENUE_RATE_LIMITED" else None,
    )


def ms_time(value: Any) -> datetime | None:
    if value in (None, 0, "0", ""):
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    return Decimal(str(value))


def _positive(value: Any) -> Decimal | None:
    """Binance writes "0" (or "0.00000") for a price it does not have."""
    number = _decimal(value)
    return number if number is not None and number != 0 else None


def side_of(value: str) -> Side:
    return "buy" if value == "BUY" else "sell"


_ORDER_STATUS: dict[str, VenueOrderStatus] = {
    "NEW": "open",
    "PARTIALLY_FILLED": "partially_filled",
    "FILLED": "filled",
    "CANCELED": "canceled",
    "REJECTED": "rejected",
    # What was not filled has left the book; the filled part stays in filled_quantity.
    "EXPIRED": "canceled",
    "EXPIRED_IN_MATCH": "canceled",
}

_TRIGGER_KINDS = {
    "TAKE_PROFIT": "tp",
    "TAKE_PROFIT_MARKET": "tp",
    "STOP": "sl",
    "STOP_MARKET": "sl",
}


def order_state(data: Mapping[str, Any]) -> VenueOrderState:
    """An order of ``/fapi/v1/order`` (new, cancel or query) or ``openOrders``."""
    raw_status = str(data.get("status", ""))
    status = _ORDER_STATUS.get(raw_status, "rejected")
    filled = _decimal(data.get("executedQty")) or Decimal(0)
    order_type = str(data.get("origType") or data.get("type") or "")
    trigger = None
    kind = _TRIGGER_KINDS.get(order_type)
    stop = _positive(data.get("stopPrice"))
    if kind is not None and stop is not None:
        trigger = Trigger(kind="tp" if kind == "tp" else "sl", trigger_price=stop)
    reason = raw_status.lower() if raw_status in ("EXPIRED", "EXPIRED_IN_MATCH") else None
    return VenueOrderState(
        client_order_id=data.get("clientOrderId") or None,
        venue_order_id=str(data["orderId"]),
        symbol=symbol_of(str(data["symbol"])),
        side=side_of(str(data["side"])),
        status=status,
        quantity=_decimal(data.get("origQty")) or Decimal(0),
        filled_quantity=filled,
        average_price=_positive(data.get("avgPrice")) if filled else None,
        price=_positive(data.get("price")),
        reduce_only=bool(data.get("reduceOnly", False)),
        trigger=trigger,
        reason=reason,
        updated_at=ms_time(data.get("updateTime")),
    )


_ALGO_STATUS: dict[str, VenueOrderStatus] = {
    "NEW": "open",
    "TRIGGERING": "open",
    "CANCELED": "canceled",
    "EXPIRED": "canceled",
    "REJECTED": "rejected",
}


def algo_order_state(data: Mapping[str, Any]) -> VenueOrderState:
    """A conditional order of the algo service (``/fapi/v1/algoOrder``, ``openAlgoOrders``).

    Once triggered, the algo service has handed a plain order to the matching engine
    (``actualOrderId``); what it executed is reported on the algo order as ``executedQty``
    and ``avgPrice`` when the venue has them.
    """
    raw_status = str(data.get("algoStatus", ""))
    quantity = _decimal(data.get("quantity")) or Decimal(0)
    executed = _decimal(data.get("executedQty"))
    status: VenueOrderStatus
    if raw_status == "TRIGGERED":
        # The plain order is in the matching engine now.
        executed = executed or Decimal(0)
        status = (
            "filled" if executed >= quantity > 0 else "partially_filled" if executed else "open"
        )
    elif raw_status == "FINISHED":
        if executed is None:
            # Finished without a report of what executed: a market trigger fills in
            # full; the fills (userTrades) stay the ledger's source either way.
            executed = quantity
        status = "filled" if executed >= quantity else "canceled"
    else:
        executed = executed or Decimal(0)
        status = _ALGO_STATUS.get(raw_status, "rejected")
    kind = _TRIGGER_KINDS.get(str(data.get("orderType", "")), "sl")
    trigger_price = _decimal(data.get("triggerPrice")) or Decimal(0)
    return VenueOrderState(
        client_order_id=data.get("clientAlgoId") or None,
        venue_order_id=f"{ALGO_ID_PREFIX}{data['algoId']}",
        symbol=symbol_of(str(data["symbol"])),
        side=side_of(str(data["side"])),
        status=status,
        quantity=quantity,
        filled_quantity=executed,
        average_price=_positive(data.get("avgPrice")) if executed else None,
        price=_positive(data.get("price")),
        reduce_only=bool(data.get("reduceOnly", False)) or bool(data.get("closePosition", False)),
        trigger=Trigger(kind="tp" if kind == "tp" else "sl", trigger_price=trigger_price),
        reason=raw_status.lower() if raw_status not in ("NEW", "") else None,
        updated_at=ms_time(data.get("updateTime")),
    )


def fill(data: Mapping[str, Any], client_order_id: str | None) -> VenueFill:
    """One entry of ``GET /fapi/v1/userTrades``. The venue reports commission as a
    positive amount paid, in ``commissionAsset`` (USDT unless the BNB discount is on,
    which ``validate`` reports as a problem)."""
    return VenueFill(
        # Trade ids are unique per symbol only; with the pair they are unique per account.
        venue_fill_id=f"{data['symbol']}-{data['id']}",
        venue_order_id=str(data["orderId"]),
        client_order_id=client_order_id,
        symbol=symbol_of(str(data["symbol"])),
        side=side_of(str(data["side"])),
        price=Decimal(str(data["price"])),
        quantity=Decimal(str(data["qty"])),
        fee=Decimal(str(data.get("commission", "0"))),
        realized_pnl=Decimal(str(data.get("realizedPnl", "0"))),
        liquidity="maker" if data.get("maker") else "taker",
        # userTrades does not mark liquidations; forced closes show in forceOrders.
        is_liquidation=False,
        time=datetime.fromtimestamp(int(data["time"]) / 1000, tz=UTC),
    )


def held(risks: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows of ``positionRisk`` with a position (it also lists symbols with orders only)."""
    return [r for r in risks if Decimal(str(r.get("positionAmt") or "0")) != 0]


def position(risk: Mapping[str, Any], config: Mapping[str, Any]) -> VenuePosition:
    """One row of ``/fapi/v3/positionRisk`` with its ``symbolConfig`` (v3 rows carry
    neither leverage nor margin type)."""
    liquidation = _positive(risk.get("liquidationPrice"))
    return VenuePosition(
        symbol=symbol_of(str(risk["symbol"])),
        size=Decimal(str(risk["positionAmt"])),
        entry_price=Decimal(str(risk["entryPrice"])),
        mark_price=_positive(risk.get("markPrice")),
        leverage=int(config.get("leverage", 1)),
        isolated=config.get("marginType") == "ISOLATED",
        liquidation_price=liquidation,
        unrealized_pnl=Decimal(str(risk.get("unRealizedProfit", "0"))),
        margin_used=Decimal(
            str(risk.get("positionInitialMargin") or risk.get("initialMargin") or "0")
        ),
    )


def funding_payment(
    entry: Mapping[str, Any], rates: Sequence[Mapping[str, Any]], rules: SymbolRules | None
) -> VenueFunding:
    """A ``FUNDING_FEE`` income entry with the funding-history row it settles.

    The income entry has the amount only; the rate and mark come from the public funding
    history, and the position size is what the payment implies
    (payment = -size × mark × rate), rounded to the symbol's step.
    """
    payment = Decimal(str(entry["income"]))
    at = int(entry["time"])
    match = min(
        (r for r in rates if abs(int(r["fundingTime"]) - at) <= FUNDING_MATCH_MS),
        key=lambda r: abs(int(r["fundingTime"]) - at),
        default=None,
    )
    rate = Decimal(str(match["fundingRate"])) if match else Decimal(0)
    mark = _decimal(match.get("markPrice")) if match else None
    size = Decimal(0)
    if rate and mark:
        size = -payment / (mark * rate)
        if rules is not None:
            size = size.quantize(rules.step_size)
    return VenueFunding(
        symbol=symbol_of(str(entry["symbol"])),
        time=datetime.fromtimestamp(at / 1000, tz=UTC),
        position_size=size,
        rate=rate,
        payment=payment,
    )
