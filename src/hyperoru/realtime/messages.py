"""The messages the feed itself answers: connect, subscribe, unsubscribe and ping."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts import service as accounts_service
from hyperoru.accounts.models import Account
from hyperoru.api_types import RequestModel
from hyperoru.auth.principal import Principal
from hyperoru.auth.schemas import UserOut
from hyperoru.auth.tokens import token_digest
from hyperoru.paging import ListWindow
from hyperoru.realtime.events import CHANNELS, Channel
from hyperoru.realtime.handlers import HandlerContext, HandlerRegistry, Reply
from hyperoru.realtime.protocol import WsError
from hyperoru.timeutils import isoformat_z, utcnow


class ConnectRequest(RequestModel):
    session_token: str | None = Field(default=None, max_length=256)


class ChannelsRequest(RequestModel):
    channels: list[Channel] = Field(max_length=len(CHANNELS) * 4)


class PingRequest(RequestModel):
    pass


def _account_summary(account: Account) -> dict[str, Any]:
    # A summary: the full trader (with valuation) is GET /api/account/{id} or `bootstrap`.
    return {
        "id": account.id,
        "account_id": account.id,
        "name": account.name,
        "account_type": account.account_type,
        "status": account.status,
        "is_active": account.is_active,
        "show_on_dashboard": account.show_on_dashboard,
        "execution_mode": account.execution_mode,
        "exchange": account.exchange,
    }


async def connected_payload(
    sessionmaker: async_sessionmaker[AsyncSession], user: Principal
) -> dict[str, Any]:
    """``connected``'s data: the user and a summary of each of their live traders."""
    async with sessionmaker() as db:
        accounts = await accounts_service.list_accounts(
            db,
            user=user,
            include_hidden=True,
            window=ListWindow(limit=accounts_service.MAX_TRADERS_PER_USER, offset=0),
        )
    return {
        "user": UserOut.model_validate(user).model_dump(mode="json"),
        "accounts": [_account_summary(account) for account in accounts],
    }


async def _connect(context: HandlerContext, body: ConnectRequest) -> Reply:
    # The socket is already authenticated; a different token cannot switch its user.
    identity = context.connection.identity
    if body.session_token is not None and token_digest(body.session_token) != identity.digest:
        raise WsError(
            "ALREADY_CONNECTED",
            "This socket is already authenticated; open a new socket for another session",
        )
    return Reply(
        "connected", await connected_payload(context.state.services.sessionmaker, context.user)
    )


def _ordered(channels: set[Channel]) -> list[Channel]:
    return [channel for channel in CHANNELS if channel in channels]


async def _subscribe(context: HandlerContext, body: ChannelsRequest) -> Reply:
    context.state.services.ws_hub.subscribe(context.connection, body.channels)
    return Reply("subscribed", {"channels": _ordered(context.connection.channels)})


async def _unsubscribe(context: HandlerContext, body: ChannelsRequest) -> Reply:
    context.state.services.ws_hub.unsubscribe(context.connection, body.channels)
    return Reply("unsubscribed", {"channels": _ordered(context.connection.channels)})


async def _ping(context: HandlerContext, body: PingRequest) -> Reply:
    return Reply("pong", {"server_time": isoformat_z(utcnow())})


def register_feed_messages(registry: HandlerRegistry) -> None:
    registry.register("connect", ConnectRequest, _connect)
    registry.register("subscribe", ChannelsRequest, _subscribe)
    registry.register("unsubscribe", ChannelsRequest, _unsubscribe)
    registry.register("ping", PingRequest, _ping)
