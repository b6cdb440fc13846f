"""Typed views of the main answers. Each keeps the whole JSON object in ``raw`` and
answers any field it does not declare by attribute or item access, so a field the server
adds later is usable before this module knows it.

Numbers arrive as ``Decimal`` (the client parses JSON floats exactly, like the server's
ledger) and times as aware ``datetime`` in UTC.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

M = TypeVar("M", bound="Resource")


def parse_time(value: Any) -> Any:
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


_TIME_FIELDS: dict[type, frozenset[str]] = {}


def _time_fields(cls: type) -> frozenset[str]:
    if cls not in _TIME_FIELDS:
        hints = typing.get_type_hints(cls)
        _TIME_FIELDS[cls] = frozenset(
            f.name for f in dataclasses.fields(cls) if datetime in typing.get_args(hints[f.name])
        )
    return _TIME_FIELDS[cls]


@dataclass(frozen=True)
class Resource:
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls: type[M], data: dict[str, Any]) -> M:
        times = _time_fields(cls)
        values = {
            f.name: (parse_time(data.get(f.name)) if f.name in times else data.get(f.name))
            for f in dataclasses.fields(cls)
            if f.name != "raw"
        }
        return cls(raw=data, **values)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the dataclass does not declare.
        try:
            return self.__dict__["raw"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


@dataclass(frozen=True)
class User(Resource):
    id: int
    username: str
    email: str | None
    is_active: bool
    created_at: datetime | None


@dataclass(frozen=True)
class LoginResult(Resource):
    session_token: str
    token_type: str | None
    expires_at: datetime | None

    @property
    def user(self) -> User:
        return User.from_json(self.raw["user"])


@dataclass(frozen=True)
class Trader(Resource):
    """An AI trader (the API's *account*)."""

    id: int
    name: str
    account_type: str | None
    llm_provider: str | None
    model: str | None
    status: str | None
    initial_capital: Decimal | None
    current_cash: Decimal | None
    equity: Decimal | None
    max_leverage: int | None
    created_at: datetime | None


@dataclass(frozen=True)
class Order(Resource):
    id: int
    account_id: int
    symbol: str
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal | None
    status: str
    filled_quantity: Decimal | None
    average_price: Decimal | None
    created_at: datetime | None


@dataclass(frozen=True)
class Execution(Resource):
    order_id: int
    execution_status: str
    fills: list[dict[str, Any]]
    reject_code: str | None


@dataclass(frozen=True)
class Position(Resource):
    symbol: str
    side: str
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal | None
    leverage: int | None
    unrealized_pnl: Decimal | None
    opened_at: datetime | None


@dataclass(frozen=True)
class Fill(Resource):
    id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    quantity: Decimal
    fee: Decimal
    realized_pnl: Decimal | None
    time: datetime | None


@dataclass(frozen=True)
class DecisionRecord(Resource):
    id: int
    account_id: int
    status: str
    operation: str | None
    symbol: str | None
    reasoning: str | None
    executed: bool | None
    order_ids: list[int] | None
    created_at: datetime | None


@dataclass(frozen=True)
class Backtest(Resource):
    """A program backtest or a prompt backtest job, with its metrics once done."""

    id: int
    status: str
    progress: Any
    total_trades: int | None
    total_pnl: Decimal | None
    final_equity: Decimal | None
    fingerprint: str | None
    error: Any
    created_at: datetime | None
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Program(Resource):
    id: int
    name: str
    description: str | None
    code: str
    params: dict[str, Any] | None
    # Its traders run it only while enabled; test-runs and backtests run it anyway.
    enabled: bool | None
    created_at: datetime | None


@dataclass(frozen=True)
class Prompt(Resource):
    id: int
    name: str
    description: str | None
    content: str
    is_system: bool | None
    created_at: datetime | None


@dataclass(frozen=True)
class Signal(Resource):
    id: int
    name: str
    type: str
    config: dict[str, Any]
    enabled: bool | None
    created_at: datetime | None


@dataclass(frozen=True)
class SignalPool(Resource):
    id: int
    name: str
    signal_ids: list[int]
    symbols: list[str]
    logic: str | None
    enabled: bool | None
    created_at: datetime | None


@dataclass(frozen=True)
class Binding(Resource):
    id: int
    account_id: int
    strategy_type: str
    prompt_id: int | None
    program_id: int | None
    is_active: bool | None
    created_at: datetime | None
