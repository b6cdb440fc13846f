"""Many orders at once, on one trader and across traders: every order fills once, every
fill and fee is stored, and the ledger's cash is exactly what the fills add up to. On
SQLite the writers of different traders queue on the engine's write gate; on PostgreSQL
on row locks."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import func, select

from hyperoru.accounts.models import Account
from hyperoru.trading.codec import decode_state
from hyperoru.trading.models import FundingPayment, PaperLedger, TradingFill, TradingOrder
from tests.helpers import Api
from tests.trading.helpers import Trader, new_trader

TRADERS = 3
ORDERS_EACH = 8  # buys and sells in turn: every trader ends flat
QUANTITY = Decimal("0.01")


async def _order(trader: Trader, n: int) -> None:
    await trader.trade(side="buy" if n % 2 == 0 else "sell", quantity=float(QUANTITY))


async def test_parallel_orders_on_and_across_traders_add_up_exactly(app: FastAPI, api: Api) -> None:
    traders = [await new_trader(api) for _ in range(TRADERS)]
    await asyncio.gather(*(_order(t, n) for t in traders for n in range(ORDERS_EACH)))

    async with app.state.services.sessionmaker() as session:
        for trader in traders:
            account = await session.get(Account, trader.id)
            ledger = await session.get(PaperLedger, trader.id)
            assert account is not None and ledger is not None
            orders = (
                await session.scalars(
                    select(TradingOrder).where(TradingOrder.account_id == trader.id)
                )
            ).all()
            fills = (
                await session.scalars(
                    select(TradingFill)
                    .where(TradingFill.account_id == trader.id)
                    .order_by(TradingFill.fill_id)
                )
            ).all()
            funding = await session.scalar(
                select(func.count()).where(FundingPayment.account_id == trader.id)
            )
            state = decode_state(ledger.state)

            assert len(orders) == ORDERS_EACH
            assert all(o.status == "filled" and o.filled_quantity == QUANTITY for o in orders)
            # Each order's fills add up to it, numbered without gaps or repeats.
            assert [f.fill_id for f in fills] == list(range(1, len(fills) + 1))
            assert state.last_fill_id == len(fills)
            for order in orders:
                mine = [f for f in fills if f.order_id == order.id]
                assert mine and sum(f.quantity for f in mine) == QUANTITY
            bought = sum(f.quantity for f in fills if f.side == "buy")
            sold = sum(f.quantity for f in fills if f.side == "sell")
            assert bought == sold == QUANTITY * (ORDERS_EACH // 2)
            assert not state.positions
            # Cash is the capital plus realised PnL less every fee, to the last digit, on
            # the ledger and on the trader's row alike (no funding hour passed).
            assert funding == 0
            fees = sum(f.fee for f in fills)
            assert fees > 0
            expected = account.initial_capital + sum(f.realized_pnl for f in fills) - fees
            assert state.cash == expected
            assert account.current_cash == expected
