"""Request and response bodies of /api/account.

Both documented spellings of the LLM fields are accepted (``model``/``base_url``/
``api_key`` and ``llm_model``/``llm_base_url``/``llm_api_key``) and both are returned,
except the key, which is write-only.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from hyperoru.accounts.models import (
    AccountStatus,
    AccountType,
    Exchange,
    ExecutionMode,
    HyperliquidEnvironment,
)
from hyperoru.api_types import MAX_ID, JsonDecimal, RequestModel, ResponseModel, UtcTime
from hyperoru.exchanges.base import MarginModeName

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    # NUL in particular: PostgreSQL refuses it in text, which would surface as a 500.
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _single_line(value: str) -> str:
    if "\n" in value or "\r" in value or "\t" in value:
        raise ValueError("must be a single line")
    return _no_control_characters(value).strip()


def _trader_name(value: str) -> str:
    value = _single_line(value)
    if not 1 <= len(value) <= 64:
        raise ValueError("must be 1 to 64 characters")
    return value


def _provider(value: str) -> str:
    value = value.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,31}", value):
        raise ValueError("must be a provider name such as openai, anthropic or ollama")
    return value


TraderName = Annotated[str, Field(max_length=256), AfterValidator(_trader_name)]
Description = Annotated[str, Field(max_length=2000), AfterValidator(_no_control_characters)]
LineText = Annotated[str, AfterValidator(_single_line)]
Provider = Annotated[str, Field(max_length=64), AfterValidator(_provider)]
Money = Annotated[Decimal, Field(gt=0, le=10**9, decimal_places=8)]
SmallId = Annotated[int, Field(ge=1, le=MAX_ID)]


FeeRate = Annotated[Decimal, Field(ge=Decimal("-0.001"), le=Decimal("0.01"), max_digits=12)]


class LlmFields(RequestModel):
    """A trader's model settings, under both spellings; every one optional here. Alone,
    the body of ``PUT /api/traders/{id}/llm`` (the ai-traders page's variant)."""

    llm_provider: Provider | None = None
    model: Annotated[LineText, Field(max_length=128)] | None = None
    llm_model: Annotated[LineText, Field(max_length=128)] | None = None
    base_url: Annotated[LineText, Field(max_length=2048)] | None = None
    llm_base_url: Annotated[LineText, Field(max_length=2048)] | None = None
    api_key: Annotated[LineText, Field(max_length=512)] | None = Field(
        default=None, description="Write-only; never returned"
    )
    llm_api_key: Annotated[LineText, Field(max_length=512)] | None = Field(
        default=None, description="Write-only; never returned"
    )

    @model_validator(mode="after")
    def _spellings_agree(self) -> LlmFields:
        for short, long in (
            ("model", "llm_model"),
            ("base_url", "llm_base_url"),
            ("api_key", "llm_api_key"),
        ):
            if (
                short in self.model_fields_set
                and long in self.model_fields_set
                and getattr(self, short) != getattr(self, long)
            ):
                raise ValueError(f"'{short}' and '{long}' name the same field: send one of them")
        return self

    def _sent(self, short: str, long: str) -> tuple[bool, Any]:
        if long in self.model_fields_set:
            return True, getattr(self, long)
        if short in self.model_fields_set:
            return True, getattr(self, short)
        return False, None

    @property
    def model_choice(self) -> tuple[bool, str | None]:
        """(sent?, value) of the model under either spelling."""
        return self._sent("model", "llm_model")

    @property
    def base_url_choice(self) -> tuple[bool, str | None]:
        return self._sent("base_url", "llm_base_url")

    @property
    def api_key_choice(self) -> tuple[bool, str | None]:
        return self._sent("api_key", "llm_api_key")

    def sent(self, name: str) -> bool:
        return name in self.model_fields_set


class AccountFields(LlmFields):
    """Fields shared by create and update; every one optional here."""

    description: Description | None = None
    account_type: AccountType | None = None
    auto_trading_enabled: bool | None = None
    show_on_dashboard: bool | None = None
    execution_mode: ExecutionMode | None = None
    exchange: Exchange | None = None
    hyperliquid_enabled: bool | None = None
    hyperliquid_environment: HyperliquidEnvironment | None = None
    # Upper bounds on leverage are business rules (422 LEVERAGE_TOO_HIGH), not shape.
    default_leverage: Annotated[int, Field(ge=1)] | None = None
    max_leverage: Annotated[int, Field(ge=1)] | None = None
    margin_mode: MarginModeName | None = None
    max_position_notional: Money | None = None
    # Live risk limits (docs/LIVE_TRADING.md "Safety rules"); paper traders keep them too.
    max_order_notional: Money | None = None
    max_daily_loss: Money | None = None
    allowed_symbols: (
        Annotated[list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,20}$")]], Field(max_length=50)]
        | None
    ) = None
    flatten_on_daily_loss: bool | None = None
    # Per-trader fee override (fractions: 0.00045 is 0.045%); a maker rebate may be negative.
    taker_fee_rate: FeeRate | None = None
    maker_fee_rate: FeeRate | None = None
    max_open_positions: Annotated[int, Field(ge=1, le=1000)] | None = None
    avatar_preset_id: Annotated[int, Field(ge=0, le=MAX_ID)] | None = None


class AccountCreate(AccountFields):
    name: TraderName
    initial_capital: Money = Decimal(10000)


class AccountUpdate(AccountFields):
    """Every field optional. ``null`` or ``""`` for the key or base URL clears it; server-
    owned fields (``user_id``, cash, ``equity``, ``status`` …) are ignored if sent."""

    name: TraderName | None = None
    initial_capital: Money | None = None
    # Resuming a trader the runtime paused (status "error") is setting this to true.
    is_active: bool | None = None
    totp_code: Annotated[str, Field(max_length=64)] | None = Field(
        default=None,
        description="A current two-factor code: needed to switch execution_mode to live",
    )


class AccountOut(ResponseModel):
    id: int
    account_id: int
    user_id: int
    name: str
    description: str | None
    account_type: AccountType
    model: str | None
    llm_model: str | None
    llm_provider: str | None
    base_url: str | None
    llm_base_url: str | None
    has_api_key: bool
    api_key_hint: str | None = Field(description="At most the last 4 characters of the key")
    initial_capital: JsonDecimal
    current_cash: JsonDecimal
    frozen_cash: JsonDecimal
    equity: JsonDecimal
    is_active: bool
    status: AccountStatus
    status_reason: str | None
    auto_trading_enabled: bool
    show_on_dashboard: bool
    execution_mode: ExecutionMode
    exchange: Exchange
    hyperliquid_enabled: bool
    hyperliquid_environment: HyperliquidEnvironment | None
    default_leverage: int
    max_leverage: int
    margin_mode: MarginModeName
    max_position_notional: JsonDecimal | None
    max_order_notional: JsonDecimal | None = None
    max_daily_loss: JsonDecimal | None = None
    allowed_symbols: list[str] | None = None
    flatten_on_daily_loss: bool = False
    taker_fee_rate: JsonDecimal | None
    maker_fee_rate: JsonDecimal | None
    max_open_positions: int | None
    avatar_preset_id: int | None
    created_at: UtcTime
    updated_at: UtcTime


class AccountOverview(ResponseModel):
    """Both documented overview shapes at once: the nested account with totals, and the
    flat summary fields."""

    account: AccountOut
    positions_value: JsonDecimal
    total_assets: JsonDecimal
    equity: JsonDecimal
    id: int
    name: str
    model: str | None
    trading_enabled: bool
    total_trades: int


Symbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,20}$")]


class StrategyUpdate(RequestModel):
    prompt_id: SmallId | None = None
    program_id: SmallId | None = None
    symbols: Annotated[list[Symbol], Field(max_length=50)] | None = None
    trigger_interval: int | None = Field(default=None, description="Seconds between runs")
    scheduled_trigger_enabled: bool | None = None
    signal_pool_ids: Annotated[list[SmallId], Field(max_length=50)] | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _one_strategy(self) -> StrategyUpdate:
        if self.prompt_id is not None and self.program_id is not None:
            raise ValueError("bind either prompt_id or program_id, not both")
        return self

    def sent(self, name: str) -> bool:
        return name in self.model_fields_set


class StrategyOut(ResponseModel):
    account_id: int
    prompt_id: int | None
    program_id: int | None
    symbols: list[str]
    trigger_interval: int
    scheduled_trigger_enabled: bool
    signal_pool_ids: list[int]
    enabled: bool
    updated_at: UtcTime | None
