"""What a backtest replays with, derived from the trader it stands for: the one place
program and prompt backtests take fees, limits and venue metadata from a trader.

A trader's backtest pays the fees its paper fills pay (``trading.fees.trader_fees``:
its own rates, else its venue's base tier) and obeys its limits; without a trader, the
base tier of the venue whose data is replayed and the defaults of a new trader. Sent
percents win over both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from hyperoru.accounts.models import Account
from hyperoru.market.providers.base import AssetMeta
from hyperoru.replay.settings import ReplaySettings
from hyperoru.trading.engine import FeeSchedule, Venue
from hyperoru.trading.fees import trader_fees

# A fixed cost per fill on top of the fee: backtests see no order book to walk. The
# backtesting guide's example value.
DEFAULT_SLIPPAGE_PCT = Decimal("0.05")
# Without a trader to take them from: the engine's own defaults for a new trader.
DEFAULT_MAX_LEVERAGE = 10
DEFAULT_LEVERAGE = 1
_HUNDRED = Decimal(100)


def backtest_fees(provider_name: str, account: Account | None) -> FeeSchedule:
    """The trader's fees, or (no trader) the base tier of the replayed data's venue
    (Hyperliquid's for the simulated market)."""
    if account is not None:
        return trader_fees(account)
    return FeeSchedule.for_venue(_data_venue(provider_name))


def _data_venue(provider_name: str) -> Venue:
    """The venue whose data is replayed (Hyperliquid's rules for the simulated market)."""
    return Venue.BINANCE if provider_name == "binance" else Venue.HYPERLIQUID


def replay_settings(
    *,
    symbols: Sequence[str],
    interval: str,
    account: Account | None,
    assets: Mapping[str, AssetMeta],
    provider_name: str,
    initial_balance: Decimal,
    slippage_pct: Decimal | None = None,
    maker_fee_pct: Decimal | None = None,
    taker_fee_pct: Decimal | None = None,
    decide_every: int = 1,
    scheduled: bool = True,
) -> ReplaySettings:
    """Raises ``ValueError`` for settings a replay cannot run with."""
    fees = backtest_fees(provider_name, account)
    known = [s for s in symbols if s in assets]
    return ReplaySettings(
        symbols=tuple(symbols),
        interval=interval,
        initial_balance=initial_balance,
        slippage_pct=DEFAULT_SLIPPAGE_PCT if slippage_pct is None else slippage_pct,
        maker_fee_pct=fees.maker_rate * _HUNDRED if maker_fee_pct is None else maker_fee_pct,
        taker_fee_pct=fees.taker_rate * _HUNDRED if taker_fee_pct is None else taker_fee_pct,
        max_leverage=account.max_leverage if account else DEFAULT_MAX_LEVERAGE,
        default_leverage=account.default_leverage if account else DEFAULT_LEVERAGE,
        max_position_notional=account.max_position_notional if account else None,
        max_open_positions=account.max_open_positions if account else None,
        decide_every=decide_every,
        scheduled=scheduled,
        sz_decimals={s: assets[s].sz_decimals for s in known},
        asset_max_leverage={s: assets[s].max_leverage for s in known},
        venue=account.exchange if account else _data_venue(provider_name).value,
        margin_mode=account.margin_mode if account else "cross",
    )
