"""The /ws messages about a user's traders: bootstrap, switch_account, get_snapshot,
get_asset_curve and place_order. Each goes through the same services and ownership
loader as the REST routes, so a socket can do nothing its token could not do over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import Field

from hyperoru.accounts import service as accounts
from hyperoru.accounts.models import Account
from hyperoru.accounts.presenters import account_out
from hyperoru.api_types import MAX_ID, RequestModel
from hyperoru.paging import ListWindow
from hyperoru.realtime.handlers import HandlerContext, Reply
from hyperoru.trading import service, valuation
from hyperoru.trading.execution import TraderExchanges
from hyperoru.trading.schemas import CurvePoint, ExecuteOut, OrderCreate, OrderOut, PositionOut

CURVE_POINTS = 288


class NoBody(RequestModel):
    pass


class AccountChoice(RequestModel):
    account_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class SwitchAccount(RequestModel):
    account_id: int = Field(ge=1, le=MAX_ID)


class CurveRequest(AccountChoice):
    timeframe: service.Timeframe = "5m"


def _paper(ctx: HandlerContext) -> TraderExchanges:
    # Paper or live per trader (the name predates live trading).
    return ctx.state.services.trading.exchanges


async def _chosen_account(ctx: HandlerContext, account_id: int | None) -> Account:
    """The named trader, else the one switched to, else the user's default; owned or 403."""
    async with ctx.state.services.sessionmaker() as db:
        wanted = account_id if account_id is not None else ctx.connection.account_id
        if wanted is not None:
            return await accounts.load_owned_account(db, user=ctx.user, account_id=wanted)
        return await accounts.default_account(db, user=ctx.user)


def _positions(reports: list[Any]) -> list[dict[str, Any]]:
    return [PositionOut.model_validate(p).model_dump(mode="json") for p in reports]


async def _bootstrap(ctx: HandlerContext, _: NoBody) -> Reply:
    async with ctx.state.services.sessionmaker() as db:
        owned = await accounts.list_accounts(
            db,
            user=ctx.user,
            include_hidden=True,
            window=ListWindow(limit=accounts.MAX_TRADERS_PER_USER),
        )
        views = await valuation.account_views(db, owned)
        orders = await service.list_orders(
            db, user=ctx.user, window=ListWindow(limit=1000), pending_only=True
        )
    paper = _paper(ctx)
    positions = {
        str(view.account.id): _positions(await paper.positions(account_id=view.account.id))
        for view in views
    }
    return Reply(
        "bootstrap",
        {
            "accounts": [account_out(v).model_dump(mode="json") for v in views],
            "positions": positions,
            "active_orders": [OrderOut.of(o).model_dump(mode="json") for o in orders],
        },
    )


async def _switch(ctx: HandlerContext, body: SwitchAccount) -> Reply:
    account = await _chosen_account(ctx, body.account_id)
    ctx.connection.account_id = account.id
    async with ctx.state.services.sessionmaker() as db:
        view = await valuation.account_view(db, account)
    return Reply(
        "account_switched",
        {"account_id": account.id, "account": account_out(view).model_dump(mode="json")},
    )


async def _snapshot(ctx: HandlerContext, body: AccountChoice) -> Reply:
    account = await _chosen_account(ctx, body.account_id)
    paper = _paper(ctx)
    balance = await paper.balance(account_id=account.id)
    return Reply(
        "snapshot",
        {
            "account_id": account.id,
            "equity": float(balance.total),
            "cash": float(balance.cash),
            "available": float(balance.available),
            "margin_used": float(balance.margin_used),
            "unrealized_pnl": float(balance.unrealized_pnl),
            "positions": _positions(await paper.positions(account_id=account.id)),
        },
    )


async def _asset_curve(ctx: HandlerContext, body: CurveRequest) -> Reply:
    account = await _chosen_account(ctx, body.account_id)
    async with ctx.state.services.sessionmaker() as db:
        rows = await service.asset_curve(
            db,
            account=account,
            timeframe=body.timeframe,
            window=ListWindow(limit=CURVE_POINTS),
            now=_paper(ctx).now(),
        )
    points = [
        CurvePoint(
            timestamp=start, equity=r.equity, cash=r.cash, positions_value=r.positions_value
        ).model_dump(mode="json")
        for start, r in rows
    ]
    return Reply(
        "asset_curve",
        {"account_id": account.id, "timeframe": body.timeframe, "points": points},
    )


async def _place_order(ctx: HandlerContext, body: OrderCreate) -> Reply:
    """Create and execute at once (the socket has no second step)."""
    paper = _paper(ctx)
    async with ctx.state.services.sessionmaker() as db:
        account = await accounts.load_owned_account(db, user=ctx.user, account_id=body.account_id)
        order, _created = await service.create_order(
            db, feed=paper.feed, account=account, intent=body.intent(), now=paper.now()
        )
    report = await paper.execute(account_id=account.id, order_id=order.id)
    async with ctx.state.services.sessionmaker() as db:
        executed = await service.load_owned_order(db, user=ctx.user, order_id=order.id)
    return Reply(
        "order_placed",
        {
            "order": OrderOut.of(executed).model_dump(mode="json"),
            "execution": ExecuteOut.of(report).model_dump(mode="json"),
        },
    )


def register_trading_messages(app: FastAPI) -> None:
    registry = app.state.services.ws_handlers
    registry.register("bootstrap", NoBody, _bootstrap)
    registry.register("switch_account", SwitchAccount, _switch)
    registry.register("get_snapshot", AccountChoice, _snapshot)
    registry.register("get_asset_curve", CurveRequest, _asset_curve)
    registry.register("place_order", OrderCreate, _place_order)
