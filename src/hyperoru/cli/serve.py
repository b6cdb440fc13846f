"""`hyperoru serve` and `hyperoru worker`: the long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from typing import Annotated

import typer

from hyperoru.cli.common import fail, load_settings
from hyperoru.settings import Settings

log = logging.getLogger("hyperoru.cli")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_unsafe_production(settings: Settings) -> None:
    from hyperoru.production import production_problems

    problems = production_problems(settings)
    if problems:
        fail(
            "HYPERORU_ENV=production, but:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + "\n(docs/OPERATIONS.md, 'Production settings')"
        )


def _mark_database_in_use(settings: Settings) -> None:
    """SQLite: tell `hyperoru db restore` that this process has the file open (until exit)."""
    from hyperoru.data_dir import prepare_sqlite, sqlite_file
    from hyperoru.db.in_use import hold_shared

    url = settings.resolved_database_url
    database = sqlite_file(url)
    if database is not None:
        prepare_sqlite(url, settings.data_dir)
        hold_shared(database)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a demo user with two builtin traders")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="API processes sharing the port (more than 1 needs PostgreSQL and Redis)",
        ),
    ] = 1,
) -> None:
    """Start the API server (and, in the embedded default, everything else)."""
    # Imported here so that the other commands start fast.
    from hyperoru.app import create_app
    from hyperoru.demo import url_for
    from hyperoru.serving import run_server, run_server_processes, scale_out_problem

    settings = load_settings(server=True)
    _refuse_unsafe_production(settings)
    if demo:
        settings = settings.model_copy(update={"demo": True, "demo_url": url_for(host, port)})
    if workers > 1:
        problem = scale_out_problem(settings)
        if problem is not None:
            fail(problem)
    if not _is_loopback(host):
        log.warning(
            "listening on a non-loopback address: put a TLS-terminating proxy in front",
            extra={"host": host},
        )
    if workers > 1:
        run_server_processes(settings, host=host, port=port, workers=workers)
        return
    _mark_database_in_use(settings)
    run_server(create_app(settings, freeze_after_startup=True), settings, host=host, port=port)


def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Serve this process's /metrics on this port (default: "
            "HYPERORU_WORKER_METRICS_PORT; unset: no port)",
            show_default=False,
        ),
    ] = None,
    metrics_host: Annotated[
        str | None,
        typer.Option(
            help="Address the metrics port listens on (default: "
            "HYPERORU_WORKER_METRICS_HOST, else 127.0.0.1)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run only the trader runtime (the scaled shape: API processes set HYPERORU_RUNTIME=off)."""
    from hyperoru.app import create_app
    from hyperoru.metrics.port import listen, serving_metrics
    from hyperoru.metrics.router import operator_token

    settings = load_settings(server=True).model_copy(update={"runtime": "embedded"})
    _refuse_unsafe_production(settings)
    port = metrics_port or settings.worker_metrics_port
    host = metrics_host or settings.worker_metrics_host
    listener = None
    if port is not None:
        try:
            listener = listen(host, port)
        except OSError as exc:
            fail(f"cannot serve metrics on {host}:{port}: {exc}")
        if not _is_loopback(host) and operator_token(settings) is None:
            log.warning(
                "metrics port on a non-loopback address without HYPERORU_METRICS_TOKEN: "
                "only loopback clients are let in",
                extra={"host": host, "port": port},
            )
    _mark_database_in_use(settings)
    application = create_app(settings, freeze_after_startup=True)
    application.state.metrics.identify("worker")

    async def run() -> None:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(application.router.lifespan_context(application))
            if listener is not None:
                await stack.enter_async_context(serving_metrics(application, listener))
            log.info("worker started", extra={"event": "worker_started"})
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
