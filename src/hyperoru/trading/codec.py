"""The engine's ``AccountState`` as JSON for the ledger row: Decimals as strings (exact on
every database), times as ISO 8601. ``FORMAT`` is stored with it so a later change to the
state's shape can be read back. Fields added later are optional when read: a state
written before isolated margin existed loads with every position and order cross."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from hyperoru.trading.engine import (
    AccountState,
    MarginMode,
    Position,
    RestingOrder,
    Side,
    TimeInForce,
    TriggerKind,
    TriggerOrder,
)

FORMAT = 1


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def encode_state(state: AccountState) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "cash": str(state.cash),
        "max_leverage": state.max_leverage,
        "last_fill_id": state.last_fill_id,
        "funding_settled_at": _time(state.funding_settled_at),
        "positions": [
            {
                "symbol": p.symbol,
                "size": str(p.size),
                "entry_price": str(p.entry_price),
                "leverage": p.leverage,
                "mark_price": str(p.mark_price),
                "opened_at": _time(p.opened_at),
                "margin_mode": p.margin_mode.value,
                "isolated_margin": str(p.isolated_margin),
            }
            for p in state.positions
        ],
        "open_orders": [
            {
                "order_id": o.order_id,
                "symbol": o.symbol,
                "side": o.side.value,
                "price": str(o.price),
                "quantity": str(o.quantity),
                "leverage": o.leverage,
                "placed_at": _time(o.placed_at),
                "filled_quantity": str(o.filled_quantity),
                "reduce_only": o.reduce_only,
                "time_in_force": o.time_in_force.value,
                "client_order_id": o.client_order_id,
                "margin_mode": o.margin_mode.value,
            }
            for o in state.open_orders
        ],
        "triggers": [
            {
                "order_id": t.order_id,
                "parent_order_id": t.parent_order_id,
                "symbol": t.symbol,
                "kind": t.kind.value,
                "side": t.side.value,
                "trigger_price": str(t.trigger_price),
                "created_at": _time(t.created_at),
                "active": t.active,
            }
            for t in state.triggers
        ],
    }


def decode_state(data: dict[str, Any]) -> AccountState:
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown ledger format {data.get('format')!r}")
    return AccountState(
        cash=Decimal(data["cash"]),
        max_leverage=int(data["max_leverage"]),
        last_fill_id=int(data["last_fill_id"]),
        funding_settled_at=_parse_time(data["funding_settled_at"]),
        positions=tuple(
            Position(
                symbol=p["symbol"],
                size=Decimal(p["size"]),
                entry_price=Decimal(p["entry_price"]),
                leverage=int(p["leverage"]),
                mark_price=Decimal(p["mark_price"]),
                opened_at=datetime.fromisoformat(p["opened_at"]),
                margin_mode=MarginMode(p.get("margin_mode", MarginMode.CROSS)),
                isolated_margin=Decimal(p.get("isolated_margin", "0")),
            )
            for p in data["positions"]
        ),
        open_orders=tuple(
            RestingOrder(
                order_id=o["order_id"],
                symbol=o["symbol"],
                side=Side(o["side"]),
                price=Decimal(o["price"]),
                quantity=Decimal(o["quantity"]),
                leverage=int(o["leverage"]),
                placed_at=datetime.fromisoformat(o["placed_at"]),
                filled_quantity=Decimal(o["filled_quantity"]),
                reduce_only=bool(o["reduce_only"]),
                time_in_force=TimeInForce(o["time_in_force"]),
                client_order_id=o["client_order_id"],
                margin_mode=MarginMode(o.get("margin_mode", MarginMode.CROSS)),
            )
            for o in data["open_orders"]
        ),
        triggers=tuple(
            TriggerOrder(
                order_id=t["order_id"],
                parent_order_id=t["parent_order_id"],
                symbol=t["symbol"],
                kind=TriggerKind(t["kind"]),
                side=Side(t["side"]),
                trigger_price=Decimal(t["trigger_price"]),
                created_at=datetime.fromisoformat(t["created_at"]),
                active=bool(t["active"]),
            )
            for t in data["triggers"]
        ),
    )
