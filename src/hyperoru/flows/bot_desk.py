"""What chat commands and the daily summary read and change about a user's traders: the
trader rows (accounts), their valuation and positions (trading), pausing and resuming
through the trader flow (so a resume resets the failure streak and reads see it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.accounts.schemas import AccountUpdate
from hyperoru.db.versions import DataVersions
from hyperoru.flows.traders import update_trader
from hyperoru.net.policy import OutboundGuard
from hyperoru.notifications.commands import TraderRef
from hyperoru.notifications.messages import Message, number, signed
from hyperoru.trading import valuation
from hyperoru.trading.codec import decode_state
from hyperoru.vault.cipher import SecretBox

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class BotDesk:
    box: SecretBox
    guard: OutboundGuard
    versions: DataVersions

    async def _accounts(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> list[Account]:
        query = select(Account).where(Account.user_id == user_id, Account.deleted_at.is_(None))
        if trader_ids:
            query = query.where(Account.id.in_(list(trader_ids)))
        return list(await session.scalars(query.order_by(Account.id)))

    async def traders(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> list[TraderRef]:
        return [TraderRef(a.id, a.name) for a in await self._accounts(session, user_id, trader_ids)]

    async def status(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> Message:
        accounts = await self._accounts(session, user_id, trader_ids)
        lines = [f"{a.name} (#{a.id}): {a.status}" for a in accounts] or ["No traders."]
        return Message("Traders", tuple(lines))

    async def positions(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> Message:
        accounts = await self._accounts(session, user_id, trader_ids)
        rows = await valuation.ledger_rows(session, [a.id for a in accounts])
        lines = []
        for account in accounts:
            ledger = rows.ledger(account.id)
            for p in decode_state(ledger.state).positions if ledger is not None else ():
                side = "long" if p.size > 0 else "short"
                lines.append(
                    f"{account.name}: {p.symbol} {side} {number(abs(p.size))} "
                    f"@ {number(p.entry_price)}"
                )
        return Message("Open positions", tuple(lines or ["No open positions."]))

    async def pnl(self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]) -> Message:
        accounts = await self._accounts(session, user_id, trader_ids)
        views = await valuation.account_views(session, accounts)
        lines = []
        total = Decimal(0)
        for view in views:
            gain = view.valuation.equity - view.account.initial_capital
            total += gain
            equity = number(view.valuation.equity.quantize(CENT))
            lines.append(f"{view.account.name}: equity {equity}, PnL {signed(gain)}")
        lines.append(f"Total PnL {signed(total)}")
        return Message("Profit and loss", tuple(lines))

    async def daily_summary(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> Message:
        pnl = await self.pnl(session, user_id, trader_ids)
        positions = await self.positions(session, user_id, trader_ids)
        accounts = await self._accounts(session, user_id, trader_ids)
        active = sum(1 for a in accounts if a.status == "active")
        return Message(
            "Daily summary",
            (*pnl.lines, f"Open positions: {_count(positions)}", f"Active traders: {active}"),
        )

    async def set_running(
        self, session: AsyncSession, user_id: int, trader_id: int, running: bool
    ) -> None:
        account = await session.get(Account, trader_id)
        if account is None or account.user_id != user_id or account.deleted_at is not None:
            return
        await update_trader(
            session,
            self.box,
            self.guard,
            account=account,
            data=AccountUpdate(is_active=running),
            versions=self.versions,
            paused_by="chat_command",
        )


def _count(positions: Message) -> int:
    return sum(1 for line in positions.lines if line != "No open positions.")
