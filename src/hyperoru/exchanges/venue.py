"""What a live venue adapter offers: the one interface Hyperliquid and Binance both implement.

The live ``ExchangeClient`` (order journal, reconciliation, risk limits) is written once
against this; each venue package (``exchanges/hyperliquid``, ``exchanges/binance``) turns
these calls into its own signed requests and parses its own answers back into these types.
Every amount is ``Decimal``; every time is an aware UTC ``datetime``.

Client order ids are ours: 32 lowercase hex digits (a UUID4's ``hex``), chosen and stored
before a request is sent, so an unknown outcome is resolved by asking the venue for that
id and never by sending again. Hyperliquid carries it as the cloid ``"0x" + id``, Binance
as ``newClientOrderId``/``clientAlgoId``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

Venue = Literal["hyperliquid", "binance"]
VenueEnvironment = Literal["testnet", "demo", "mainnet"]
Side = Literal["buy", "sell"]
VenueOrderStatus = Literal["open", "partially_filled", "filled", "canceled", "rejected"]

# Our codes for what a venue says, whichever venue said it (error_codes.py documents them).
VenueErrorCode = Literal[
    "VENUE_AUTH",  # unknown signer, bad key, missing permission, IP not allowed
    "VENUE_TIMESTAMP",  # clock outside the venue's window (Binance -1021), nonce refused
    "VENUE_RATE_LIMITED",  # 429 / -1003 / 418; retry_after says when
    "VENUE_INSUFFICIENT_MARGIN",
    "VENUE_MIN_NOTIONAL",
    "VENUE_PRECISION",  # tick or step size, too many decimals
    "VENUE_REDUCE_ONLY",  # a reduce-only order would increase the position
    "VENUE_WOULD_TRIGGER",  # a trigger that would fire at once, a post-only that would match
    "VENUE_NO_LIQUIDITY",  # an IOC or market order that found nothing to match
    "VENUE_REJECTED",  # any other refusal the venue explained
    "VENUE_UNAVAILABLE",  # the venue is down or answered nonsense; nothing was accepted
]


class VenueError(Exception):
    """The venue refused a request (or could not be reached before anything was sent)."""

    def __init__(
        self, code: VenueErrorCode, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.code: VenueErrorCode = code
        self.message = message
        self.retry_after = retry_after


class UnknownOutcome(Exception):
    """A request may or may not have taken effect (timeout after sending, 5xx, Binance 503).

    Raised only for requests that change state. The caller resolves it by asking for the
    client order id (``order_status``); it must never send the same order again.
    """


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """The venue's rules for one symbol, read from its metadata (``meta``/``exchangeInfo``)."""

    symbol: str  # our symbol: "BTC", "ETH" (Binance's "BTCUSDT" maps to "BTC")
    tick_size: Decimal | None  # None: the venue's rule is by significant figures (Hyperliquid)
    step_size: Decimal
    min_notional: Decimal
    max_leverage: int
    price_significant_figures: int | None = None  # Hyperliquid: 5
    max_price_decimals: int | None = None  # Hyperliquid perps: 6 - szDecimals


