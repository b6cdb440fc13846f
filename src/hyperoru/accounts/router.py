"""/api/account: the caller's AI traders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from hyperoru.accounts import service
from hyperoru.accounts.dependencies import OwnedAccount
from hyperoru.accounts.models import AccountStrategy
from hyperoru.accounts.schemas import (
    AccountCreate,
    AccountOut,
    AccountOverview,
    AccountUpdate,
    StrategyOut,
    StrategyUpdate,
)
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import DbSession
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.net.dependencies import Guard
from hyperoru.vault.dependencies import Vault

router = APIRouter(prefix="/api/account", tags=["accounts"])


def _account_out(view: service.AccountView) -> AccountOut:
    account = view.account
    return AccountOut(
        id=account.id,
        account_id=account.id,
        user_id=account.user_id,
        name=account.name,
        description=account.description,
        account_type=account.account_type,  # type: ignore[arg-type]
        model=account.llm_model,
        llm_model=account.llm_model,
        llm_provider=account.llm_provider,
        base_url=account.llm_base_url,
        llm_base_url=account.llm_base_url,
        has_api_key=account.has_api_key,
        api_key_hint=account.api_key_hint,
        initial_capital=account.initial_capital,
        current_cash=account.current_cash,
        frozen_cash=account.frozen_cash,
        equity=view.valuation.equity,
        is_active=account.is_active,
        status=account.status,  # type: ignore[arg-type]
        status_reason=account.status_reason,
        auto_trading_enabled=account.auto_trading_enabled,
        show_on_dashboard=account.show_on_dashboard,
        execution_mode=account.execution_mode,  # type: ignore[arg-type]
        exchange=account.exchange,  # type: ignore[arg-type]
        hyperliquid_enabled=account.hyperliquid_enabled,
        hyperliquid_environment=account.hyperliquid_environment,  # type: ignore[arg-type]
        default_leverage=account.default_leverage,
        max_leverage=account.max_leverage,
        max_position_notional=account.max_position_notional,
        max_open_positions=account.max_open_positions,
        avatar_preset_id=account.avatar_preset_id,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _overview_out(view: service.AccountView) -> AccountOverview:
    account = view.account
    return AccountOverview(
        account=_account_out(view),
        positions_value=view.valuation.positions_value,
        total_assets=view.valuation.total_assets,
        equity=view.valuation.equity,
        id=account.id,
        name=account.name,
        model=account.llm_model,
        trading_enabled=account.auto_trading_enabled,
        total_trades=view.valuation.total_trades,
    )


def _strategy_out(strategy: AccountStrategy) -> StrategyOut:
    return StrategyOut(
        account_id=strategy.account_id,
        prompt_id=strategy.prompt_id,
        program_id=strategy.program_id,
        symbols=list(strategy.symbols),
        trigger_interval=strategy.trigger_interval,
        scheduled_trigger_enabled=strategy.scheduled_trigger_enabled,
        signal_pool_ids=list(strategy.signal_pool_ids),
        enabled=strategy.enabled,
        updated_at=strategy.updated_at,
    )


# Fixed paths come before "/{account_id}" so "list" and "overview" are never read as ids.
@router.get("/list", response_model=list[AccountOut])
async def list_accounts(
    user: CurrentUser,
    db: DbSession,
    window: ListWindowQuery,
    include_hidden: Annotated[
        bool, Query(description="Include traders hidden from the dashboard")
    ] = False,
) -> list[AccountOut]:
    views = await service.list_accounts(db, user=user, include_hidden=include_hidden, window=window)
    return [_account_out(v) for v in views]


@router.post("/", status_code=201, response_model=AccountOut)
async def create_account(
    body: AccountCreate, user: CurrentUser, db: DbSession, box: Vault, guard: Guard
) -> AccountOut:
    return _account_out(await service.create_account(db, box, guard, user=user, data=body))


@router.get("/overview", response_model=AccountOverview)
async def default_overview(user: CurrentUser, db: DbSession) -> AccountOverview:
    return _overview_out(await service.default_account_view(db, user=user))


@router.get("/{account_id}", response_model=AccountOut)
async def get_account(account: OwnedAccount, db: DbSession) -> AccountOut:
    return _account_out(await service.account_view(db, account=account))


@router.put("/{account_id}", response_model=AccountOut)
async def update_account(
    body: AccountUpdate, account: OwnedAccount, db: DbSession, box: Vault, guard: Guard
) -> AccountOut:
    view = await service.update_account(db, box, guard, account=account, data=body)
    return _account_out(view)


@router.delete("/{account_id}", status_code=204, response_class=Response)
async def delete_account(account: OwnedAccount, db: DbSession) -> Response:
    await service.delete_account(db, account=account)
    return Response(status_code=204)


@router.get("/{account_id}/overview", response_model=AccountOverview)
async def account_overview(account: OwnedAccount, db: DbSession) -> AccountOverview:
    return _overview_out(await service.account_view(db, account=account))


@router.get("/{account_id}/strategy", response_model=StrategyOut)
async def get_strategy(account: OwnedAccount, db: DbSession) -> StrategyOut:
    return _strategy_out(await service.get_strategy(db, account=account))


@router.put("/{account_id}/strategy", response_model=StrategyOut)
async def update_strategy(
    body: StrategyUpdate, account: OwnedAccount, db: DbSession
) -> StrategyOut:
    return _strategy_out(await service.update_strategy(db, account=account, data=body))
