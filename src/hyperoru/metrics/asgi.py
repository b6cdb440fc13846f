"""Times every HTTP request and counts it under its route's template."""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hyperoru.metrics.instruments import AppMetrics

# Requests that matched no route share one label: raw paths would let any client create
# a new time series per URL it invents.
UNMATCHED = "unmatched"


# Children kept per label set: prometheus_client's ``labels()`` takes a lock and rebuilds
# the key on every call. Bounded: the method is the client's to choose.
_MAX_CHILDREN = 1024


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: AppMetrics) -> None:
        self.app = app
        self.histogram = metrics.http_requests
        self._children: dict[tuple[str, str, int], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the outer layer answers when the app raises

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            self._child(scope["method"], template, status).observe(time.perf_counter() - started)

    def _child(self, method: str, template: str, status: int) -> Histogram:
        key = (method, template, status)
        child = self._children.get(key)
        if child is None:
            if len(self._children) >= _MAX_CHILDREN:
                self._children.clear()
            child = self._children[key] = self.histogram.labels(method, template, str(status))
        return child
