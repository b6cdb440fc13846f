"""Who gets the next sandbox slot: priority classes, then round robin between users.

A slot is one core: one sandbox process runs in it at a time. Every run waits here for
one, in three classes, highest first:

- ``CYCLE``: a program trader's live decision (late is wrong, so it goes first);
- ``TEST_RUN``: someone waiting for an HTTP answer;
- ``BACKTEST``: batch work, which may hold at most ``backtest_slots`` slots at once, so
  that a long replay never takes the last core from live and interactive runs.

Within a class, users take turns: each user has a queue of their own, and the next free
slot goes to the next user in the rotation who has something waiting (a user who
arrives joins the rotation at the back, one who was just served moves to the back).
So another user's queue delays a user's first run by at most one run per user ahead of
them, never by their whole backlog. One user also holds at most ``user_slots`` slots of
one class at a time, so a single user never occupies every core.

``FairSchedule`` is the pure decision (no clock, no tasks: the tests drive it step by
step); ``FairQueue`` lets coroutines wait on it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass
from enum import IntEnum


class Kind(IntEnum):
    """The priority classes, highest first."""

    CYCLE = 0
    TEST_RUN = 1
    BACKTEST = 2


@dataclass(frozen=True, slots=True)
class QueueRules:
    slots: int
    # The most slots backtests hold at once, all users together.
    backtest_slots: int
    # The most slots one user holds at once, per class.
    user_slots: int

    @classmethod
    def for_slots(
        cls, slots: int, *, backtest_slots: int | None = None, user_slots: int | None = None
    ) -> QueueRules:
        """Defaults: backtests leave one slot free (when there are two or more) and one
        user holds at most half the slots of a class (at least one)."""
        slots = max(1, slots)
        return cls(
            slots=slots,
            backtest_slots=min(slots, backtest_slots or max(1, slots - 1)),
            user_slots=min(slots, user_slots or max(1, slots // 2)),
        )

    def class_slots(self, kind: Kind) -> int:
        return self.backtest_slots if kind is Kind.BACKTEST else self.slots


@dataclass(frozen=True, slots=True)
class Ticket:
    number: int
    user: int
    kind: Kind


class FairSchedule:
    """The queue's state and its one decision, ``grant``. Not thread-safe; no awaits."""

    def __init__(self, rules: QueueRules) -> None:
        self.rules = rules
        self._numbers = itertools.count(1)
        # Per class: user -> that user's waiting tickets, in rotation order.
        self._waiting: dict[Kind, OrderedDict[int, deque[Ticket]]] = {
            kind: OrderedDict() for kind in Kind
        }
        self._running: set[Ticket] = set()
        self._per_class: Counter[Kind] = Counter()
        self._per_user: Counter[tuple[int, Kind]] = Counter()

    def enqueue(self, user: int, kind: Kind) -> Ticket:
        ticket = Ticket(next(self._numbers), user, kind)
        self._waiting[kind].setdefault(user, deque()).append(ticket)
        return ticket

    def withdraw(self, ticket: Ticket) -> None:
        """A waiting ticket leaves the queue (its caller gave up)."""
        queue = self._waiting[ticket.kind].get(ticket.user)
        if queue is None or ticket not in queue:
            return
        queue.remove(ticket)
        if not queue:
            del self._waiting[ticket.kind][ticket.user]

    def finish(self, ticket: Ticket) -> None:
        """A running ticket gives its slot back."""
        if ticket in self._running:
            self._running.remove(ticket)
            self._per_class[ticket.kind] -= 1
            self._per_user[(ticket.user, ticket.kind)] -= 1

    def grant(self) -> list[Ticket]:
        """Every ticket that may start now, in the order they start; they count as
        running from here on."""
        granted: list[Ticket] = []
        while len(self._running) < self.rules.slots:
            ticket = self._next()
            if ticket is None:
                break
            self._running.add(ticket)
            self._per_class[ticket.kind] += 1
            self._per_user[(ticket.user, ticket.kind)] += 1
            granted.append(ticket)
        return granted

    def _next(self) -> Ticket | None:
        for kind in Kind:
            if self._per_class[kind] >= self.rules.class_slots(kind):
                continue
            rotation = self._waiting[kind]
            for user, queue in rotation.items():
                if self._per_user[(user, kind)] >= self.rules.user_slots:
                    continue  # keeps its place: first in line once its own run ends
                ticket = queue.popleft()
                if queue:
                    rotation.move_to_end(user)
                else:
                    del rotation[user]
                return ticket
        return None

    def pending(self, user: int, kind: Kind) -> int:
        """The user's tickets of ``kind`` waiting or running."""
        queue = self._waiting[kind].get(user)
        return (len(queue) if queue else 0) + self._per_user[(user, kind)]

    @property
    def running(self) -> int:
        return len(self._running)


class FairQueue:
    """Coroutines wait here for a slot: ``ticket = await acquire(user, kind)``, run, then
    ``release(ticket)``. A caller cancelled while it waits leaves the queue."""

    def __init__(self, rules: QueueRules) -> None:
        self.schedule = FairSchedule(rules)
        self._granted: dict[Ticket, asyncio.Future[None]] = {}

    async def acquire(self, user: int, kind: Kind) -> Ticket:
        ticket = self.schedule.enqueue(user, kind)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._granted[ticket] = waiter
        self._dispatch()
        try:
            await waiter
        except asyncio.CancelledError:
            if self._granted.pop(ticket, None) is not None:
                self.schedule.withdraw(ticket)  # still waiting
            elif not waiter.cancelled():
                self.release(ticket)  # granted just as the caller was cancelled
            raise
        return ticket

    def release(self, ticket: Ticket) -> None:
        self.schedule.finish(ticket)
        self._dispatch()

    def pending(self, user: int, kind: Kind) -> int:
        return self.schedule.pending(user, kind)

    def _dispatch(self) -> None:
        while granted := self.schedule.grant():
            for ticket in granted:
                waiter = self._granted.pop(ticket)
                if waiter.done():  # its caller was cancelled: the slot goes on at once
                    self.schedule.finish(ticket)
                else:
                    waiter.set_result(None)
