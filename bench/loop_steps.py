"""Where does a decision cycle hold the event loop? Every loop step timed, in-process.

Runs ``--traders`` builtin traders (simulated market, SQLite, the default prompt) for
``--rounds`` manual cycles each, started a little apart, and times every step the event
loop runs (``asyncio.Handle._run``). A request waiting on the loop waits for the steps
before it, so long steps are the stalls: the table counts them and names the longest
kinds by where the task resumed and where it stopped next (the work lies between).

The connection pool is enlarged for this script only: the pipeline still holds a session
while it prepares the prompt, and with the default pool the cycles would wait on each
other instead of showing their own cost.

    .venv/bin/python bench/loop_steps.py [--traders 20] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import tempfile
import time
from asyncio import events
from pathlib import Path

STEP_NOTED = 0.002
_steps: list[tuple[float, str]] = []
_run = events.Handle._run


def _where(task: asyncio.Task) -> str:
    frames, awaited = [], task.get_coro()
    while awaited is not None and hasattr(awaited, "cr_frame"):
        if awaited.cr_frame is not None:
            frames.append(f"{awaited.cr_code.co_name}:{awaited.cr_frame.f_lineno}")
        awaited = awaited.cr_await
    return " > ".join(frames[-3:])


def _timed_run(handle: events.Handle) -> None:
    task = getattr(handle._callback, "__self__", None)
    is_task = isinstance(task, asyncio.Task)
    resumed = _where(task) if is_task else repr(handle._callback)[:60]
    started = time.perf_counter()
    _run(handle)
    took = time.perf_counter() - started
    if took > STEP_NOTED:
        _steps.append((took, f"{resumed}  ==>  {_where(task) if is_task else ''}"))


async def _cycles(traders: int, rounds: int) -> float:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    import hyperoru.app as app_module
    from hyperoru.accounts import service as accounts
    from hyperoru.accounts.schemas import AccountCreate, StrategyUpdate
    from hyperoru.auth import service as auth
    from hyperoru.auth.principal import Principal
    from hyperoru.db import engine as db_engine
    from hyperoru.settings import Settings
    from hyperoru.strategies import primary
    from hyperoru.strategies.trigger import Trigger
    from hyperoru.timeutils import utcnow

    def roomy_engine(settings: Settings):  # type: ignore[no-untyped-def]
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Every cycle may run at once, each with a session inside the pipeline's session.
        size = traders * rounds * 2 + 10
        engine = create_async_engine(settings.resolved_database_url, pool_size=size)
        event.listen(engine.sync_engine, "connect", db_engine._sqlite_pragmas)
        return engine

    app_module.create_engine = roomy_engine  # type: ignore[assignment]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=Path(tempfile.mkdtemp()),
        secret_key="loop-steps-secret-key-0123456789abcdef012345",
        runtime="off",
        log_level="WARNING",
    )
    app = app_module.create_app(settings, freeze_after_startup=True)  # as `serve` does
    async with app.router.lifespan_context(app):
        await app.state.services.market.cache.refresh()
        ids = []
        async with app.state.services.sessionmaker() as session:
            user = Principal.of(
                await auth.register_user(session, username="steps", password="x" * 20 + "9aA!")
            )
            for n in range(traders):
                view = await accounts.create_account(
                    session,
                    app.state.services.secret_box,
                    app.state.services.outbound_guard,
                    user=user,
                    data=AccountCreate(name=f"t{n}", llm_provider="builtin", max_leverage=3),
                )
                account = await accounts.load_owned_account(session, user=user, account_id=view.id)
                await primary.update_strategy(
                    session, account=account, data=StrategyUpdate(symbols=["BTC", "ETH"])
                )
                ids.append(account.id)
        _steps.clear()
        events.Handle._run = _timed_run  # type: ignore[method-assign]

        async def cycle(index: int, trader: int) -> None:
            await asyncio.sleep(index * 0.5 / traders)
            record = await app.state.pipeline.run(trader, Trigger(kind="manual", at=utcnow()))
            assert record.status == "ok", record.error

        started = time.perf_counter()
        try:
            await asyncio.gather(
                *(cycle(k * traders + n, t) for k in range(rounds) for n, t in enumerate(ids))
            )
        finally:
            events.Handle._run = _run  # type: ignore[method-assign]
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traders", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    seconds = asyncio.run(_cycles(args.traders, args.rounds))
    durations = [took for took, _ in _steps]
    print(
        f"\n{args.traders * args.rounds} cycles in {seconds:.1f} s; load average "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}\n"
    )
    print(
        "| steps longer than | 2 ms | 5 ms | 10 ms | 20 ms | 50 ms | 100 ms | loop time in them |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    counts = [
        sum(1 for d in durations if d > limit) for limit in (0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
    ]
    print(f"| count | {' | '.join(map(str, counts))} | {sum(durations) * 1000:.0f} ms |\n")
    kinds: dict[str, list[float]] = collections.defaultdict(list)
    for took, name in _steps:
        kinds[name].append(took)
    print("| steps | total ms | longest ms | resumed at  ==>  stopped at |")
    print("|---:|---:|---:|---|")
    for name, took in sorted(kinds.items(), key=lambda kv: -sum(kv[1]))[:8]:
        print(f"| {len(took)} | {sum(took) * 1000:.0f} | {max(took) * 1000:.0f} | `{name}` |")


if __name__ == "__main__":
    main()
