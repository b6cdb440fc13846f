"""Hyperliquid request signing, done by the pinned SDK's own functions.

The venue hashes the msgpack of the action exactly as received, so order wires are built
only by the SDK's helpers (key order and number strings are part of what is signed), and
the network is always passed in from the credentials' environment: the SDK's own clients
derive it from the URL, which would sign for testnet whenever the host is not the mainnet
one (a proxy, our fake venue).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal

from eth_account import Account
from hyperliquid.utils import signing as sdk
from hyperliquid.utils.types import Cloid

from hyperoru.exchanges.venue import VenueError

JsonDict = dict[str, Any]
Tif = Literal["Gtc", "Ioc", "Alo"]

_CLIENT_ORDER_ID = re.compile(r"^[0-9a-f]{32}$")
_CLOID = re.compile(r"^0x[0-9a-fA-F]{32}$")


def cloid_for(client_order_id: str) -> str:
    """Our client order id (a UUID4's 32 hex digits) as the venue's 16-byte cloid."""
    if not _CLIENT_ORDER_ID.fullmatch(client_order_id):
        raise ValueError(f"client order id must be 32 lowercase hex digits: {client_order_id!r}")
    return "0x" + client_order_id


def client_order_id_of(cloid: object) -> str | None:
    """The client order id a cloid carries, or None (orders placed elsewhere have none)."""
    if isinstance(cloid, str) and _CLOID.fullmatch(cloid):
        return cloid[2:].lower()
    return None


def to_wire(value: Decimal) -> str:
    """A price or size as the venue's number string (the SDK refuses anything it would round)."""
    return str(sdk.float_to_wire(float(value)))


def limit_order_wire(
    asset: int,
    *,
    is_buy: bool,
    price: Decimal,
    size: Decimal,
    reduce_only: bool,
    tif: Tif,
    cloid: str | None,
) -> JsonDict:
    return _order_wire(asset, is_buy, price, size, reduce_only, {"limit": {"tif": tif}}, cloid)


def trigger_order_wire(
    asset: int,
    *,
    is_buy: bool,
    price: Decimal,
    size: Decimal,
    reduce_only: bool,
    trigger_price: Decimal,
    is_market: bool,
    tpsl: Literal["tp", "sl"],
    cloid: str | None,
) -> JsonDict:
    # The SDK's trigger type lists triggerPx before isMarket; its wire form puts isMarket
    # first. Only the wire form is hashed, so the SDK decides the order either way.
    trigger = {"triggerPx": float(trigger_price), "isMarket": is_market, "tpsl": tpsl}
    return _order_wire(asset, is_buy, price, size, reduce_only, {"trigger": trigger}, cloid)


def _order_wire(
    asset: int,
    is_buy: bool,
    price: Decimal,
    size: Decimal,
    reduce_only: bool,
    order_type: JsonDict,
    cloid: str | None,
) -> JsonDict:
    request = {
        "coin": "",  # the SDK reads the asset index instead
        "is_buy": is_buy,
        "sz": float(size),
        "limit_px": float(price),
        "order_type": order_type,
        "reduce_only": reduce_only,
        "cloid": Cloid.from_str(cloid) if cloid is not None else None,
    }
    return dict(sdk.order_request_to_order_wire(request, asset))


def order_action(wires: list[JsonDict], grouping: str = "na") -> JsonDict:
    return dict(sdk.order_wires_to_order_action(wires, None, grouping))


def cancel_by_cloid_action(asset: int, cloid: str) -> JsonDict:
    return {"type": "cancelByCloid", "cancels": [{"asset": asset, "cloid": cloid}]}


def cancel_action(cancels: list[tuple[int, int]]) -> JsonDict:
    return {"type": "cancel", "cancels": [{"a": asset, "o": oid} for asset, oid in cancels]}


def update_leverage_action(asset: int, *, leverage: int, is_cross: bool) -> JsonDict:
    return {"type": "updateLeverage", "asset": asset, "isCross": is_cross, "leverage": leverage}


def schedule_cancel_action(time_ms: int | None) -> JsonDict:
    """The dead-man switch: cancel every open order at ``time_ms``; None unsets it."""
    action: JsonDict = {"type": "scheduleCancel"}
    if time_ms is not None:
        action["time"] = time_ms
    return action


class L1Signer:
    """Signs L1 actions (orders, cancels, leverage, scheduleCancel) with one wallet's key.

    An API (agent) wallet can sign only these; withdrawals and transfers are user-signed
    actions that need the master's key, which the server never holds.
    """

    def __init__(self, private_key: str, *, is_mainnet: bool) -> None:
        try:
            self._wallet = Account.from_key(private_key)
        except (ValueError, TypeError) as error:
            raise VenueError(
                "VENUE_AUTH", "the API wallet key is not a valid private key"
            ) from error
        self.is_mainnet = is_mainnet
        self.address: str = self._wallet.address

    def __repr__(self) -> str:  # never the key
        return f"L1Signer({self.address}, mainnet={self.is_mainnet})"

    def sign(self, action: JsonDict, nonce: int) -> JsonDict:
        signature = sdk.sign_l1_action(self._wallet, action, None, nonce, None, self.is_mainnet)
        return dict(signature)

    def request(self, action: JsonDict, nonce: int) -> JsonDict:
        """The ``/exchange`` body: the action, its nonce and its signature."""
        return {
            "action": action,
            "nonce": nonce,
            "signature": self.sign(action, nonce),
            "vaultAddress": None,
            "expiresAfter": None,
        }
