"""Static inputs: asset metadata, fee schedules and the engine's venue-wide settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from hyperoru.trading.engine.enums import Liquidity, Venue
from hyperoru.trading.engine.money import money

DEFAULT_MIN_NOTIONAL = Decimal(10)
DEFAULT_SLIPPAGE_CAP = Decimal("0.05")
# Hyperliquid's market TP/SL orders carry a 10% slippage tolerance from the trigger price.
HYPERLIQUID_TRIGGER_SLIPPAGE = Decimal("0.10")


@dataclass(frozen=True, slots=True)
class AssetSpec:
    symbol: str
    sz_decimals: int
    max_leverage: int
    min_notional: Decimal = DEFAULT_MIN_NOTIONAL

    def __post_init__(self) -> None:
        if not 0 <= self.sz_decimals <= 6:
            raise ValueError("sz_decimals must be between 0 and 6 for perpetuals")
        if self.max_leverage < 1:
            raise ValueError("max_leverage must be at least 1")


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fee rates as fractions of notional (0.00045 is 0.045%)."""

    taker_rate: Decimal
    maker_rate: Decimal

    @classmethod
    def for_venue(cls, venue: Venue) -> FeeSchedule:
        """The venue's base-tier perpetual fees (no volume discount, no maker rebate)."""
        return _VENUE_FEES[venue]

    def fee(self, notional: Decimal, liquidity: Liquidity) -> Decimal:
        rate = self.taker_rate if liquidity is Liquidity.TAKER else self.maker_rate
        return money(notional * rate)


_VENUE_FEES: Mapping[Venue, FeeSchedule] = MappingProxyType(
    {
        Venue.HYPERLIQUID: FeeSchedule(
            taker_rate=Decimal("0.00045"), maker_rate=Decimal("0.00015")
        ),
        Venue.BINANCE: FeeSchedule(taker_rate=Decimal("0.0005"), maker_rate=Decimal("0.0002")),
    }
)


@dataclass(frozen=True, slots=True)
class TriggerFill:
    """How a fired take-profit or stop-loss fills: a market order (taker fee) whose worst
    price is ``trigger price × (1 ± cap)`` when ``cap`` is set (Hyperliquid's market
    trigger: a limit at the trigger ± 10%), or the engine's ordinary market-order cap
    (mid ± ``slippage_cap``) when it is ``None`` (Binance's ``*_MARKET`` conditional
    orders with ``workingType=MARK_PRICE``: a plain market order once triggered)."""

    cap: Decimal | None

    @classmethod
    def for_venue(cls, venue: Venue) -> TriggerFill:
        return _VENUE_TRIGGER_FILLS[venue]


_VENUE_TRIGGER_FILLS: Mapping[Venue, TriggerFill] = MappingProxyType(
    {
        Venue.HYPERLIQUID: TriggerFill(cap=HYPERLIQUID_TRIGGER_SLIPPAGE),
        Venue.BINANCE: TriggerFill(cap=None),
    }
)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything fixed for one trader's run: tradable assets, its fees, the slippage cap
    and its venue's rule for filling fired triggers.

    A per-trader fee override is simply another ``EngineConfig`` with other ``fees``.
    """

    assets: Mapping[str, AssetSpec]
    fees: FeeSchedule = field(default_factory=lambda: FeeSchedule.for_venue(Venue.HYPERLIQUID))
    slippage_cap: Decimal = DEFAULT_SLIPPAGE_CAP
    trigger_fill: TriggerFill = field(
        default_factory=lambda: TriggerFill.for_venue(Venue.HYPERLIQUID)
    )

    def __post_init__(self) -> None:
        # A read-only view, so a config shared by many traders cannot be changed under them.
        object.__setattr__(self, "assets", MappingProxyType(dict(self.assets)))

    @classmethod
    def of(
        cls, *assets: AssetSpec, fees: FeeSchedule | None = None, venue: Venue | None = None
    ) -> EngineConfig:
        """A config for ``assets``: ``venue``'s fees and trigger rule (Hyperliquid's by
        default), ``fees`` overriding its fees."""
        venue = venue if venue is not None else Venue.HYPERLIQUID
        fee_schedule = fees if fees is not None else FeeSchedule.for_venue(venue)
        return cls(
            assets={a.symbol: a for a in assets},
            fees=fee_schedule,
            trigger_fill=TriggerFill.for_venue(venue),
        )
