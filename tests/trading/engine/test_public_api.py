"""The engine package exports exactly what the paper client and backtests build on."""

from __future__ import annotations

import subprocess
import sys

import hyperoru.trading.engine as engine


def test_the_public_names_are_pinned() -> None:
    assert sorted(engine.__all__) == [
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
    assert all(hasattr(engine, name) for name in engine.__all__)


def test_importing_the_engine_loads_no_database_http_or_app_code() -> None:
    # A fresh interpreter, so modules other tests imported do not hide a dependency.
    probe = (
        "import sys, hyperoru.trading.engine; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'fastapi', 'starlette', 'httpx', 'pydantic') "
        "or m in ('hyperoru.app', 'hyperoru.db', 'hyperoru.settings')))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"
