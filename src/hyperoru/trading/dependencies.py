"""Route dependencies of the trading domain: the paper client and the owned-order loader."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hyperoru.api_types import ResourceId
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.exchanges.base import ExchangeClient
from hyperoru.http.dependencies import DbSession
from hyperoru.trading import service
from hyperoru.trading.execution import TraderExchanges
from hyperoru.trading.models import TradingOrder
from hyperoru.trading.paper_client import PaperExchange


async def get_paper(request: Request) -> PaperExchange:
    return request.app.state.services.trading.paper


async def get_trader_exchange(request: Request) -> ExchangeClient | None:
    """Where previews read positions, fills and balance: the trader's venue, paper or
    live by its ``execution_mode`` (``trading.execution``)."""
    return request.app.state.services.trading.exchanges


async def get_exchanges(request: Request) -> TraderExchanges:
    return request.app.state.services.trading.exchanges


async def owned_order(order_id: ResourceId, user: CurrentUser, db: DbSession) -> TradingOrder:
    return await service.load_owned_order(db, user=user, order_id=order_id)


Paper = Annotated[PaperExchange, Depends(get_paper)]
Exchanges = Annotated[TraderExchanges, Depends(get_exchanges)]
OwnedOrder = Annotated[TradingOrder, Depends(owned_order)]
TraderExchange = Annotated[ExchangeClient | None, Depends(get_trader_exchange)]
