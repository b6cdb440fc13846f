"""What one replay is run with: symbols, interval, money, fees, slippage, trader limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from hyperoru.exchanges.base import MarginModeName
from hyperoru.trading.engine import FeeSchedule

INTERVAL_MINUTES: Mapping[str, int] = MappingProxyType(
    {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440}
)
MINUTES_PER_YEAR = 365 * 24 * 60  # crypto trades every day of the year
# Used for a symbol the caller gives no venue metadata for (callers should pass the
# venue's own figures; these are Hyperliquid's most common values).
DEFAULT_SZ_DECIMALS = 4
DEFAULT_ASSET_MAX_LEVERAGE = 20
# The engine caps every taker fill at 5% from mid; a larger slippage could never fill.
MAX_SLIPPAGE_PCT = Decimal(5)
ReplayVenue = Literal["hyperliquid", "binance"]
VENUES = ("hyperliquid", "binance")
VENUE_RULES_DOC = (
    "the venue whose rules the replay follows (how fired TP/SL orders fill): the trader's "
    "exchange, else the replayed data's venue"
)
MARGIN_MODE_DOC = "margin mode of orders that name none: the trader's, else cross"
MARGIN_MODES = ("cross", "isolated")
_HUNDRED = Decimal(100)


def _decimal(value: Any) -> Decimal:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    """Percent fields are percents (``0.05`` means 0.05 %), as in the API's backtest config.

    ``decide_every`` is the number of bars between decisions (trigger interval / interval);
    ``sz_decimals`` and ``asset_max_leverage`` are the venue's per-symbol metadata.
    """

    symbols: tuple[str, ...]
    interval: str
    initial_balance: Decimal = Decimal(10000)
    slippage_pct: Decimal = Decimal(0)
    maker_fee_pct: Decimal = Decimal("0.015")
    taker_fee_pct: Decimal = Decimal("0.045")
    max_leverage: int = 10
    default_leverage: int = 1
    max_position_notional: Decimal | None = None
    max_open_positions: int | None = None
    decide_every: int = 1
    sz_decimals: Mapping[str, int] = field(default_factory=dict)
    asset_max_leverage: Mapping[str, int] = field(default_factory=dict)
    # Replayed signal pools: bar open time (epoch ms) → the trigger the strategy sees at
    # that bar's close. ``scheduled`` False means signal triggers are the only decisions.
    signal_triggers: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    scheduled: bool = True
    # The venue the trader stands for (its rule for filling fired TP/SL orders) and the
    # margin mode of orders that do not name one: what its paper fills would use.
    venue: ReplayVenue = "hyperliquid"
    margin_mode: MarginModeName = "cross"
    # What ``data.get_factor`` reads besides the built-ins: the owner's custom factors
    # (name → expression) frozen at submit. None while the factor engine is off: every
    # read is then None, as in a live cycle.
    factors: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "symbols", tuple(s.upper() for s in self.symbols))
        for name in ("initial_balance", "slippage_pct", "maker_fee_pct", "taker_fee_pct"):
            set_(self, name, _decimal(getattr(self, name)))
        if self.max_position_notional is not None:
            set_(self, "max_position_notional", _decimal(self.max_position_notional))
        set_(self, "sz_decimals", MappingProxyType(_upper_keys(self.sz_decimals)))
        set_(self, "asset_max_leverage", MappingProxyType(_upper_keys(self.asset_max_leverage)))
        set_(
            self,
            "signal_triggers",
            MappingProxyType({int(k): dict(v) for k, v in dict(self.signal_triggers).items()}),
        )
        if self.factors is not None:
            set_(
                self, "factors", MappingProxyType({str(k): str(v) for k, v in self.factors.items()})
            )
        if not self.symbols or len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols must be a non-empty list without repeats")
        if self.interval not in INTERVAL_MINUTES:
            raise ValueError(f"interval must be one of {', '.join(INTERVAL_MINUTES)}")
        if self.initial_balance <= 0:
            raise ValueError("initial_balance must be positive")
        if not Decimal(0) <= self.slippage_pct < MAX_SLIPPAGE_PCT:
            raise ValueError(f"slippage_pct must be in [0, {MAX_SLIPPAGE_PCT})")
        if self.maker_fee_pct < 0 or self.taker_fee_pct < 0:
            raise ValueError("fees cannot be negative")
        if not 1 <= self.default_leverage <= self.max_leverage:
            raise ValueError("default_leverage must be between 1 and max_leverage")
        if self.decide_every < 1:
            raise ValueError("decide_every must be at least 1")
        if self.venue not in VENUES:
            raise ValueError(f"venue must be one of {', '.join(VENUES)}")
        if self.margin_mode not in MARGIN_MODES:
            raise ValueError(f"margin_mode must be one of {', '.join(MARGIN_MODES)}")

    @property
    def interval_minutes(self) -> int:
        return INTERVAL_MINUTES[self.interval]

    @property
    def bars_per_year(self) -> float:
        return MINUTES_PER_YEAR / self.interval_minutes

    @property
    def fees(self) -> FeeSchedule:
        """The percent fields as the engine's rates."""
        return FeeSchedule(
            taker_rate=self.taker_fee_pct / _HUNDRED, maker_rate=self.maker_fee_pct / _HUNDRED
        )

    def sz_decimals_of(self, symbol: str) -> int:
        return self.sz_decimals.get(symbol, DEFAULT_SZ_DECIMALS)

    def asset_max_leverage_of(self, symbol: str) -> int:
        return self.asset_max_leverage.get(symbol, DEFAULT_ASSET_MAX_LEVERAGE)

    def to_plain(self) -> dict[str, Any]:
        return {
            "symbols": list(self.symbols),
            "interval": self.interval,
            "initial_balance": str(self.initial_balance),
            "slippage_pct": str(self.slippage_pct),
            "maker_fee_pct": str(self.maker_fee_pct),
            "taker_fee_pct": str(self.taker_fee_pct),
            "max_leverage": self.max_leverage,
            "default_leverage": self.default_leverage,
            "max_position_notional": None
            if self.max_position_notional is None
            else str(self.max_position_notional),
            "max_open_positions": self.max_open_positions,
            "decide_every": self.decide_every,
            "sz_decimals": dict(self.sz_decimals),
            "asset_max_leverage": dict(self.asset_max_leverage),
            # Pairs, since JSON object keys would turn the times into strings.
            "signal_triggers": [[t, dict(v)] for t, v in sorted(self.signal_triggers.items())],
            "scheduled": self.scheduled,
            "venue": self.venue,
            "margin_mode": self.margin_mode,
            "factors": None if self.factors is None else dict(self.factors),
        }

    @classmethod
    def from_plain(cls, plain: Mapping[str, Any]) -> ReplaySettings:
        values = dict(plain)
        values["symbols"] = tuple(values["symbols"])
        values["signal_triggers"] = {int(t): v for t, v in values.get("signal_triggers") or ()}
        return cls(**{k: v for k, v in values.items() if v is not None or k in _NULLABLE})


_NULLABLE = frozenset({"max_position_notional", "max_open_positions"})


def _upper_keys(table: Mapping[str, int]) -> dict[str, int]:
    return {str(k).upper(): int(v) for k, v in table.items()}
