"""/api/account: the caller's AI traders (every answer carries trading's valuation, and a
strategy names templates, programs and pools: so the routes call flows)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from hyperoru.accounts.dependencies import OwnedAccount
from hyperoru.accounts.live_gate import LiveSwitch
from hyperoru.accounts.presenters import account_out
from hyperoru.accounts.schemas import (
    AccountCreate,
    AccountOut,
    AccountOverview,
    AccountUpdate,
    StrategyOut,
    StrategyUpdate,
)
from hyperoru.accounts.service import AccountView
from hyperoru.auth.dependencies import CurrentUser, TwoFactor
from hyperoru.auth.principal import Principal
from hyperoru.auth.second_factor import SecondFactor
from hyperoru.flows import traders
from hyperoru.http.dependencies import DbSession
from hyperoru.http.pagination import ListWindowParams
from hyperoru.http.prerendered import json_response
from hyperoru.http.query_model import documented, parse_query
from hyperoru.services import AppServices, Services
from hyperoru.strategies import primary
from hyperoru.strategies.models import AccountStrategy
from hyperoru.trading.read_dependencies import OwnedTrader, Reads
from hyperoru.trading.read_model import remembered

router = APIRouter(prefix="/api/account", tags=["accounts"])


def live_switch(services: Services, user: Principal, second_factor: SecondFactor) -> LiveSwitch:
    """The operator's switch, and a fresh code from the caller, for entering live."""

    async def confirm(code: str | None) -> None:
        await second_factor.require_fresh_totp(user, code)

    return LiveSwitch(enabled=services.settings.live_trading == "enabled", confirm=confirm)


def _overview_out(view: AccountView) -> AccountOverview:
    account = view.account
    return AccountOverview(
        account=account_out(view),
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
class TraderListQuery(ListWindowParams):
    include_hidden: bool = Field(False, description="Include traders hidden from the dashboard")


_LIST_DEFAULTS = TraderListQuery()


@router.get("/list", response_model=list[AccountOut], openapi_extra=documented(TraderListQuery))
async def list_accounts(user: CurrentUser, request: Request) -> Response:
    # What dashboards poll first: the query is read here (``http.query_model``), not
    # declared, and the body comes remembered from the caller's copy; the token, the
    # rate limit and the owner are still checked on every request (``CurrentUser``).
    query = parse_query(request, TraderListQuery, _LIST_DEFAULTS)
    reads = request.app.state.services.trader_reads
    body = await traders.trader_list_json(
        reads, user=user, include_hidden=query.include_hidden, window=query.window()
    )
    return json_response(body)


@router.post("/", status_code=201, response_model=AccountOut)
async def create_account(
    body: AccountCreate, user: CurrentUser, db: DbSession, services: AppServices
) -> AccountOut:
    box, guard = services.secret_box, services.outbound_guard
    live = LiveSwitch(enabled=services.settings.live_trading == "enabled")
    view = await traders.create_trader(
        db, box, guard, user=user, data=body, versions=services.versions, live=live
    )
    return account_out(view)


@router.get("/overview", response_model=AccountOverview)
async def default_overview(user: CurrentUser, reads: Reads) -> Response:
    return json_response(_overview_out(await traders.default_trader_view(reads, user=user)))


@router.get("/{account_id}", response_model=AccountOut)
async def get_account(trader: OwnedTrader, reads: Reads) -> Response:
    return json_response(traders.trader_json(reads, trader))


@router.put("/{account_id}", response_model=AccountOut)
async def update_account(
    body: AccountUpdate,
    account: OwnedAccount,
    user: CurrentUser,
    db: DbSession,
    services: AppServices,
    second_factor: TwoFactor,
) -> AccountOut:
    box, guard = services.secret_box, services.outbound_guard
    view = await traders.update_trader(
        db,
        box,
        guard,
        account=account,
        data=body,
        versions=services.versions,
        live=live_switch(services, user, second_factor),
    )
    return account_out(view)


@router.delete("/{account_id}", status_code=204, response_class=Response)
async def delete_account(account: OwnedAccount, db: DbSession, services: AppServices) -> Response:
    await traders.delete_trader(db, account=account, versions=services.versions)
    return Response(status_code=204)


@router.get("/{account_id}/overview", response_model=AccountOverview)
async def account_overview(trader: OwnedTrader, reads: Reads) -> Response:
    # Encoded once per copy and marks (the only input besides the copy), as the list.
    body = remembered(
        trader.memo,
        ("overview", reads.marks([trader])),
        lambda: _overview_out(traders.trader_view(reads, trader)).model_dump_json().encode(),
    )
    return json_response(body)


@router.get("/{account_id}/strategy", response_model=StrategyOut)
async def get_strategy(account: OwnedAccount, db: DbSession) -> StrategyOut:
    return _strategy_out(await primary.get_strategy(db, account=account))


@router.put("/{account_id}/strategy", response_model=StrategyOut)
async def update_strategy(
    body: StrategyUpdate,
    account: OwnedAccount,
    user: CurrentUser,
    db: DbSession,
    services: AppServices,
) -> StrategyOut:
    strategy = await traders.update_trader_strategy(
        db, user=user, account=account, data=body, versions=services.versions
    )
    return _strategy_out(strategy)
