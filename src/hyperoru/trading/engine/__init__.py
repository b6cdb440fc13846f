"""The pure paper-trading engine (contract §8): no database, no HTTP, no clock.

Give it an ``AccountState``, an ``EngineConfig`` (assets and fees), market snapshots and
``now``; get back a new state and the events that explain it. Paper trading and backtests
both drive it; only the driver and the clock differ. Assumptions: docs/PAPER_ENGINE.md.
"""

from hyperoru.trading.engine.config import AssetSpec, EngineConfig, FeeSchedule, TriggerFill
from hyperoru.trading.engine.enums import (
    Liquidity,
    MarginMode,
    OrderStatus,
    OrderType,
    RejectCode,
    Side,
    TimeInForce,
    TriggerKind,
    Venue,
)
from hyperoru.trading.engine.events import (
    EngineResult,
    Event,
    Fill,
    FundingPaid,
    Liquidated,
    OrderResult,
    OrderUpdated,
    PositionChanged,
    TriggerPlaced,
)
from hyperoru.trading.engine.lifecycle import InvalidTransition, advance_status, is_terminal
from hyperoru.trading.engine.margin import AccountMetrics, liquidation_price, measure
from hyperoru.trading.engine.market import BookLevel, MarketSnapshot, OrderBook
from hyperoru.trading.engine.orders import cancel_order, place_order
from hyperoru.trading.engine.state import (
    AccountState,
    OrderRequest,
    Position,
    RestingOrder,
    TriggerOrder,
)
from hyperoru.trading.engine.updates import on_market

__all__ = [
    "AccountMetrics",
    "AccountState",
    "AssetSpec",
    "BookLevel",
    "EngineConfig",
    "EngineResult",
    "Event",
    "FeeSchedule",
    "Fill",
    "FundingPaid",
    "InvalidTransition",
    "Liquidated",
    "Liquidity",
    "MarginMode",
    "MarketSnapshot",
    "OrderBook",
    "OrderRequest",
    "OrderResult",
    "OrderStatus",
    "OrderType",
    "OrderUpdated",
    "Position",
    "PositionChanged",
    "RejectCode",
    "RestingOrder",
    "Side",
    "TimeInForce",
    "TriggerFill",
    "TriggerKind",
    "TriggerOrder",
    "TriggerPlaced",
    "Venue",
    "advance_status",
    "cancel_order",
    "is_terminal",
    "liquidation_price",
    "measure",
    "on_market",
    "place_order",
]
