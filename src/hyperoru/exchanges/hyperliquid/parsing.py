"""Hyperliquid's answers parsed into the venue-neutral types, and its error texts mapped.

``status: "ok"`` proves nothing about any single order: every per-order status is read.
A whole request fails with ``{"status": "err", "response": "<text>"}`` (an unknown signer,
a refused nonce), and the venue gives no "bad signature" error: a signature made for the
other network recovers to an address it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hyperoru.exchanges.hyperliquid.signing import client_order_id_of
from hyperoru.exchanges.venue import (
    Side,
    Trigger,
    VenueAccount,
    VenueError,
    VenueErrorCode,
    VenueFill,
    VenueFunding,
    VenueOrderState,
    VenueOrderStatus,
    VenuePosition,
)


class MalformedReply(ValueError):
    """The venue answered something that is not one of its documented shapes."""


# Lower-case fragments of the venue's texts, most specific first.
_ERROR_TEXTS: tuple[tuple[str, VenueErrorCode], ...] = (
    ("does not exist", "VENUE_AUTH"),  # "User or API Wallet 0x… does not exist."
    ("invalid nonce", "VENUE_TIMESTAMP"),
    ("nonce", "VENUE_TIMESTAMP"),
    ("insufficient margin", "VENUE_INSUFFICIENT_MARGIN"),
    ("minimum value", "VENUE_MIN_NOTIONAL"),
    ("tick size", "VENUE_PRECISION"),
    ("invalid size", "VENUE_PRECISION"),
    ("reduce only order would increase", "VENUE_REDUCE_ONLY"),
    ("post only order would have immediately matched", "VENUE_WOULD_TRIGGER"),
    ("invalid tp/sl price", "VENUE_WOULD_TRIGGER"),
    ("could not immediately match", "VENUE_NO_LIQUIDITY"),
    ("no liquidity", "VENUE_NO_LIQUIDITY"),
    ("too many", "VENUE_RATE_LIMITED"),
    ("rate limit", "VENUE_RATE_LIMITED"),
)


def error_code_for(text: str) -> VenueErrorCode:
    lowered = text.lower()
    for fragment, code in _ERROR_TEXTS:
        if fragment in lowered:
            return code
    return "VENUE_REJECTED"


def venue_error(text: str) -> VenueError:
    return VenueError(error_code_for(text), text)


def http_error(status: int, text: str, retry_after: str | None) -> VenueError:
    """A 4xx answer: the venue took nothing (a 5xx is handled by the caller)."""
    if status == 429:
        return VenueError(
            "VENUE_RATE_LIMITED",
            "the venue's rate limit was reached",
            retry_after=_seconds(retry_after),
        )
    if status == 422:
        return VenueError("VENUE_REJECTED", f"the venue could not read the request: {text[:200]}")
    return VenueError("VENUE_REJECTED", f"the venue answered HTTP {status}: {text[:200]}")


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def raise_for_request_error(body: Any) -> dict[str, Any]:
    """The ``response`` of an ``/exchange`` answer, or the whole-request failure raised."""
    if not isinstance(body, dict) or body.get("status") not in ("ok", "err"):
        raise MalformedReply(f"not an /exchange answer: {str(body)[:200]}")
    if body["status"] == "err":
        raise venue_error(str(body.get("response")))
    response = body.get("response")
    if not isinstance(response, dict):
        raise MalformedReply(f"no response object: {str(body)[:200]}")
    return response


@dataclass(frozen=True, slots=True)
class Resting:
    oid: int


@dataclass(frozen=True, slots=True)
class Filled:
    oid: int
    total_size: Decimal
    average_price: Decimal


@dataclass(frozen=True, slots=True)
class Waiting:
    """A bare-string status ("waitingForFill", "waitingForTrigger"): accepted, no oid given."""

    what: str


OrderOutcome = Resting | Filled | Waiting | VenueError


def order_outcomes(body: Any) -> list[OrderOutcome]:
    """One outcome per order of an ``order`` action, in request order."""
    response = raise_for_request_error(body)
    outcomes: list[OrderOutcome] = []
    for status in _statuses(response):
        if isinstance(status, str):
            outcomes.append(Waiting(status))
        elif isinstance(status, dict) and "resting" in status:
            outcomes.append(Resting(int(status["resting"]["oid"])))
        elif isinstance(status, dict) and "filled" in status:
            filled = status["filled"]
            outcomes.append(
                Filled(int(filled["oid"]), decimal(filled["totalSz"]), decimal(filled["avgPx"]))
            )
        elif isinstance(status, dict) and "error" in status:
            outcomes.append(venue_error(str(status["error"])))
        else:
            raise MalformedReply(f"unknown order status {status!r}")
    return outcomes


def cancel_outcomes(body: Any) -> list[VenueError | None]:
    """One entry per cancel: None when it succeeded, else why not."""
    outcomes: list[VenueError | None] = []
    for status in _statuses(raise_for_request_error(body)):
        if status == "success":
            outcomes.append(None)
        elif isinstance(status, dict) and "error" in status:
            outcomes.append(venue_error(str(status["error"])))
        else:
            raise MalformedReply(f"unknown cancel status {status!r}")
    return outcomes


def _statuses(response: dict[str, Any]) -> list[Any]:
    try:
        statuses = response["data"]["statuses"]
    except (KeyError, TypeError) as error:
        raise MalformedReply(f"no statuses in {str(response)[:200]}") from error
    if not isinstance(statuses, list):
        raise MalformedReply(f"statuses is not a list: {statuses!r}")
    return statuses


def decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise MalformedReply(f"not a number: {value!r}") from error


def optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else decimal(value)


def time_of(ms: Any) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


def side_of(code: Any) -> Side:
    if code == "B":
        return "buy"
    if code == "A":
        return "sell"
    raise MalformedReply(f"unknown side {code!r}")


def _trigger_of(order: dict[str, Any]) -> Trigger | None:
    if not order.get("isTrigger"):
        return None
    take_profit = "take profit" in str(order.get("orderType", "")).lower()
    return Trigger(kind="tp" if take_profit else "sl", trigger_price=decimal(order["triggerPx"]))


_TERMINAL_STATUS: dict[str, VenueOrderStatus] = {
    "filled": "filled",
    "canceled": "canceled",
    "rejected": "rejected",
    "scheduledCancel": "canceled",
}


def _status_of(venue_status: str, remaining: Decimal, filled: Decimal) -> VenueOrderStatus:
    if venue_status in _TERMINAL_STATUS:
        return _TERMINAL_STATUS[venue_status]
    # Every other end the venue names is a kind of cancel or reject ("marginCanceled",
    # "reduceOnlyRejected", …): terminal, and nothing more will fill.
    if venue_status.endswith("Canceled") or venue_status.endswith("Cancel"):
        return "canceled"
    if venue_status.endswith("Rejected"):
        return "rejected"
    # "open", "triggered" (a trigger fired and its order is working) and any state the
    # venue adds later: still working, so it stays tracked.
    if remaining > 0 and filled > 0:
        return "partially_filled"
    return "open"


def open_order_state(
    order: dict[str, Any], venue_status: str = "open", updated_ms: Any = None
) -> VenueOrderState:
    """A ``frontendOpenOrders`` entry (or the order inside an ``orderStatus`` answer)."""
    try:
        remaining = decimal(order["sz"])
        original = decimal(order.get("origSz", order["sz"]))
        filled = original - remaining
        return VenueOrderState(
            client_order_id=client_order_id_of(order.get("cloid")),
            venue_order_id=str(order["oid"]),
            symbol=str(order["coin"]),
            side=side_of(order["side"]),
            status=_status_of(venue_status, remaining, filled),
            quantity=original,
            filled_quantity=filled,
            average_price=None,  # orderStatus does not say; the fills do
            price=optional_decimal(order.get("limitPx")),
            reduce_only=bool(order.get("reduceOnly", False)),
            trigger=_trigger_of(order),
            reason=None if venue_status in ("open", "filled") else venue_status,
            updated_at=time_of(updated_ms if updated_ms is not None else order["timestamp"]),
        )
    except KeyError as error:
        raise MalformedReply(f"order without {error}: {str(order)[:200]}") from error


def order_status_state(body: Any) -> VenueOrderState | None:
    """An ``orderStatus`` answer: the order, or None for ``unknownOid``."""
    if not isinstance(body, dict):
        raise MalformedReply(f"not an orderStatus answer: {str(body)[:200]}")
    if body.get("status") == "unknownOid":
        return None
    if body.get("status") != "order" or not isinstance(body.get("order"), dict):
        raise MalformedReply(f"not an orderStatus answer: {str(body)[:200]}")
    entry = body["order"]
    return open_order_state(entry["order"], str(entry["status"]), entry.get("statusTimestamp"))


def fill_of(fill: dict[str, Any]) -> VenueFill:
    """A ``userFills``/``userFillsByTime`` entry. Fees are positive when paid."""
    try:
        return VenueFill(
            venue_fill_id=str(fill["tid"]),
            venue_order_id=str(fill["oid"]),
            client_order_id=client_order_id_of(fill.get("cloid")),
            symbol=str(fill["coin"]),
            side=side_of(fill["side"]),
            price=decimal(fill["px"]),
            quantity=decimal(fill["sz"]),
            fee=decimal(fill["fee"]),
            realized_pnl=decimal(fill.get("closedPnl", "0")),
            liquidity="taker" if fill.get("crossed") else "maker",
            is_liquidation=fill.get("liquidation") is not None,
            time=time_of(fill["time"]),
        )
    except KeyError as error:
        raise MalformedReply(f"fill without {error}: {str(fill)[:200]}") from error


def funding_of(entry: dict[str, Any]) -> VenueFunding:
    """A ``userFunding`` entry; ``usdc`` is positive when received."""
    try:
        delta = entry["delta"]
        return VenueFunding(
            symbol=str(delta["coin"]),
            time=time_of(entry["time"]),
            position_size=decimal(delta["szi"]),
            rate=decimal(delta["fundingRate"]),
            payment=decimal(delta["usdc"]),
        )
    except (KeyError, TypeError) as error:
        raise MalformedReply(f"funding entry without {error}: {str(entry)[:200]}") from error


def account_of(state: Any, *, taken_at: datetime) -> VenueAccount:
    """A ``clearinghouseState`` answer. All amounts arrive as decimal strings."""
    try:
        summary = state["marginSummary"]
        positions = tuple(
            _position_of(entry["position"])
            for entry in state.get("assetPositions", [])
            if decimal(entry["position"]["szi"]) != 0
        )
        if "time" in state:
            taken_at = time_of(state["time"])
        return VenueAccount(
            equity=decimal(summary["accountValue"]),
            available=decimal(state["withdrawable"]),
            margin_used=decimal(summary["totalMarginUsed"]),
            unrealized_pnl=sum((p.unrealized_pnl for p in positions), Decimal(0)),
            positions=positions,
            taken_at=taken_at,
        )
    except (KeyError, TypeError) as error:
        raise MalformedReply(f"clearinghouseState without {error}") from error


def _position_of(position: dict[str, Any]) -> VenuePosition:
    size = decimal(position["szi"])
    value = optional_decimal(position.get("positionValue"))
    leverage = position.get("leverage") or {}
    return VenuePosition(
        symbol=str(position["coin"]),
        size=size,
        entry_price=decimal(position["entryPx"]),
        # The venue gives the position's value at the mark, not the mark itself.
        mark_price=(value / abs(size)) if value is not None else None,
        leverage=int(leverage.get("value", 1)),
        isolated=leverage.get("type") == "isolated",
        liquidation_price=optional_decimal(position.get("liquidationPx")),
        unrealized_pnl=decimal(position["unrealizedPnl"]),
        margin_used=decimal(position["marginUsed"]),
    )
