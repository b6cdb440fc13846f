"""Times every HTTP request and counts it under its route's template."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hyperoru.metrics.instruments import AppMetrics

# Requests that matched no route share one label: raw paths would let any client create
# a new time series per URL it invents.
UNMATCHED = "unmatched"


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: AppMetrics) -> None:
        self.app = app
        self.histogram = metrics.http_requests

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
            self.histogram.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
