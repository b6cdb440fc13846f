"""/api/analytics (api map §4.12): the caller's own numbers only. Conventions (periods,
annualisation, null rules, what a trade is) are in docs/ANALYTICS.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from hyperoru.accounts.service import load_owned_account
from hyperoru.analytics import decisions, factor_contribution, service
from hyperoru.analytics import schemas as out
from hyperoru.analytics.replay import trade_replay
from hyperoru.analytics.service import Scope, Window
from hyperoru.analytics.trades import Trade
from hyperoru.api_types import MAX_ID, ResourceId
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.errors import forbidden, validation_error
from hyperoru.factors.dependencies import require_engine
from hyperoru.http.dependencies import DbSession
from hyperoru.trading.dependencies import Paper

Row = dict[str, Any]

router = APIRouter(prefix="/api/analytics", tags=["analytics"])

MAX_DAYS = 3650
Days = Annotated[int, Query(ge=1, le=MAX_DAYS, description="Lookback in days (default 30)")]
Period = Annotated[
    Literal["1h", "1d", "1w"],
    Query(description="Return period: 1h (8760/year), 1d (365/year, default), 1w (52/year)"),
]
UserId = Annotated[
    str | None, Query(description="Accepted for the documented clients: must be the caller")
]
AccountId = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="Only this one of your traders (none: all of them)"),
]
TraderId = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="The feature page's name for account_id")
]


def _only_self(user: CurrentUser, user_id: str | None) -> None:
    """``?user_id=`` (the feature page's clients send it) may only name the caller."""
    if user_id is None or user_id == "":
        return
    if not user_id.isdigit() or not 1 <= int(user_id) <= MAX_ID:
        raise validation_error("user_id must be a user id", field="user_id")
    if int(user_id) != user.id:
        raise forbidden("Analytics cover only your own data")


async def _window(paper: Paper, days: Days = 30, period: Period = "1d") -> Window:
    return Window.ending(paper.now(), days=days, period=period)


async def _scope(
    user: CurrentUser,
    db: DbSession,
    window: Annotated[Window, Depends(_window)],
    user_id: UserId = None,
    account_id: AccountId = None,
    trader_id: TraderId = None,
) -> Scope:
    """Whose trades a route covers. Every route reads its filter here, so another user's
    trader gets the same answer everywhere: 403 FORBIDDEN (404 ACCOUNT_NOT_FOUND when it
    does not exist or was deleted)."""
    _only_self(user, user_id)
    if trader_id is not None and account_id is not None and trader_id != account_id:
        raise validation_error("trader_id and account_id name different traders", "trader_id")
    chosen = trader_id if trader_id is not None else account_id
    if chosen is not None:
        await load_owned_account(db, user=user, account_id=chosen)
    return Scope(user.id, window, chosen)


AnalyticsScope = Annotated[Scope, Depends(_scope)]


@router.get("/summary", response_model=out.SummaryOut)
async def summary(db: DbSession, scope: AnalyticsScope) -> Row:
    return await service.summary(db, scope)


@router.get("/by-strategy", response_model=list[out.StrategyRow])
async def by_strategy(db: DbSession, scope: AnalyticsScope) -> list[Row]:
    return await service.by_strategy(db, scope)


@router.get("/by-account", response_model=list[out.AccountRow])
async def by_account(db: DbSession, scope: AnalyticsScope) -> list[Row]:
    return await service.by_account(db, scope)


@router.get("/by-symbol", response_model=list[out.SymbolRow])
async def by_symbol(db: DbSession, scope: AnalyticsScope) -> list[Row]:
    return await service.by_symbol(db, scope)


@router.get("/by-operation", response_model=list[out.OperationRow])
async def by_operation(db: DbSession, scope: AnalyticsScope) -> list[Row]:
    return await service.by_operation(db, scope)


@router.get("/by-trigger-type", response_model=list[out.TriggerTypeRow])
async def by_trigger_type(db: DbSession, scope: AnalyticsScope) -> list[Row]:
    return await service.by_trigger_type(db, scope)


@router.get(
    "/by-factor", response_model=list[out.FactorRow], dependencies=[Depends(require_engine)]
)
async def by_factor(request: Request, db: DbSession, scope: AnalyticsScope) -> list[Row]:
    """Each factor (the built-ins, then the caller's custom ones) at the caller's trade
    entries vs their returns; 403
    FACTOR_ENGINE_DISABLED while the factor engine is off, like /api/factors."""
    services = request.app.state.services
    return await factor_contribution.by_factor(
        db,
        services.sessionmaker,
        services.market.provider,
        scope=scope,
        interval=services.settings.factor_interval,
    )


@router.get("/ai-attribution", response_model=out.AttributionOut)
async def ai_attribution(db: DbSession, scope: AnalyticsScope) -> Row:
    return await decisions.ai_attribution(db, scope)


@router.get("/programs", response_model=list[out.ProgramRow])
async def programs(
    db: DbSession,
    scope: AnalyticsScope,
    program_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[Row]:
    return await decisions.program_analytics(db, scope, program_id)


@router.get(
    "/programs/{program_id}/factor-correlation",
    response_model=out.ProgramFactorsOut,
    dependencies=[Depends(require_engine)],
)
async def program_factor_correlation(
    program_id: ResourceId, request: Request, db: DbSession, scope: AnalyticsScope
) -> Row:
    """Each factor at the entries of the caller's trades the program opened, against their
    returns; 403 FACTOR_ENGINE_DISABLED while the factor engine is off."""
    services = request.app.state.services
    return await factor_contribution.program_factor_correlation(
        db,
        services.sessionmaker,
        services.market.provider,
        scope=scope,
        program_id=program_id,
        interval=services.settings.factor_interval,
    )


def _trade(trade: Trade) -> Row:
    return {
        "account_id": trade.account_id,
        "symbol": trade.symbol,
        "side": trade.side,
        "operation": trade.operation,
        "quantity": trade.quantity,
        "entry_time": trade.entry_time,
        "exit_time": trade.exit_time,
        "entry_price": trade.entry_price,
        "exit_price": trade.exit_price,
        "entry_notional": trade.entry_notional,
        "exit_reason": trade.exit_reason,
        "realized_pnl": trade.realized_pnl,
        "fees": trade.fees,
        "funding": trade.funding,
        "pnl": trade.pnl,
        "return_pct": trade.return_pct,
        "duration_hours": trade.duration_hours,
        "fill_ids": list(trade.fill_ids),
        "opening_order_id": trade.opening_order_id,
        "trigger_type": trade.trigger_type,
        "strategy": trade.strategy,
        "decision_id": trade.cause.decision_id,
        "prompt_id": trade.cause.prompt_id,
        "program_id": trade.cause.program_id,
        "binding_id": trade.cause.binding_id,
    }


@router.get("/trades", response_model=list[out.TradeOut])
async def trades(db: DbSession, scope: AnalyticsScope) -> list[Row]:
    return [_trade(t) for t in await service.trade_list(db, scope)]


@router.get("/replay/{order_id}", response_model=out.ReplayOut)
async def replay(order_id: ResourceId, user: CurrentUser, db: DbSession) -> out.ReplayOut:
    return await trade_replay(db, user=user, order_id=order_id)
