"""The fees a trader pays: the one rule its paper fills and its backtests share."""

from __future__ import annotations

from hyperoru.accounts.models import Account
from hyperoru.trading.engine import FeeSchedule
from hyperoru.trading.market_feed import venue_of


def trader_fees(account: Account) -> FeeSchedule:
    """The trader's own rates, each falling back to its venue's base tier."""
    base = FeeSchedule.for_venue(venue_of(account.exchange))
    return FeeSchedule(
        taker_rate=base.taker_rate if account.taker_fee_rate is None else account.taker_fee_rate,
        maker_rate=base.maker_rate if account.maker_fee_rate is None else account.maker_fee_rate,
    )
