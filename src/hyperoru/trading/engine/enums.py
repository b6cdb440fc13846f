"""Closed vocabularies of the engine; string values match the API contract's spelling."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    ALO = "alo"


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class OrderStatus(StrEnum):
    # Stored by the caller before execution (the contract's two-step flow); never emitted.
    PENDING = "pending"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    # Trigger orders only: armed once the parent order has filled.
    WAITING = "waiting"
    TRIGGERED = "triggered"


class TriggerKind(StrEnum):
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"


class RejectCode(StrEnum):
    """The 422 business-rule codes of contract §2 the engine can answer with."""

    LEVERAGE_TOO_HIGH = "LEVERAGE_TOO_HIGH"
    INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    INVALID_TICK = "INVALID_TICK"
    INVALID_SIZE = "INVALID_SIZE"
    REDUCE_ONLY_REJECTED = "REDUCE_ONLY_REJECTED"
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"


class MarginMode(StrEnum):
    """Cross shares the account's balance between positions; isolated gives one position
    its own margin and its own liquidation."""

    CROSS = "cross"
    ISOLATED = "isolated"


class Venue(StrEnum):
    HYPERLIQUID = "hyperliquid"
    BINANCE = "binance"
