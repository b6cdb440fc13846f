"""Times every call to a live venue, without the venue packages or the live client knowing:
the app's connector is wrapped so that each adapter it opens reports its calls.

The outcome label takes a fixed set of values: ``ok``, the venue error's code in lower
case without its ``VENUE_`` prefix (``rejected``, ``rate_limited``, ``unavailable`` …),
``unknown_outcome`` (a state-changing request that may or may not have taken effect) and
``error`` for anything else (a bug, or a cancelled call)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TypeVar

from hyperoru.exchanges.venue import (
    CredentialCheck,
    HyperliquidCredentials,
    SymbolRules,
    UnknownOutcome,
    Venue,
    VenueAccount,
    VenueAdapter,
    VenueConnector,
    VenueCredentials,
    VenueEnvironment,
    VenueError,
    VenueFill,
    VenueFunding,
    VenueOrder,
    VenueOrderState,
)
from hyperoru.metrics.instruments import AppMetrics

T = TypeVar("T")


def outcome_of(error: BaseException | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, VenueError):
        return error.code.removeprefix("VENUE_").lower()
    if isinstance(error, UnknownOutcome):
        return "unknown_outcome"
    return "error"


class MeteredVenue:
    """A ``VenueAdapter`` that times each call of the adapter it wraps."""

    def __init__(
        self, adapter: VenueAdapter, credentials: VenueCredentials, metrics: AppMetrics
    ) -> None:
        self.inner = adapter
        self.venue = adapter.venue
        self.environment: VenueEnvironment = credentials.environment
        # From the credentials' type: a fixed set of values, whatever the adapter says.
        self._label: Venue = (
            "hyperliquid" if isinstance(credentials, HyperliquidCredentials) else "binance"
        )
        self._histogram = metrics.venue_calls

    async def _timed(self, call: str, pending: Awaitable[T]) -> T:
        started = time.perf_counter()
        failure: BaseException | None = None
        try:
            return await pending
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self._histogram.labels(self._label, call, outcome_of(failure)).observe(
                time.perf_counter() - started
            )

    async def rules(self) -> dict[str, SymbolRules]:
        return await self._timed("rules", self.inner.rules())

    async def validate(self) -> CredentialCheck:
        return await self._timed("validate", self.inner.validate())

    async def submit(self, order: VenueOrder) -> VenueOrderState:
        return await self._timed("submit", self.inner.submit(order))

    async def cancel(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        return await self._timed(
            "cancel", self.inner.cancel(symbol=symbol, client_order_id=client_order_id)
        )

    async def cancel_all(self, *, symbols: Sequence[str] | None = None) -> int:
        return await self._timed("cancel_all", self.inner.cancel_all(symbols=symbols))

    async def order_status(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        return await self._timed(
            "order_status", self.inner.order_status(symbol=symbol, client_order_id=client_order_id)
        )

    async def open_orders(self) -> list[VenueOrderState]:
        return await self._timed("open_orders", self.inner.open_orders())

    async def fills(self, *, since: datetime) -> list[VenueFill]:
        return await self._timed("fills", self.inner.fills(since=since))

    async def funding(self, *, since: datetime) -> list[VenueFunding]:
        return await self._timed("funding", self.inner.funding(since=since))

    async def account(self) -> VenueAccount:
        return await self._timed("account", self.inner.account())

    async def set_leverage(self, *, symbol: str, leverage: int, isolated: bool) -> None:
        await self._timed(
            "set_leverage",
            self.inner.set_leverage(symbol=symbol, leverage=leverage, isolated=isolated),
        )

    async def arm_dead_man(self, *, seconds: int) -> None:
        await self._timed("arm_dead_man", self.inner.arm_dead_man(seconds=seconds))

    async def disarm_dead_man(self) -> None:
        await self._timed("disarm_dead_man", self.inner.disarm_dead_man())

    async def aclose(self) -> None:
        await self.inner.aclose()  # local clean-up, not a call to the venue


class MeteredConnector:
    """Opens adapters through ``connect`` and meters them. A class, not a closure, so that
    wrapping an already metered connector again (services replaced in a running app) is
    recognised and skipped: each call is counted once."""

    def __init__(self, connect: VenueConnector, metrics: AppMetrics) -> None:
        self.connect = connect
        self._metrics = metrics

    def __call__(self, credentials: VenueCredentials) -> VenueAdapter:
        return MeteredVenue(self.connect(credentials), credentials, self._metrics)


def metered(connect: VenueConnector, metrics: AppMetrics) -> VenueConnector:
    if isinstance(connect, MeteredConnector):
        return connect
    return MeteredConnector(connect, metrics)
