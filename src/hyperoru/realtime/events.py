"""The typed, immutable events every domain publishes on the bus.

``data`` is the publisher's public JSON shape (the same object its REST endpoint returns),
so the WebSocket hub forwards it unchanged and the wire never carries pickles or ORM rows.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from hyperoru.api_types import UtcTime

Channel = Literal[
    "trades", "positions", "model_chat", "asset_curve", "prices", "orders", "reconciliation"
]
CHANNELS: tuple[Channel, ...] = (
    "trades",
    "positions",
    "model_chat",
    "asset_curve",
    "prices",
    # Live trading's (docs/LIVE_TRADING.md): a live order's state as the venue answers it,
    # and the differences reconciliation finds.
    "orders",
    "reconciliation",
)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _TraderEvent(_Event):
    """Something about one trader: delivered only to its owner's sockets."""

    user_id: int
    account_id: int
    data: dict[str, JsonValue]


class TradeEvent(_TraderEvent):
    type: Literal["trade"] = "trade"


class PositionEvent(_TraderEvent):
    type: Literal["position"] = "position"


class ModelChatEvent(_TraderEvent):
    type: Literal["model_chat"] = "model_chat"


class AssetCurveEvent(_TraderEvent):
    type: Literal["asset_curve"] = "asset_curve"


class OrderEvent(_TraderEvent):
    """A live order whose state changed (data: the REST order object, with its journal
    state)."""

    type: Literal["live_order"] = "live_order"


class ReconciliationNotice(_TraderEvent):
    """A difference reconciliation recorded (data: the REST reconciliation event)."""

    type: Literal["reconciliation"] = "reconciliation"


class PriceEvent(_Event):
    """A market price: public, delivered to every authenticated socket on ``prices``."""

    type: Literal["price"] = "price"
    symbol: str = Field(min_length=1, max_length=32)
    # When the venue observed the price: receivers keep only the newest per symbol, so
    # several processes publishing the same feed never show a client an older price.
    observed_at: UtcTime
    data: dict[str, JsonValue]


class AuthChangedEvent(_Event):
    """Sessions ended or a user changed: every process forgets its cached tokens for them
    and, when ``revoked``, closes the affected sockets. Never pushed to clients."""

    type: Literal["auth_changed"] = "auth_changed"
    user_id: int | None  # None: every user
    session_ids: list[int] | None = None  # None: all of the user's sessions
    revoked: bool = True


TraderEvent = (
    TradeEvent
    | PositionEvent
    | ModelChatEvent
    | AssetCurveEvent
    | OrderEvent
    | ReconciliationNotice
)
Event = Annotated[TraderEvent | PriceEvent | AuthChangedEvent, Field(discriminator="type")]

CHANNEL_OF: dict[str, Channel] = {
    "trade": "trades",
    "position": "positions",
    "model_chat": "model_chat",
    "asset_curve": "asset_curve",
    "price": "prices",
    "live_order": "orders",
    "reconciliation": "reconciliation",
}

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def encode_event(event: TraderEvent | PriceEvent | AuthChangedEvent) -> str:
    return event.model_dump_json()


def decode_event(raw: str | bytes) -> TraderEvent | PriceEvent | AuthChangedEvent:
    """Parse a wire message; raises ``pydantic.ValidationError`` on anything malformed."""
    return _EVENT_ADAPTER.validate_json(raw)
