"""Recording engine events: a replayed result (the same fills, funding hour and
liquidation again) is a no-op, never a second trade."""

from __future__ import annotations

from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import func, select

from hyperoru.accounts.models import Account
from hyperoru.trading.engine import (
    AccountState,
    EngineResult,
    Fill,
    FundingPaid,
    Liquidated,
    Liquidity,
    Side,
)
from hyperoru.trading.ledger_store import Recorded, record
from hyperoru.trading.models import FundingPayment, Liquidation, TradingFill
from tests.helpers import Api
from tests.trading.helpers import new_trader
from tests.trading.market import T0

D = Decimal


async def test_recording_the_same_result_twice_stores_it_once(app: FastAPI, api: Api) -> None:
    trader = await new_trader(api)
    fill = Fill(
        fill_id=1, order_id="liquidation:1", symbol="BTC", side=Side.SELL, price=D(45000),
        quantity=D(1), fee=D("20.25"), liquidity=Liquidity.TAKER, realized_pnl=D(-5000),
        time=T0, is_liquidation=True,
    )  # fmt: skip
    funding = FundingPaid("BTC", T0, D(1), D(45000), D("0.0001"), D("4.5"))
    liquidated = Liquidated(T0, D(100), D(562.5), ("BTC",))
    result = EngineResult(AccountState(cash=D(0)), (funding, liquidated, fill))

    stored = []
    for _ in range(2):
        async with app.state.services.sessionmaker() as session:
            account = await session.get(Account, trader.id)
            assert account is not None
            recorded = Recorded()
            await record(session, account=account, results=[result], recorded=recorded)
            await session.commit()
            stored.append(len(recorded.fills))
    assert stored == [1, 0]
    async with app.state.services.sessionmaker() as session:
        for model in (TradingFill, FundingPayment, Liquidation):
            count = await session.scalar(select(func.count()).select_from(model))
            assert count == 1, model.__name__
