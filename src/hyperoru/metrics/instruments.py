"""What one process measures. Each app owns its registry (tests build many apps in one
process; a global registry would see them all), and every label takes values from a small
fixed set: a route's template, never its path; a cycle's outcome, never its error text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

# From a cached read (about a millisecond) to a slow model answer.
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_CYCLE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# A venue answers in tens of milliseconds; its timeouts are tens of seconds.
_VENUE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

ProcessKind = Literal["api", "worker"]


class ScrapedCounter(Collector):
    """A counter whose totals are kept by the code that counts (the WebSocket hub) and
    copied in when /metrics is read: that code need not know about metrics."""

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self._name = name
        self._documentation = documentation
        self._label = label
        self.totals: dict[str, float] = {}

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self._name, self._documentation, labels=[self._label])
        for value, total in sorted(self.totals.items()):
            family.add_metric([value], total)
        yield family


class AppMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # CPU seconds, resident memory, open descriptors: what a soak test watches grow.
        ProcessCollector(registry=self.registry)
        # Which process answered a scrape: several serve one port (`serve --workers N`),
        # and workers serve their own (`worker --metrics-port`).
        self._process = Info("hyperoru_process", "This process", registry=self.registry)
        self.identify("api")
        self.http_requests = Histogram(
            "hyperoru_http_request_duration_seconds",
            "HTTP requests by method, route template and status, with their duration",
            ["method", "route", "status"],
            buckets=_REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.cycles = Histogram(
            "hyperoru_cycle_duration_seconds",
            "Decision cycles this process ran, by outcome (ok, failed, timeout, crashed)",
            ["outcome"],
            buckets=_CYCLE_BUCKETS,
            registry=self.registry,
        )
        self.model_calls = Histogram(
            "hyperoru_model_call_duration_seconds",
            "Model (or program) answers behind recorded decisions, by provider (a known "
            "name, program, or other), strategy type and status",
            ["provider", "strategy_type", "status"],
            buckets=_CYCLE_BUCKETS,
            registry=self.registry,
        )
        self.model_tokens = Counter(
            "hyperoru_model_tokens",
            "Tokens the models reported, by kind (prompt, completion)",
            ["kind"],
            registry=self.registry,
        )
        # Sampled when /metrics is read (sources.py), not kept current by every change.
        self.websocket_sockets = Gauge(
            "hyperoru_websocket_sockets",
            "WebSocket connections open on this process",
            registry=self.registry,
        )
        self.websocket_drops = ScrapedCounter(
            "hyperoru_websocket_drops",
            "WebSocket connections this process closed on its clients, by reason",
            "reason",
        )
        self.registry.register(self.websocket_drops)
        self.venue_calls = Histogram(
            "hyperoru_venue_call_duration_seconds",
            "Calls to live trading venues, by venue, call and outcome",
            ["venue", "call", "outcome"],
            buckets=_VENUE_BUCKETS,
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "hyperoru_outbox_pending",
            "Notification messages waiting for delivery (all processes: read from the database)",
            registry=self.registry,
        )
        self.jobs = Gauge(
            "hyperoru_jobs",
            "Background jobs waiting or running (all processes: read from the database)",
            ["status"],
            registry=self.registry,
        )
        self.db_pool = Gauge(
            "hyperoru_db_pool_connections",
            "Database connections of this process's pool, by state (in_use, idle)",
            ["state"],
            registry=self.registry,
        )

    def identify(self, kind: ProcessKind) -> None:
        """Name the kind of process these metrics describe: ``api`` (``hyperoru serve``,
        whether or not it also runs the traders) or ``worker`` (``hyperoru worker``)."""
        self._process.info({"pid": str(os.getpid()), "kind": kind})
