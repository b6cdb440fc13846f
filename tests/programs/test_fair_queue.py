"""The sandbox's fair queue, driven step by step: which run gets the next slot.

No processes and no clock: ``FairSchedule`` is pure, and ``FairQueue`` is driven with
tasks that the test releases itself."""

from __future__ import annotations

import asyncio

import pytest

from hyperoru.programs.sandbox.budget import CpuBudget
from hyperoru.programs.sandbox.fair_queue import FairQueue, FairSchedule, Kind, QueueRules, Ticket
from hyperoru.programs.sandbox.fair_use import FairUse, SandboxRefused

A, B, C = 1, 2, 3


def _users(tickets: list[Ticket]) -> list[int]:
    return [t.user for t in tickets]


def test_defaults_keep_a_slot_from_backtests_and_from_any_one_user() -> None:
    assert QueueRules.for_slots(1) == QueueRules(slots=1, backtest_slots=1, user_slots=1)
    assert QueueRules.for_slots(2) == QueueRules(slots=2, backtest_slots=1, user_slots=1)
    assert QueueRules.for_slots(8) == QueueRules(slots=8, backtest_slots=7, user_slots=4)
    assert QueueRules.for_slots(4, backtest_slots=9, user_slots=2).backtest_slots == 4


def test_another_users_first_run_waits_at_most_one_turn_per_user_ahead() -> None:
    schedule = FairSchedule(QueueRules(slots=1, backtest_slots=1, user_slots=1))
    flood = [schedule.enqueue(A, Kind.TEST_RUN) for _ in range(10)]
    [first] = schedule.grant()
    assert first == flood[0]
    mine = schedule.enqueue(B, Kind.TEST_RUN)
    schedule.finish(first)
    assert schedule.grant() == [flood[1]]  # A was in the rotation before B: one turn
    schedule.finish(flood[1])
    assert schedule.grant() == [mine]  # ...and then B, not A's other eight


def test_users_take_turns_whatever_their_backlog() -> None:
    schedule = FairSchedule(QueueRules(slots=1, backtest_slots=1, user_slots=1))
    for user, count in ((A, 6), (B, 2), (C, 1)):
        for _ in range(count):
            schedule.enqueue(user, Kind.TEST_RUN)
    order = []
    while granted := schedule.grant():
        order += _users(granted)
        schedule.finish(granted[0])
    assert order == [A, B, C, A, B, A, A, A, A]


def test_live_cycles_go_before_test_runs_and_test_runs_before_backtests() -> None:
    schedule = FairSchedule(QueueRules(slots=1, backtest_slots=1, user_slots=1))
    backtest = schedule.enqueue(A, Kind.BACKTEST)
    test_run = schedule.enqueue(B, Kind.TEST_RUN)
    cycle = schedule.enqueue(C, Kind.CYCLE)
    order = []
    while granted := schedule.grant():
        order += granted
        schedule.finish(granted[0])
    assert order == [cycle, test_run, backtest]


def test_backtests_never_take_the_last_slot() -> None:
    schedule = FairSchedule(QueueRules(slots=2, backtest_slots=1, user_slots=2))
    backtests = [schedule.enqueue(user, Kind.BACKTEST) for user in (A, B, C)]
    assert schedule.grant() == [backtests[0]]  # the second slot stays free...
    cycle = schedule.enqueue(B, Kind.CYCLE)
    assert schedule.grant() == [cycle]  # ...for live and interactive runs
    schedule.finish(cycle)
    assert schedule.grant() == []  # backtests still wait for the backtest slot
    schedule.finish(backtests[0])
    assert schedule.grant() == [backtests[1]]


def test_one_user_holds_at_most_user_slots_of_a_class_and_keeps_their_place() -> None:
    schedule = FairSchedule(QueueRules(slots=3, backtest_slots=3, user_slots=1))
    a_runs = [schedule.enqueue(A, Kind.TEST_RUN) for _ in range(3)]
    b_run = schedule.enqueue(B, Kind.TEST_RUN)
    a_cycle = schedule.enqueue(A, Kind.CYCLE)
    # A's cycle is another class; A's second test run waits for A's first.
    assert schedule.grant() == [a_cycle, a_runs[0], b_run]
    assert schedule.pending(A, Kind.TEST_RUN) == 3 and schedule.running == 3
    schedule.finish(b_run)
    assert schedule.grant() == []  # a free slot, but only A waits, and A is at its cap
    schedule.finish(a_runs[0])
    assert schedule.grant() == [a_runs[1]]


def test_a_withdrawn_ticket_never_runs() -> None:
    schedule = FairSchedule(QueueRules(slots=1, backtest_slots=1, user_slots=1))
    running = schedule.enqueue(A, Kind.TEST_RUN)
    schedule.grant()
    gone = schedule.enqueue(B, Kind.TEST_RUN)
    stays = schedule.enqueue(C, Kind.TEST_RUN)
    schedule.withdraw(gone)
    schedule.finish(running)
    assert schedule.grant() == [stays]
    assert schedule.pending(B, Kind.TEST_RUN) == 0


