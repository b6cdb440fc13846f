"""The account object as every transport shows it (REST, WebSocket)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from hyperoru.accounts.models import Account
from hyperoru.accounts.schemas import AccountOut
from hyperoru.accounts.service import AccountView
from hyperoru.accounts.valuation import Valuation

_EQUITY = "equity"


def _json(value: object) -> str:
    # Starlette's JSONResponse encoding, so a cached answer reads as a rendered one.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class AccountJson:
    """An account object encoded once per committed change, around its equity: the one
    field that moves with prices is joined in per read (``with_equity``)."""

    head: bytes
    tail: bytes

    @classmethod
    def of(cls, account: Account, valued: Valuation | None = None) -> AccountJson:
        """``valued``: where the cash fields come from when not the account row's (a live
        trader's venue reading)."""
        zero = Decimal(0)
        cash, frozen = account.current_cash, account.frozen_cash
        if valued is not None:
            cash, frozen = valued.cash, valued.frozen_cash
        unvalued = Valuation(cash, frozen, zero, equity=zero, total_assets=zero, total_trades=0)
        fields = account_out(AccountView(account, unvalued)).model_dump(mode="json")
        names = list(fields)
        at = names.index(_EQUITY)
        before = {n: fields[n] for n in names[:at]}
        after = {n: fields[n] for n in names[at + 1 :]}
        head = _json(before)[:-1] + f',"{_EQUITY}":'
        tail = "," + _json(after)[1:]
        return cls(head.encode(), tail.encode())

    def with_equity(self, equity: Decimal) -> bytes:
        # JsonDecimal's rule: decimals leave as JSON numbers (float).
        return self.head + _json(float(equity)).encode() + self.tail


def json_list(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def account_out(view: AccountView) -> AccountOut:
    """The contract's account object (both field spellings, never the key)."""
    account = view.account
    return AccountOut(
        id=account.id,
        account_id=account.id,
        user_id=account.user_id,
        name=account.name,
        description=account.description,
        account_type=account.account_type,
        model=account.llm_model,
        llm_model=account.llm_model,
        llm_provider=account.llm_provider,
        base_url=account.llm_base_url,
        llm_base_url=account.llm_base_url,
        has_api_key=account.has_api_key,
        api_key_hint=account.api_key_hint,
        initial_capital=account.initial_capital,
        # The valuation's: the ledger row's for paper, the venue's reading for live.
        current_cash=view.valuation.cash,
        frozen_cash=view.valuation.frozen_cash,
        equity=view.valuation.equity,
        is_active=account.is_active,
        status=account.status,
        status_reason=account.status_reason,
        auto_trading_enabled=account.auto_trading_enabled,
        show_on_dashboard=account.show_on_dashboard,
        execution_mode=account.execution_mode,
        exchange=account.exchange,
        hyperliquid_enabled=account.hyperliquid_enabled,
        hyperliquid_environment=account.hyperliquid_environment,
        default_leverage=account.default_leverage,
        max_leverage=account.max_leverage,
        margin_mode=account.margin_mode,
        max_position_notional=account.max_position_notional,
        max_order_notional=account.max_order_notional,
        max_daily_loss=account.max_daily_loss,
        allowed_symbols=account.allowed_symbols,
        flatten_on_daily_loss=bool(account.flatten_on_daily_loss),
        taker_fee_rate=account.taker_fee_rate,
        maker_fee_rate=account.maker_fee_rate,
        max_open_positions=account.max_open_positions,
        avatar_preset_id=account.avatar_preset_id,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )
