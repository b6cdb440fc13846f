"""A process's ``/metrics`` on a port of its own: how ``hyperoru worker``, which serves
no API, is scraped (``worker --metrics-port``, docs/OPERATIONS.md).

The answer is the API's route itself (``router.py``): the same families, the same
operator rule, the same refusal. A small app that holds only that route reads the state
of the process's application, so it sees the metrics the cycles record and the services
the gauges are sampled from. uvicorn serves it as one more task on the process's event
loop: accepting and answering a scrape waits on sockets and the database only, and the
rendering runs on a worker thread, so the trader cycles on the same loop go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI

from hyperoru.errors import install_error_handlers
from hyperoru.http.middleware import RequestContextMiddleware
from hyperoru.metrics.router import router

log = logging.getLogger("hyperoru.metrics")

# A scrape still being answered when the process stops gets this long to finish.
_SHUTDOWN_GRACE_SECONDS = 2


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, opened before anything else starts so that a port in use
    stops the process at once, saying so (``OSError``), instead of after start-up."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    return socket.create_server(address, family=family)


def metrics_app(application: FastAPI) -> FastAPI:
    """An app with ``/metrics`` only (anything else: the contract's 404), reading
    ``application``'s state: its metrics, and its services once it has started. Request
    ids, headers and the access log line as on the API."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state = application.state
    install_error_handlers(app)
    app.include_router(router)
    app.add_middleware(RequestContextMiddleware)
    return app


class _SignalsLeftAlone(uvicorn.Server):
    """uvicorn's server without its signal handlers: the process's own shutdown stops it
    (``serving_metrics``), and a SIGTERM must reach the process, not just this server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving_metrics(application: FastAPI, listener: socket.socket) -> AsyncIterator[None]:
    """Serve ``metrics_app(application)`` on ``listener`` until the block ends."""
    config = uvicorn.Config(
        metrics_app(application),
        lifespan="off",
        log_config=None,
        access_log=False,  # the request context's JSON line instead
        server_header=False,
        # The peer is the client: no proxy is trusted to name another in front of this port.
        proxy_headers=False,
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
    )
    server = _SignalsLeftAlone(config)
    task = asyncio.create_task(server.serve(sockets=[listener]), name="metrics-port")
    host, port = listener.getsockname()[:2]
    log.info("metrics served", extra={"event": "metrics_port_open", "host": host, "port": port})
    try:
        yield
    finally:
        server.should_exit = True
        await task
        listener.close()