async def _holder(queue: FairQueue, user: int, kind: Kind, log: list[int], done: asyncio.Event):
    ticket = await queue.acquire(user, kind)
    log.append(user)
    await done.wait()
    queue.release(ticket)


async def test_the_async_queue_hands_slots_out_in_the_schedules_order() -> None:
    queue = FairQueue(QueueRules(slots=1, backtest_slots=1, user_slots=1))
    started: list[int] = []
    gates = {name: asyncio.Event() for name in ("a1", "a2", "a3", "b1")}
    tasks = [
        asyncio.create_task(_holder(queue, A, Kind.TEST_RUN, started, gates["a1"])),
        asyncio.create_task(_holder(queue, A, Kind.TEST_RUN, started, gates["a2"])),
        asyncio.create_task(_holder(queue, A, Kind.TEST_RUN, started, gates["a3"])),
    ]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(_holder(queue, B, Kind.TEST_RUN, started, gates["b1"])))
    await asyncio.sleep(0)
    assert started == [A]
    for name in ("a1", "a2", "b1", "a3"):
        gates[name].set()
        for _ in range(3):
            await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert started == [A, A, B, A]
    assert queue.schedule.running == 0


async def test_a_caller_cancelled_while_waiting_leaves_the_queue() -> None:
    queue = FairQueue(QueueRules(slots=1, backtest_slots=1, user_slots=1))
    first = await queue.acquire(A, Kind.TEST_RUN)
    waiting = asyncio.create_task(queue.acquire(B, Kind.TEST_RUN))
    behind = asyncio.create_task(queue.acquire(C, Kind.TEST_RUN))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    queue.release(first)
    ticket = await behind
    assert ticket.user == C and queue.pending(B, Kind.TEST_RUN) == 0
    queue.release(ticket)
    assert queue.schedule.running == 0


async def test_a_slot_granted_to_a_cancelled_caller_goes_on_to_the_next() -> None:
    queue = FairQueue(QueueRules(slots=1, backtest_slots=1, user_slots=1))
    first = await queue.acquire(A, Kind.TEST_RUN)
    cancelled = asyncio.create_task(queue.acquire(B, Kind.TEST_RUN))
    behind = asyncio.create_task(queue.acquire(C, Kind.TEST_RUN))
    await asyncio.sleep(0)
    cancelled.cancel()  # cancelled before it runs again: its grant must not leak
    queue.release(first)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    ticket = await behind
    queue.release(ticket)
    assert queue.schedule.running == 0


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_refills_and_says_when_a_user_may_run_again() -> None:
    clock = _Clock()
    budget = CpuBudget(60, 3600, clock=clock)  # one second per minute
    assert budget.retry_after(A) is None
    budget.charge(A, 90)  # a run's cost is known only afterwards: it may overdraw
    assert budget.left(A) == -30
    assert budget.retry_after(A) == 1801
    assert budget.retry_after(B) is None  # another user's budget is their own
    clock.now += 1800
    assert budget.retry_after(A) == 1
    clock.now += 1
    assert budget.retry_after(A) is None
    clock.now += 10**6
    assert budget.left(A) == 60  # full again, never more


async def test_fair_use_refuses_a_spent_budget_and_a_test_run_flood_but_never_a_cycle() -> None:
    clock = _Clock()
    fair = FairUse(
        QueueRules(slots=2, backtest_slots=1, user_slots=1),
        budget=CpuBudget(10, 100, clock=clock),
        user_test_runs=2,
        busy_retry_seconds=7,
        clock=clock,
    )
    async with fair.turn(A, Kind.TEST_RUN):
        clock.now += 12  # the run held its slot for 12 s
    with pytest.raises(SandboxRefused) as spent:
        fair.admit(A, Kind.BACKTEST)
    assert spent.value.budget_spent and spent.value.retry_after == 21
    assert spent.value.details["budget_seconds"] == 10
    fair.admit(A, Kind.CYCLE)  # live trading goes on, charged
    async with fair.turn(A, Kind.CYCLE, max_charge=0.5):
        clock.now += 1  # held 1 s, but it could not have used more CPU than 0.5 s
    # -2 after the test run, 0.1 s refilled meanwhile, 0.5 s for the cycle.
    assert fair.budget is not None and fair.budget.left(A) == pytest.approx(-2.4)

    first = await fair.queue.acquire(B, Kind.TEST_RUN)
    second = asyncio.create_task(fair.queue.acquire(B, Kind.TEST_RUN))
    await asyncio.sleep(0)
    with pytest.raises(SandboxRefused) as busy:
        fair.admit(B, Kind.TEST_RUN)
    assert not busy.value.budget_spent and busy.value.retry_after == 7
    assert busy.value.details["limit"] == 2
    fair.admit(C, Kind.TEST_RUN)  # only B is at the cap
    fair.queue.release(first)
    fair.queue.release(await second)
