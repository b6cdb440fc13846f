"""Signals, pools and bindings. The evaluation task is started with the trader runtime
(``hyperoru.flows.decision_domain``), since it starts decision cycles."""

from __future__ import annotations

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.signals.router import bindings_router, programs_router, signals_router
from hyperoru.signals.runtime import SignalRuntime


def signal_runtime_for(app: FastAPI) -> SignalRuntime:
    """The app's signal runtime: reads the market of the app's services on every tick (so
    a swapped market is seen) and starts cycles through ``app.state.pipeline``."""
    services = app.state.services
    settings = services.settings
    return SignalRuntime(
        services.sessionmaker,
        lambda: app.state.services.market,
        lambda account_id, trigger: app.state.pipeline.run_cycle(account_id, trigger),
        tick_seconds=settings.runtime_tick_seconds,
        lease_seconds=settings.runtime_lease_seconds,
        cycle_timeout_seconds=settings.cycle_timeout_seconds,
        gate=app.state.cycle_gate,
        changed=services.versions.bump,
    )


DOMAIN = Domain(
    name="signals", protected_routers=(signals_router, bindings_router, programs_router)
)
