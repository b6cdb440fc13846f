"""/api/orders, the trader's positions, trades and asset curve, and the Hyperliquid-shaped
position and account-state views (contract §8)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request, Response
from pydantic import Field, TypeAdapter

from hyperoru.accounts import service as accounts
from hyperoru.accounts.dependencies import OwnedAccount
from hyperoru.accounts.exchange_credentials import credential_environment
from hyperoru.accounts.models import Exchange
from hyperoru.api_types import ResourceId
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.errors import ApiError, forbidden
from hyperoru.exchanges.base import BalanceReport, PositionReport
from hyperoru.http.dependencies import DbSession, Sessionmaker
from hyperoru.http.pagination import ListWindowParams, ListWindowQuery
from hyperoru.http.prerendered import json_response
from hyperoru.http.query_model import documented, parse_query
from hyperoru.trading import service
from hyperoru.trading.dependencies import Exchanges, OwnedOrder, Paper
from hyperoru.trading.models import TradingOrder
from hyperoru.trading.read_dependencies import OwnedTrader, Reads
from hyperoru.trading.read_model import TraderReads, TraderSnapshot
from hyperoru.trading.schemas import (
    AccountStateOut,
    CurvePoint,
    ExecuteOut,
    FillOut,
    OrderCreate,
    OrderOut,
    PositionOut,
    PositionsPage,
    ProcessOut,
    fill_out,
)

orders_router = APIRouter(prefix="/api/orders", tags=["orders"])
account_router = APIRouter(prefix="/api/account", tags=["orders"])
hyperliquid_router = APIRouter(prefix="/api/hyperliquid", tags=["orders"])
# Undocumented upstream (its public docs have only the Hyperliquid paths): the same
# answers for traders connected to Binance.
binance_router = APIRouter(prefix="/api/binance", tags=["orders"])


# _RELEASE: routes that load the trader through the request's session and then read
# through the paper client (its own session) give the request's connection back first.
# Holding it, every such request needs two connections at once, and as many concurrent
# requests as the pool has connections deadlock until the pool's timeout (SQLite's pool
# is 15: bench/api_read_paths.py with 64 connections on positions completed nothing).


def _position_out(position: PositionReport) -> PositionOut:
    return PositionOut.model_validate(position)


_POSITION_LIST = TypeAdapter(list[PositionOut])


@orders_router.post(
    "/create",
    status_code=201,
    response_model=OrderOut,
    responses={200: {"description": "The order already created with this client_order_id"}},
)
async def create_order(
    body: OrderCreate, user: CurrentUser, db: DbSession, paper: Paper, response: Response
) -> OrderOut:
    account = await accounts.load_owned_account(db, user=user, account_id=body.account_id)
    order, created = await service.create_order(
        db, feed=paper.feed, account=account, intent=body.intent(), now=paper.now()
    )
    if not created:
        response.status_code = 200
    return OrderOut.of(order)


@orders_router.post("/execute/{order_id}", response_model=ExecuteOut)
async def execute_order(
    order_id: ResourceId, user: CurrentUser, exchanges: Exchanges, db: DbSession
) -> ExecuteOut:
    # The owner and the venue in one read (the execution mode as the trader has it now).
    target = await service.owned_order_target(db, user=user, order_id=order_id)
    # Give the request's connection back before queueing on the trader's lock: waiters
    # holding connections would starve the one that holds the lock.
    await db.close()
    client = exchanges.for_mode(target.execution_mode)
    report = await client.execute(account_id=target.account_id, order_id=order_id)
    return ExecuteOut.of(report)


@orders_router.post("/cancel/{order_id}", response_model=OrderOut)
async def cancel_order(order: OwnedOrder, paper: Exchanges, db: DbSession) -> OrderOut:
    await db.close()
    await paper.cancel(account_id=order.account_id, order_id=order.id)
    cancelled = await db.get(TradingOrder, order.id)
    assert cancelled is not None
    return OrderOut.of(cancelled)


@orders_router.post("/process-all", response_model=ProcessOut)
async def process_all(user: CurrentUser, db: DbSession, paper: Exchanges) -> ProcessOut:
    account_ids = await service.user_account_ids(db, user=user)
    await db.close()  # executions use their own transactions
    summary = await paper.process_pending(account_ids=account_ids)
    return ProcessOut(
        processed=summary.processed, succeeded=summary.succeeded, failed=summary.failed
    )


@orders_router.get("/pending", response_model=list[OrderOut])
async def pending_orders(
    user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[OrderOut]:
    orders = await service.list_orders(db, user=user, window=window, pending_only=True)
    return [OrderOut.of(o) for o in orders]


@orders_router.get("/account/{account_id}", response_model=list[OrderOut])
async def account_orders(
    account: OwnedAccount, user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[OrderOut]:
    orders = await service.list_orders(db, user=user, window=window, account_id=account.id)
    return [OrderOut.of(o) for o in orders]


@orders_router.get("/user/{user_id}", response_model=list[OrderOut])
async def user_orders(
    user_id: ResourceId, user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[OrderOut]:
    if user_id != user.id:
        raise forbidden("Only your own orders can be listed")
    orders = await service.list_orders(db, user=user, window=window)
    return [OrderOut.of(o) for o in orders]


async def _trader_positions(
    trader: TraderSnapshot, reads: TraderReads, request: Request
) -> list[PositionReport]:
    """A live trader's from its venue reading, a paper trader's from the read copy."""
    if trader.account.execution_mode == "live":
        live = request.app.state.services.trading.live
        return list(await live.positions(account_id=trader.account.id))
    return await reads.positions(trader)


async def _trader_balance(
    trader: TraderSnapshot, reads: TraderReads, request: Request
) -> BalanceReport:
    if trader.account.execution_mode == "live":
        live = request.app.state.services.trading.live
        return await live.balance(account_id=trader.account.id)
    return await reads.balance(trader)


@account_router.get("/{account_id}/positions", response_model=list[PositionOut])
async def positions(trader: OwnedTrader, reads: Reads, request: Request) -> Response:
    shown = [_position_out(p) for p in await _trader_positions(trader, reads, request)]
    return json_response(_POSITION_LIST.dump_json(shown))


@account_router.get("/{account_id}/trades", response_model=list[FillOut])
async def trades(trader: OwnedTrader, paper: Paper, window: ListWindowQuery) -> list[FillOut]:
    account_id = trader.account.id
    fills = await paper.fills(account_id=account_id, limit=window.limit, offset=window.offset)
    return [fill_out(f) for f in fills]


class CurveQuery(ListWindowParams):
    timeframe: service.Timeframe = Field("5m", description="Bucket size")


_CURVE_DEFAULTS = CurveQuery()


@account_router.get(
    "/{account_id}/asset-curve",
    response_model=list[CurvePoint],
    openapi_extra=documented(CurveQuery),
)
async def asset_curve(trader: OwnedTrader, request: Request) -> Response:
    # Polled by dashboards: the query is read here (``http.query_model``) and the page
    # comes remembered from the caller's copy (``TraderReads.asset_curve_json``).
    query = parse_query(request, CurveQuery, _CURVE_DEFAULTS)
    reads = request.app.state.services.trader_reads
    body = await reads.asset_curve_json(trader, timeframe=query.timeframe, window=query.window())
    return json_response(body)


async def _venue_positions(
    venue: Exchange, trader: TraderSnapshot, reads: TraderReads, request: Request
) -> Response:
    _check_venue(venue, trader)
    found = await _trader_positions(trader, reads, request)
    page = PositionsPage(
        positions=[_position_out(p) for p in found],
        total_count=len(found),
        total_unrealized_pnl=sum((p.unrealized_pnl for p in found), Decimal(0)),
    )
    return json_response(page)


async def _venue_state(
    venue: Exchange,
    trader: TraderSnapshot,
    reads: TraderReads,
    request: Request,
    sessionmaker: Sessionmaker,
) -> Response:
    _check_venue(venue, trader)
    account = trader.account
    environment = "paper"
    if account.execution_mode == "live":
        # Read and let go of the connection before the reading, which may ask the venue.
        async with sessionmaker() as session:
            environment = await credential_environment(session, account.id) or ""
    balance = await _trader_balance(trader, reads, request)
    state = AccountStateOut(
        id=account.id,
        account_id=account.id,
        environment=environment,
        balance_total=balance.total,
        balance_available=balance.available,
        margin_used=balance.margin_used,
        unrealized_pnl=balance.unrealized_pnl,
        cash=balance.cash,
        positions_value=balance.positions_value,
        taken_at=balance.taken_at,
    )
    return json_response(state)


def _check_venue(venue: Exchange, trader: TraderSnapshot) -> None:
    """A live trader is read under its own venue's path; a paper trader under either (paper
    stands for both venues), so scripts written for the Hyperliquid paths keep working."""
    account = trader.account
    if account.execution_mode == "live" and account.exchange != venue:
        raise ApiError(
            409,
            "EXCHANGE_MISMATCH",
            f"Trader {account.id} trades live on {account.exchange}; read "
            f"/api/{account.exchange}/... for its venue state",
        )


@hyperliquid_router.get("/accounts/{account_id}/positions", response_model=PositionsPage)
async def hyperliquid_positions(trader: OwnedTrader, reads: Reads, request: Request) -> Response:
    return await _venue_positions("hyperliquid", trader, reads, request)


@hyperliquid_router.get("/account/{account_id}/state", response_model=AccountStateOut)
async def hyperliquid_state(
    trader: OwnedTrader, reads: Reads, request: Request, sessionmaker: Sessionmaker
) -> Response:
    return await _venue_state("hyperliquid", trader, reads, request, sessionmaker)


@binance_router.get("/accounts/{account_id}/positions", response_model=PositionsPage)
async def binance_positions(trader: OwnedTrader, reads: Reads, request: Request) -> Response:
    return await _venue_positions("binance", trader, reads, request)


@binance_router.get("/account/{account_id}/state", response_model=AccountStateOut)
async def binance_state(
    trader: OwnedTrader, reads: Reads, request: Request, sessionmaker: Sessionmaker
) -> Response:
    return await _venue_state("binance", trader, reads, request, sessionmaker)
