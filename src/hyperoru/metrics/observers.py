"""Adapters that measure the runtime's own calls without the runtime knowing about
metrics: a cycle runner that times (and logs) itself, and a publisher of recorded
decisions."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable

from hyperoru.metrics.instruments import AppMetrics
from hyperoru.strategies.records import DecisionRecord
from hyperoru.strategies.trigger import CycleOutcome, Trigger

CycleRunner = Callable[[int, Trigger], Awaitable[CycleOutcome]]
Publisher = Callable[[DecisionRecord], Awaitable[None]]

log = logging.getLogger("hyperoru.runtime.cycles")


def timed_cycles(metrics: AppMetrics, run_cycle: CycleRunner) -> CycleRunner:
    async def run(account_id: int, trigger: Trigger) -> CycleOutcome:
        # Which process ran which cycle, when: with several workers, the logs show that a
        # trader's cycles never overlap and move to another worker only when its lease
        # does (tests/e2e/test_scaled_shape.py reads these lines). ``trigger_at`` is the
        # decision record's ``trigger.at``.
        facts = {
            "account_id": account_id,
            "trigger_at": trigger.as_dict()["at"],
            "binding_id": trigger.binding_id,
            "pid": os.getpid(),
        }
        log.info("cycle started", extra={"event": "cycle_started", **facts})
        started = time.perf_counter()
        outcome_label = "crashed"
        try:
            outcome = await run_cycle(account_id, trigger)
        except asyncio.CancelledError:
            outcome_label = "timeout"  # the cycle's deadline (or shutdown) cancelled it
            raise
        else:
            outcome_label = "skipped" if not outcome.ran else "ok" if outcome.ok else "failed"
            return outcome
        finally:
            seconds = time.perf_counter() - started
            metrics.cycles.labels(outcome_label).observe(seconds)
            log.info(
                "cycle ended",
                extra={
                    "event": "cycle_ended",
                    **facts,
                    "outcome": outcome_label,
                    "seconds": round(seconds, 3),
                },
            )

    return run


# Provider names are free text a user types: a label per name would let users grow the
# metrics without bound, so names outside this list are counted as "other".
KNOWN_PROVIDERS = frozenset(
    {
        "builtin",
        "program",
        "openai",
        "anthropic",
        "google",
        "gemini",
        "deepseek",
        "ollama",
        "openrouter",
        "qwen",
        "xai",
        "mistral",
        "groq",
        "together",
        "azure",
    }
)


def provider_label(record: DecisionRecord) -> str:
    provider = (record.context or {}).get("provider")
    return provider if provider in KNOWN_PROVIDERS else "other"


def counting_decisions(metrics: AppMetrics, publish: Publisher) -> Publisher:
    async def observe_then_publish(record: DecisionRecord) -> None:
        if record.latency_ms is not None:
            metrics.model_calls.labels(
                provider_label(record), record.strategy_type, record.status
            ).observe(record.latency_ms / 1000)
        if record.prompt_tokens:
            metrics.model_tokens.labels("prompt").inc(record.prompt_tokens)
        if record.completion_tokens:
            metrics.model_tokens.labels("completion").inc(record.completion_tokens)
        await publish(record)

    return observe_then_publish