@dataclass(frozen=True, slots=True)
class Trigger:
    """A take-profit or stop-loss trigger; fires as a market order at the venue."""

    kind: Literal["tp", "sl"]
    trigger_price: Decimal


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """One order as sent. Prices and sizes are already rounded to the venue's rules."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: Literal["market", "limit"]
    quantity: Decimal
    # Limit price; for a market order the worst price accepted (Hyperliquid sends market
    # orders as aggressive IOC limits; Binance ignores it for MARKET).
    price: Decimal | None
    reduce_only: bool = False
    time_in_force: Literal["gtc", "ioc", "alo"] = "gtc"
    trigger: Trigger | None = None


@dataclass(frozen=True, slots=True)
class VenueOrderState:
    """An order as the venue reports it."""

    client_order_id: str | None
    venue_order_id: str
    symbol: str
    side: Side
    status: VenueOrderStatus
    quantity: Decimal
    filled_quantity: Decimal
    average_price: Decimal | None
    price: Decimal | None = None
    reduce_only: bool = False
    trigger: Trigger | None = None
    reason: str | None = None  # why it was rejected or cancelled, in the venue's words
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VenueFill:
    """One execution. ``venue_fill_id`` is unique per account at the venue (HL ``tid``)."""

    venue_fill_id: str
    venue_order_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal  # positive = paid, in the account's quote currency (USDC / USDT)
    realized_pnl: Decimal
    liquidity: Literal["maker", "taker"]
    is_liquidation: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class VenueFunding:
    """One funding payment (positive = received)."""

    symbol: str
    time: datetime
    position_size: Decimal  # signed
    rate: Decimal
    payment: Decimal


@dataclass(frozen=True, slots=True)
class VenuePosition:
    symbol: str
    size: Decimal  # signed: long > 0, short < 0
    entry_price: Decimal
    mark_price: Decimal | None
    leverage: int
    isolated: bool
    liquidation_price: Decimal | None
    unrealized_pnl: Decimal
    margin_used: Decimal


@dataclass(frozen=True, slots=True)
class VenueAccount:
    """Balances and positions in one reading."""

    equity: Decimal  # cash + unrealised PnL
    available: Decimal  # withdrawable / available to open
    margin_used: Decimal
    unrealized_pnl: Decimal
    positions: tuple[VenuePosition, ...]
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    """What validating credentials against the venue found.

    ``problems`` empty means usable. Each problem is a sentence for the owner, e.g. "the
    API wallet 0x… is not approved for 0x…" or "the account is in hedge mode".
    """

    problems: tuple[str, ...]
    can_withdraw: bool | None = None  # Binance reports it; None when the venue does not say


@dataclass(frozen=True, slots=True)
class HyperliquidCredentials:
    environment: Literal["testnet", "mainnet"]
    master_address: str  # 0x-prefixed, 40 hex digits
    agent_private_key: str  # the API (agent) wallet's key; it can trade, never withdraw


@dataclass(frozen=True, slots=True)
class BinanceCredentials:
    environment: Literal["testnet", "demo", "mainnet"]
    api_key: str
    api_secret: str


VenueCredentials = HyperliquidCredentials | BinanceCredentials


class VenueAdapter(Protocol):
    """One trader's connection to one venue account. Calls never touch our database."""

    venue: Venue
    environment: VenueEnvironment

    async def rules(self) -> dict[str, SymbolRules]:
        """Every tradable symbol's rules (cached by the adapter; refreshed on ``refresh``)."""
        ...

    async def validate(self) -> CredentialCheck:
        """Check the credentials work for trading (and only what the venue lets us see)."""
        ...

    async def submit(self, order: VenueOrder) -> VenueOrderState:
        """Send one order. Raises ``VenueError`` on a refusal, ``UnknownOutcome`` if unsure."""
        ...

    async def cancel(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        """Cancel by our id; the order's state after, or None if the venue never had it."""
        ...

    async def cancel_all(self, *, symbols: Sequence[str] | None = None) -> int:
        """Cancel every open order (of ``symbols``); how many were cancelled."""
        ...

    async def order_status(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        """The order with our id, or None when the venue has never seen it."""
        ...

    async def open_orders(self) -> list[VenueOrderState]: ...

    async def fills(self, *, since: datetime) -> list[VenueFill]:
        """Fills at or after ``since``, oldest first, all pages (deduplicated by fill id)."""
        ...

    async def funding(self, *, since: datetime) -> list[VenueFunding]: ...

    async def account(self) -> VenueAccount: ...

    async def set_leverage(self, *, symbol: str, leverage: int, isolated: bool) -> None: ...

    async def arm_dead_man(self, *, seconds: int) -> None:
        """Have the venue cancel every open order if not re-armed within ``seconds``."""
        ...

    async def disarm_dead_man(self) -> None: ...

    async def aclose(self) -> None: ...


# Opens an adapter for a trader's credentials. The app holds one (``exchanges.connect``);
# tests hand in one that points every venue at its loopback fake.
VenueConnector = Callable[[VenueCredentials], VenueAdapter]
