"""The one place a trader's ``ExchangeClient`` is chosen: paper or live, by the trader's
``execution_mode`` read when the call is made (a trader switched to live sends its next
order live). Everything that executes (the decision pipeline, the order routes, /ws
``place_order``, reads of positions and balance) goes through ``TraderExchanges``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts.models import Account
from hyperoru.exchanges.base import (
    BalanceReport,
    ExchangeClient,
    ExecutionReport,
    FillReport,
    OrderIntent,
    PositionReport,
    ProcessSummary,
)
from hyperoru.trading.live.client import LiveExchange
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.paper_client import PaperExchange


class TraderExchanges:
    venue = "per-trader"

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        paper: PaperExchange,
        live: LiveExchange,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.paper = paper
        self.live = live

    @property
    def feed(self) -> MarketFeed:
        return self.paper.feed

    def now(self) -> datetime:
        return self.paper.now()

    async def mode_of(self, account_id: int) -> str | None:
        async with self._sessionmaker() as session:
            return await session.scalar(
                select(Account.execution_mode).where(Account.id == account_id)
            )

    async def for_trader(self, account_id: int) -> ExchangeClient:
        """Live for a live trader; paper otherwise (a missing trader gets paper's 404)."""
        return self.for_mode(await self.mode_of(account_id))

    def for_mode(self, execution_mode: str | None) -> ExchangeClient:
        """The client of a trader whose ``execution_mode`` the caller has just read."""
        return self.live if execution_mode == "live" else self.paper

    async def place(self, *, account_id: int, intent: OrderIntent) -> ExecutionReport:
        client = await self.for_trader(account_id)
        return await client.place(account_id=account_id, intent=intent)

    async def execute(self, *, account_id: int, order_id: int) -> ExecutionReport:
        client = await self.for_trader(account_id)
        return await client.execute(account_id=account_id, order_id=order_id)

    async def cancel(self, *, account_id: int, order_id: int) -> None:
        client = await self.for_trader(account_id)
        await client.cancel(account_id=account_id, order_id=order_id)

    async def process_pending(self, *, account_ids: Sequence[int]) -> ProcessSummary:
        async with self._sessionmaker() as session:
            live = set(
                (
                    await session.scalars(
                        select(Account.id).where(
                            Account.id.in_(account_ids), Account.execution_mode == "live"
                        )
                    )
                ).all()
            )
        on_paper = await self.paper.process_pending(
            account_ids=[a for a in account_ids if a not in live]
        )
        on_live = await self.live.process_pending(account_ids=[a for a in account_ids if a in live])
        return ProcessSummary(
            on_paper.processed + on_live.processed,
            on_paper.succeeded + on_live.succeeded,
            on_paper.failed + on_live.failed,
        )

    async def positions(self, *, account_id: int) -> list[PositionReport]:
        client = await self.for_trader(account_id)
        return await client.positions(account_id=account_id)

    async def balance(self, *, account_id: int) -> BalanceReport:
        client = await self.for_trader(account_id)
        return await client.balance(account_id=account_id)

    async def fills(self, *, account_id: int, limit: int, offset: int) -> list[FillReport]:
        client = await self.for_trader(account_id)
        return await client.fills(account_id=account_id, limit=limit, offset=offset)
