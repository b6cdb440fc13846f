"""Applying a new market snapshot to an account: the engine's clock-driven half."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hyperoru.trading.engine.config import EngineConfig
from hyperoru.trading.engine.events import EngineResult
from hyperoru.trading.engine.funding import settle_funding
from hyperoru.trading.engine.ledger import Ledger
from hyperoru.trading.engine.liquidation import liquidate_if_needed
from hyperoru.trading.engine.market import MarketSnapshot
from hyperoru.trading.engine.money import in_engine_context
from hyperoru.trading.engine.resting import fill_resting_orders
from hyperoru.trading.engine.state import AccountState
from hyperoru.trading.engine.triggers import fire_triggers


@in_engine_context
def on_market(
    state: AccountState,
    markets: Mapping[str, MarketSnapshot],
    *,
    config: EngineConfig,
    now: datetime,
) -> EngineResult:
    """Bring ``state`` up to ``now`` under ``markets``, in this fixed order.

    1. Re-mark positions to the snapshot marks.
    2. Settle funding for each hour boundary passed since the last settlement.
    3. Fill resting limit orders the market traded through (maker, oldest first).
    4. Fire take-profit and stop-loss triggers the mark reached (taker, oldest first).
    5. Liquidate everything if equity is now below total maintenance margin.

    Symbols missing from ``markets`` keep their stored mark and see no fills or triggers.
    """
    ledger = Ledger(state, config, markets, now)
    settle_funding(ledger)
    fill_resting_orders(ledger)
    fire_triggers(ledger)
    liquidate_if_needed(ledger)
    return EngineResult(ledger.state(), tuple(ledger.events))
