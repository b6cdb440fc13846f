"""Request and response bodies of /api/signals, /api/bindings and the program pickers."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, TypeAdapter, model_validator

from hyperoru.api_types import MAX_ID, RequestModel, ResponseModel, UtcTime

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_SIGNALS_PER_POOL = 20
MAX_SYMBOLS = 50
MAX_POOLS_PER_BINDING = 50
DEFAULT_COOLDOWN_SECONDS = 300
MAX_COOLDOWN_SECONDS = 86_400


def _name(value: str) -> str:
    value = value.strip()
    if _CONTROL.search(value):
        raise ValueError("must be a single line without control characters")
    if not 1 <= len(value) <= 120:
        raise ValueError("must be 1 to 120 characters")
    return value


Name = Annotated[str, AfterValidator(_name)]
# The same rules for names that arrive outside a model (an inline signal's).
NAME_RULES: TypeAdapter[str] = TypeAdapter(Name)
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Symbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,20}$")]
Config = Annotated[dict[str, Any], Field(description="indicator, period, interval, operator…")]


def _unique_upper(symbols: list[str]) -> list[str]:
    return list(dict.fromkeys(s.upper() for s in symbols))


def _unique(ids: list[int]) -> list[int]:
    return list(dict.fromkeys(ids))


Symbols = Annotated[list[Symbol], Field(max_length=MAX_SYMBOLS), AfterValidator(_unique_upper)]


# --- definitions ---------------------------------------------------------------------------


class DefinitionCreate(RequestModel):
    name: Name
    type: str
    config: Config
    enabled: bool = True


class DefinitionUpdate(RequestModel):
    name: Name | None = None
    type: str | None = None
    config: Config | None = None
    enabled: bool | None = None


class DefinitionOut(ResponseModel):
    id: int
    user_id: int
    name: str
    type: str
    config: dict[str, Any]
    enabled: bool
    created_at: UtcTime
    updated_at: UtcTime


# --- pools -------------------------------------------------------------------------------


InlineSignalBody = Annotated[
    dict[str, Any],
    Field(
        description="A new signal owned by you: the signal-system guide's flat form "
        '(`{"indicator": "rsi", "period": 14, "operator": "<", "threshold": 35}`) or a '
        "definition (`name?`, `type?`, `config`)"
    ),
]


class PoolCreate(RequestModel):
    """``signal_ids`` of existing definitions, inline ``signals`` (created with the pool,
    in the same transaction), or both."""

    name: Name
    signal_ids: Annotated[
        list[Id], Field(max_length=MAX_SIGNALS_PER_POOL), AfterValidator(_unique)
    ] = Field(default_factory=list)
    signals: Annotated[list[InlineSignalBody], Field(max_length=MAX_SIGNALS_PER_POOL)] = Field(
        default_factory=list
    )
    symbols: Annotated[Symbols, Field(min_length=1)]
    logic: Literal["and", "or"] = "and"
    enabled: bool = True
    cooldown_seconds: Annotated[int, Field(ge=0, le=MAX_COOLDOWN_SECONDS)] = (
        DEFAULT_COOLDOWN_SECONDS
    )


class PoolUpdate(RequestModel):
    name: Name | None = None
    signal_ids: (
        Annotated[
            list[Id],
            Field(min_length=1, max_length=MAX_SIGNALS_PER_POOL),
            AfterValidator(_unique),
        ]
        | None
    ) = None
    # Sent: the pool's signals become exactly `signal_ids` (if sent) and these, as created.
    signals: Annotated[list[InlineSignalBody], Field(max_length=MAX_SIGNALS_PER_POOL)] | None = None
    symbols: Annotated[Symbols, Field(min_length=1)] | None = None
    logic: Literal["and", "or"] | None = None
    enabled: bool | None = None
    cooldown_seconds: Annotated[int, Field(ge=0, le=MAX_COOLDOWN_SECONDS)] | None = None


class PoolOut(ResponseModel):
    id: int
    user_id: int
    name: str
    signal_ids: list[int]
    signals_count: int
    symbols: list[str]
    logic: str
    enabled: bool
    cooldown_seconds: int
    last_fired_at: UtcTime | None
    created_at: UtcTime
    updated_at: UtcTime


class SignalsOverview(ResponseModel):
    definitions: list[DefinitionOut]
    pools: list[PoolOut]


class TriggerOut(ResponseModel):
    id: int
    pool_id: int
    fired_at: UtcTime
    symbols: list[str]
    values: dict[str, Any]
    account_ids: list[int]


# --- bindings ------------------------------------------------------------------------------


class BindingFields(RequestModel):
    strategy_type: Literal["prompt", "program"] | None = None
    prompt_id: Id | None = None
    program_id: Id | None = None
    signal_pool_ids: (
        Annotated[list[Id], Field(max_length=MAX_POOLS_PER_BINDING), AfterValidator(_unique)] | None
    ) = None
    trigger_interval: int | None = Field(default=None, description="Seconds between runs")
    scheduled_trigger_enabled: bool | None = None
    params_override: dict[str, Any] | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _one_strategy(self) -> BindingFields:
        if self.prompt_id is not None and self.program_id is not None:
            raise ValueError("bind either prompt_id or program_id, not both")
        return self

    def sent(self, name: str) -> bool:
        return name in self.model_fields_set


class BindingCreate(BindingFields):
    account_id: Id


class BindingOut(ResponseModel):
    id: int
    user_id: int
    account_id: int
    strategy_type: str
    prompt_id: int | None
    program_id: int | None
    signal_pool_ids: list[int]
    trigger_interval: int
    scheduled_trigger_enabled: bool
    params_override: dict[str, Any]
    is_active: bool
    created_at: UtcTime
    updated_at: UtcTime


# --- program pickers -----------------------------------------------------------------------


class PoolSummary(ResponseModel):
    id: int
    name: str
    signals_count: int


class AccountSummary(ResponseModel):
    id: int
    name: str
    account_type: str
