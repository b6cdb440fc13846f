"""A live trader for the tests: created through the API (as paper), then switched to live
in the database (the API's live switch belongs to the credentials work) and given
in-memory credentials."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import update

from hyperoru.accounts.models import Account
from hyperoru.exchanges.venue import HyperliquidCredentials
from hyperoru.trading.live.client import LiveExchange
from hyperoru.trading.live.credentials import MemoryCredentials
from tests.helpers import Api
from tests.trading.helpers import Trader, new_trader

CREDENTIALS = HyperliquidCredentials(
    environment="testnet", master_address="0x" + "1" * 40, agent_private_key="0x" + "2" * 64
)


def live_client(app: FastAPI) -> LiveExchange:
    return app.state.services.trading.live


async def set_fields(app: FastAPI, trader: Trader, **fields: Any) -> None:
    services = app.state.services
    async with services.sessionmaker() as session:
        await session.execute(update(Account).where(Account.id == trader.id).values(**fields))
        await session.commit()
    await services.versions.bump(trader.user["id"])


async def live_trader(app: FastAPI, api: Api, *, credentials: bool = True, **fields: Any) -> Trader:
    trader = await new_trader(api)
    await set_fields(app, trader, execution_mode="live", **fields)
    live = live_client(app)
    if not isinstance(live.credentials, MemoryCredentials):
        live.credentials = MemoryCredentials()
    if credentials:
        assert isinstance(live.credentials, MemoryCredentials)
        live.credentials.by_trader[trader.id] = CREDENTIALS
    return trader
