"""Reconciliation: our records of a live trader against its venue, on start-up and on a
schedule. Every difference becomes an event the owner reads; nothing is overwritten
silently and nothing is sent again.

1. Orders whose outcome we do not know (``pending_submit``: written, maybe sent;
   ``unknown``: sent, no answer) are looked up by our client id. Found: its state is
   applied. Not found after the grace period: it never arrived, and is rejected.
2. Our working orders against the venue's open orders: an order of ours the venue no
   longer lists is looked up and updated; an open order we did not send is reported as
   ``external`` and left alone (never adopted).
3. Fills since the cursor are ingested (the missed ones are reported), then the venue's
   positions are compared with what our ledger's fills add up to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.errors import not_found
from hyperoru.exchanges.venue import VenueOrderState
from hyperoru.trading.live import journal
from hyperoru.trading.live.client import LiveExchange
from hyperoru.trading.live.event_log import record_event
from hyperoru.trading.live.models import (
    LiveAccountSnapshot,
    LiveOrder,
    ReconciliationEvent,
    ReconciliationKind,
)
from hyperoru.trading.live.snapshot import sizes
from hyperoru.trading.models import TradingFill


@dataclass(slots=True)
class Reconciled:
    """What one reconciliation found: the events recorded (published once it is done),
    counted by kind."""

    events: dict[str, int] = field(default_factory=dict)
    recorded: list[ReconciliationEvent] = field(default_factory=list)

    def add(self, event: ReconciliationEvent | None) -> None:
        if event is None:  # a standing difference the owner was told about already
            return
        self.recorded.append(event)
        self.events[event.kind] = self.events.get(event.kind, 0) + 1

    @property
    def order_ids(self) -> set[int]:
        return {e.order_id for e in self.recorded if e.order_id is not None}


async def reconcile(live: LiveExchange, account_id: int) -> Reconciled:
    found = Reconciled()
    async with live.sessionmaker() as session:
        account = await session.get(Account, account_id)
        if account is None or account.deleted_at is not None:
            raise not_found("account")
        user_id = account.user_id
        open_questions = [
            (order.id, order.symbol, entry.venue_client_id)
            for entry, order in await journal.unresolved(session, account_id)
        ]
    adapter = await live.adapter(account_id)
    for order_id, symbol, client_id in open_questions:
        state = await live.ask(adapter.order_status(symbol=symbol, client_order_id=client_id))
        await _settle(live, found, account_id, user_id, order_id, state)
    await _compare_open_orders(live, found, account_id, user_id)
    synced = await live.sync(account_id, user_id=user_id)
    async with live.sessionmaker() as session:
        now = live.now()
        if synced.fills:
            missed = await record_event(
                session,
                account_id=account_id,
                user_id=user_id,
                kind="missed_fills",
                message=f"{len(synced.fills)} fill(s) found at the venue and recorded",
                now=now,
                details={"venue_fill_ids": [f.venue_fill_id for f in synced.fills]},
            )
            found.add(missed)
        await _compare_positions(session, found, account_id, user_id, now)
        await session.commit()
    # What changed reaches the owner's sockets: the orders (those the fills touched went
    # out with them) and the events.
    await live.publish_orders(user_id, account_id, found.order_ids - synced.order_ids)
    await live.publish_events(user_id, account_id, found.recorded)
    return found


async def _settle(
    live: LiveExchange,
    found: Reconciled,
    account_id: int,
    user_id: int,
    order_id: int,
    state: VenueOrderState | None,
) -> None:
    now = live.now()
    async with live.sessionmaker() as session:
        order, entry = await journal.journalled(session, order_id)
        if state is not None:
            journal.apply_state(entry, order, state, now=now)
            kind: ReconciliationKind = "order_resolved"
            message = f"order {order_id}: the venue has it as {state.status}"
            details = {"status": state.status, "filled_quantity": str(state.filled_quantity)}
        elif now - entry.created_at >= live.unknown_grace:
            reason = "the venue has no order with this client id: it never arrived"
            journal.mark_rejected(entry, order, code="ORDER_NEVER_ARRIVED", reason=reason, now=now)
            kind, message, details = "order_never_arrived", f"order {order_id}: {reason}", {}
        else:
            return  # too recent to conclude anything: asked again next time
        details["client_order_id"] = entry.venue_client_id
        event = await record_event(
            session,
            account_id=account_id,
            user_id=user_id,
            kind=kind,
            message=message,
            now=now,
            order_id=order_id,
            details=details,
        )
        await session.commit()
    found.add(event)


async def _compare_open_orders(
    live: LiveExchange, found: Reconciled, account_id: int, user_id: int
) -> None:
    adapter = await live.adapter(account_id)
    at_venue = await live.ask(adapter.open_orders())
    async with live.sessionmaker() as session:
        ours = {
            entry.venue_client_id: (order.id, order.symbol)
            for entry, order in await journal.resting(session, account_id)
        }
        every_client_id = set(
            (
                await session.scalars(
                    select(LiveOrder.venue_client_id).where(LiveOrder.account_id == account_id)
                )
            ).all()
        )
    listed = {s.client_order_id for s in at_venue if s.client_order_id}
    async with live.sessionmaker() as session:
        for state in at_venue:
            if state.client_order_id in ours:
                await _differs(session, found, account_id, user_id, state, live.now())
                continue
            if state.client_order_id in every_client_id:
                continue
            recorded = await record_event(
                session,
                account_id=account_id,
                user_id=user_id,
                kind="external_order",
                message=(
                    f"an open {state.side} order for {state.quantity} {state.symbol} at the "
                    "venue was not placed by this server; it is left as it is"
                ),
                now=live.now(),
                details={
                    "venue_order_id": state.venue_order_id,
                    "client_order_id": state.client_order_id,
                    "symbol": state.symbol,
                    "side": state.side,
                    "quantity": str(state.quantity),
                    "price": None if state.price is None else str(state.price),
                },
                once_per="venue_order_id",
            )
            found.add(recorded)
        await session.commit()
    for client_id, (order_id, symbol) in ours.items():
        if client_id in listed:
            continue
        answer = await live.ask(adapter.order_status(symbol=symbol, client_order_id=client_id))
        await _missing(live, found, account_id, user_id, order_id, answer)


async def _differs(
    session: AsyncSession,
    found: Reconciled,
    account_id: int,
    user_id: int,
    state: VenueOrderState,
    now: datetime,
) -> None:
    """One of our working orders the venue lists with another status than ours."""
    assert state.client_order_id is not None
    order_id = (await journal.order_ids_by_client_id(session, account_id, {state.client_order_id}))[
        state.client_order_id
    ]
    order, entry = await journal.journalled(session, order_id)
    before = order.status
    if journal.ORDER_STATUS[state.status] == before:
        return
    journal.apply_state(entry, order, state, now=now)
    event = await record_event(
        session,
        account_id=account_id,
        user_id=user_id,
        kind="order_state",
        message=f"order {order_id} was {before} here and is {state.status} at the venue",
        now=now,
        order_id=order_id,
        details={"before": before, "after": order.status, "client_order_id": state.client_order_id},
    )
    found.add(event)


async def _missing(
    live: LiveExchange,
    found: Reconciled,
    account_id: int,
    user_id: int,
    order_id: int,
    state: VenueOrderState | None,
) -> None:
    """One of our working orders the venue no longer lists as open."""
    now = live.now()
    async with live.sessionmaker() as session:
        order, entry = await journal.journalled(session, order_id)
        before = order.status
        if state is None:
            order.status, order.updated_at = "cancelled", now
            order.status_reason = "the venue no longer has this order"
            after = "cancelled"
        else:
            journal.apply_state(entry, order, state, now=now)
            after = order.status
        event = await record_event(
            session,
            account_id=account_id,
            user_id=user_id,
            kind="order_missing",
            message=f"order {order_id} was {before} here and is {after} at the venue",
            now=now,
            order_id=order_id,
            details={"before": before, "after": after, "client_order_id": entry.venue_client_id},
        )
        await session.commit()
    found.add(event)


async def _compare_positions(
    session: AsyncSession, found: Reconciled, account_id: int, user_id: int, now: datetime
) -> None:
    # Summed here, not in SQL: SQLite keeps exact decimals as text.
    rows = await session.execute(
        select(TradingFill.symbol, TradingFill.side, TradingFill.quantity).where(
            TradingFill.account_id == account_id, TradingFill.venue_fill_id.is_not(None)
        )
    )
    ledger: dict[str, Decimal] = {}
    for symbol, side, quantity in rows:
        signed = quantity if side == "buy" else -quantity
        ledger[symbol] = ledger.get(symbol, Decimal(0)) + signed
    venue = sizes(await session.get(LiveAccountSnapshot, account_id))
    for symbol in sorted(set(ledger) | set(venue)):
        ours, theirs = ledger.get(symbol, Decimal(0)), venue.get(symbol, Decimal(0))
        if ours == theirs:
            continue
        key = f"{symbol}:{ours.normalize()}:{theirs.normalize()}"
        mismatch = await record_event(
            session,
            account_id=account_id,
            user_id=user_id,
            kind="position_mismatch",
            message=(
                f"{symbol}: the venue holds {theirs}, the fills recorded here add up to {ours}"
            ),
            now=now,
            details={"symbol": symbol, "venue": str(theirs), "ledger": str(ours), "key": key},
            once_per="key",
        )
        found.add(mismatch)
