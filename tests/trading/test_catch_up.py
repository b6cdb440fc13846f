"""Catching up after downtime: the monitor finds a trader whose ledger was last brought up
to date long ago and replays the missed minutes from 1-minute candles and the funding
history (docs/PAPER_ENGINE.md, section 13), exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.market.providers.base import Candle, FundingRate
from hyperoru.trading.models import FundingPayment
from tests.helpers import Api
from tests.trading.helpers import new_trader, tick
from tests.trading.market import T0, ScriptedMarket, TestClock

D = Decimal


def _flat(minute: int, price: int) -> Candle:
    p = D(price)
    return Candle(T0 + timedelta(minutes=minute), p, p, p, p, D(1))


async def test_downtime_is_replayed_funding_hour_by_hour_then_the_stop(
    app: FastAPI, api: Api, clock: TestClock, market: ScriptedMarket
) -> None:
    trader = await new_trader(api, initial_capital=10000)
    clock.at(10)
    # A long at 50010 with a stop at 49000 (fee 4.5009).
    await trader.trade(side="buy", quantity=0.2, leverage=5, stop_loss_price=49000)

    # Down from 00:10 to 03:30. BTC sat at 50000 except at 02:15, when a candle traded
    # down to 48900: its path for a long is open 50000, low 48900, high 50000, close 49500.
    candles = [_flat(m, 50000) for m in range(11, 210)]
    candles[135 - 11] = Candle(
        T0 + timedelta(minutes=135), D(50000), D(50000), D(48900), D(49500), D(1)
    )
    market.candle_rows["BTC"] = candles
    market.funding_rows["BTC"] = [
        FundingRate("BTC", D("0.0001"), T0 + timedelta(hours=1), 1),
        FundingRate("BTC", D("0.0002"), T0 + timedelta(hours=2), 1),
        FundingRate("BTC", D("0.0003"), T0 + timedelta(hours=3), 1),
    ]
    clock.at(210)
    await market.set("BTC", 49500)
    await tick(app)

    # 01:00 pays 0.2 * 50000 * 0.0001 = 1; 02:00 pays 2; the stop sells 0.2 at its own
    # price, 49000, as the path falls through it at 02:15 (the bar path backtests use:
    # pnl 0.2 * (49000 - 50010) = -202, fee 9800 * 0.00045 = 4.41); flat at 03:00.
    trades = await trader.get(f"/api/account/{trader.id}/trades")
    assert [(t["side"], t["price"], t["realized_pnl"], t["fee"], t["time"]) for t in trades] == [
        ("sell", 49000, -202, 4.41, "2026-01-01T02:15:00Z"),
        ("buy", 50010, 0, 4.5009, "2026-01-01T00:10:00Z"),
    ]
    async with app.state.services.sessionmaker() as session:
        payments = (
            await session.scalars(select(FundingPayment).order_by(FundingPayment.time))
        ).all()
    assert [(p.time.hour, p.payment) for p in payments] == [(1, 1), (2, 2)]
    expected_cash = 10000 - 4.5009 - 1 - 2 - 202 - 4.41
    overview = await trader.get(f"/api/account/{trader.id}/overview")
    assert overview["account"]["current_cash"] == round(expected_cash, 8)
    assert await trader.get(f"/api/account/{trader.id}/positions") == []

    # The missed minutes are on the asset curve: the 02:00 hour ends flat after the stop.
    hourly = await trader.get(f"/api/account/{trader.id}/asset-curve", timeframe="1h")
    assert [p["timestamp"][11:16] for p in hourly] == ["00:00", "01:00", "02:00", "03:00"]
    assert hourly[2]["positions_value"] == 0

    # Nothing is replayed twice.
    clock.at(211)
    await tick(app)
    assert len(await trader.get(f"/api/account/{trader.id}/trades")) == 2
    again = await trader.get(f"/api/account/{trader.id}/overview")
    assert again["account"]["current_cash"] == overview["account"]["current_cash"]
