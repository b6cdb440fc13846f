"""Hourly funding: payment = signed size * mark * hourly rate; longs pay a positive rate."""

from __future__ import annotations

from datetime import datetime, timedelta

from hyperoru.trading.engine.ledger import Ledger
from hyperoru.trading.engine.money import money

HOUR = timedelta(hours=1)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def settle_funding(ledger: Ledger) -> None:
    """Settle every hour boundary in (last settled, now], oldest first, symbols sorted.

    A position opened or reversed after a boundary does not pay for it. Every boundary
    uses the mark and rate of the current snapshot, so a driver catching up after a gap
    should step through the missed hours with their own snapshots.
    """
    if ledger.funding_settled_at is None:
        # The first snapshot only starts the clock: nothing was held before it.
        ledger.funding_settled_at = floor_hour(ledger.now)
        return
    boundary = floor_hour(ledger.funding_settled_at) + HOUR
    while boundary <= ledger.now:
        for symbol in sorted(ledger.positions):
            position = ledger.positions[symbol]
            market = ledger.markets.get(symbol)
            if market is None or market.funding_rate is None or position.opened_at >= boundary:
                continue
            payment = money(position.size * market.mark_price * market.funding_rate)
            ledger.pay_funding(position, market.funding_rate, payment, boundary)
        ledger.funding_settled_at = boundary
        boundary += HOUR
