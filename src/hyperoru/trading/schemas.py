"""Bodies of the orders, positions, trades and asset-curve endpoints (contract §8)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from hyperoru.api_types import MAX_ID, JsonDecimal, RequestModel, ResponseModel, UtcTime
from hyperoru.exchanges.base import ExecutionReport, FillReport, MarginModeName, OrderIntent
from hyperoru.trading.engine import PositionChanged
from hyperoru.trading.models import TradingOrder

_PRICE = Field(default=None, gt=0, max_digits=30)


class OrderCreate(RequestModel):
    account_id: int = Field(ge=1, le=MAX_ID)
    symbol: str = Field(min_length=1, max_length=32)
    side: Literal["buy", "sell"]
    order_type: Literal["market", "limit"] = "market"
    quantity: Decimal = Field(gt=0, max_digits=30)
    price: Decimal | None = _PRICE
    name: str | None = Field(default=None, max_length=128)
    leverage: int | None = Field(default=None, ge=1, le=1000)
    reduce_only: bool = False
    time_in_force: Literal["gtc", "ioc", "alo"] = "gtc"
    client_order_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$"
    )
    take_profit_price: Decimal | None = _PRICE
    stop_loss_price: Decimal | None = _PRICE
    # None: the trader's default (its ``margin_mode``).
    margin_mode: MarginModeName | None = None

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("side", "order_type", "time_in_force", "margin_mode", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _limit_needs_price(self) -> OrderCreate:
        if self.order_type == "limit" and self.price is None:
            raise ValueError("a limit order needs a price")
        return self

    def intent(self) -> OrderIntent:
        return OrderIntent(
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            price=self.price if self.order_type == "limit" else None,
            leverage=self.leverage,
            reduce_only=self.reduce_only,
            time_in_force=self.time_in_force,
            take_profit_price=self.take_profit_price,
            stop_loss_price=self.stop_loss_price,
            client_order_id=self.client_order_id,
            name=self.name,
            margin_mode=self.margin_mode,
        )


class OrderOut(ResponseModel):
    id: int
    order_id: int
    account_id: int
    user_id: int
    client_order_id: str | None
    name: str | None
    symbol: str
    side: str
    order_type: str
    quantity: JsonDecimal
    price: JsonDecimal | None
    leverage: int
    margin_mode: MarginModeName
    reduce_only: bool
    time_in_force: str
    take_profit_price: JsonDecimal | None
    stop_loss_price: JsonDecimal | None
    status: str
    filled_quantity: JsonDecimal
    average_price: JsonDecimal | None
    reject_code: str | None
    status_reason: str | None
    created_at: UtcTime
    updated_at: UtcTime

    @classmethod
    def of(cls, order: TradingOrder) -> OrderOut:
        fields = {name: getattr(order, name) for name in cls.model_fields if name != "order_id"}
        return cls(**fields, order_id=order.id)


class FillOut(ResponseModel):
    id: int
    order_id: int | None
    symbol: str
    side: str
    price: JsonDecimal
    quantity: JsonDecimal
    fee: JsonDecimal
    realized_pnl: JsonDecimal
    liquidity: Literal["maker", "taker"]
    is_liquidation: bool
    time: UtcTime


class ExecuteOut(ResponseModel):
    status: Literal["ok"] = "ok"
    order_id: int
    execution_status: Literal["filled", "partially_filled", "open", "rejected"]
    fills: list[FillOut]
    reject_code: str | None = None
    message: str | None = None

    @classmethod
    def of(cls, report: ExecutionReport) -> ExecuteOut:
        return cls(
            order_id=report.order_id,
            execution_status=report.execution_status,
            fills=[fill_out(f) for f in report.fills],
            reject_code=report.reject_code,
            message=report.message,
        )


class ProcessOut(ResponseModel):
    processed: int
    succeeded: int
    failed: int


class PositionOut(ResponseModel):
    symbol: str
    side: Literal["long", "short"]
    size: JsonDecimal
    entry_price: JsonDecimal
    mark_price: JsonDecimal
    leverage: int
    liquidation_price: JsonDecimal | None
    unrealized_pnl: JsonDecimal
    margin_used: JsonDecimal
    opened_at: UtcTime
    margin_mode: MarginModeName
    isolated_margin: JsonDecimal | None


class PositionsPage(ResponseModel):
    positions: list[PositionOut]
    total_count: int
    total_unrealized_pnl: JsonDecimal


class AccountStateOut(ResponseModel):
    id: int
    account_id: int
    environment: str
    balance_total: JsonDecimal
    balance_available: JsonDecimal
    margin_used: JsonDecimal
    unrealized_pnl: JsonDecimal
    cash: JsonDecimal
    positions_value: JsonDecimal
    taken_at: UtcTime


class CurvePoint(ResponseModel):
    timestamp: UtcTime
    equity: JsonDecimal
    cash: JsonDecimal
    positions_value: JsonDecimal


def fill_out(fill: FillReport) -> FillOut:
    return FillOut.model_validate(fill)


def fill_json(fill: FillReport) -> dict[str, JsonValue]:
    return fill_out(fill).model_dump(mode="json")


def position_change_json(change: PositionChanged) -> dict[str, JsonValue]:
    """The bus's position event: the new net size (0 when closed) and its entry."""
    return {
        "symbol": change.symbol,
        "size": float(change.size),
        "previous_size": float(change.previous_size),
        "entry_price": float(change.entry_price),
        "leverage": change.leverage,
        "time": change.time.isoformat().replace("+00:00", "Z"),
    }


def equity_json(row: dict[str, Any]) -> dict[str, JsonValue]:
    taken_at: datetime = row["taken_at"]
    return CurvePoint(
        timestamp=taken_at,
        equity=row["equity"],
        cash=row["cash"],
        positions_value=row["positions_value"],
    ).model_dump(mode="json")
