"""How ``hyperoru serve`` runs uvicorn: one process, the HTTP parser and event loop it
serves on, and the options every server of ours shares.

httptools (uvicorn's C HTTP parser) is a dependency because it raises the ceiling of
every route (bench/README.md, "API read paths"); it is a compiled extension, so where it
does not install the server still starts, on h11. The loop stays asyncio's: uvloop is
faster still, but its ``subprocess_exec`` refuses the ``user``/``group``/``extra_groups``
arguments the program sandbox starts its process with, so every backtest and program
run would fail under it (seen in a bench server's log, where every backtest failed).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any, Literal

from hyperoru.realtime.limits import uvicorn_ws_options
from hyperoru.settings import Settings

log = logging.getLogger("hyperoru.serving")

Loop = Literal["uvloop", "asyncio"]
Http = Literal["httptools", "h11"]


@dataclass(frozen=True, slots=True)
class ServerStack:
    loop: Loop
    http: Http

    @property
    def name(self) -> str:
        return f"{self.loop} + {self.http}"


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def serve_stack() -> ServerStack:
    """What ``hyperoru serve`` runs on: asyncio, and httptools where it imports (h11
    otherwise)."""
    return ServerStack(loop="asyncio", http="httptools" if _importable("httptools") else "h11")


def uvicorn_options(
    settings: Settings, *, host: str, port: int, stack: ServerStack | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``/``uvicorn.Config``: one worker (the embedded
    default is one process; scale out with more processes, see docs/RUNTIME.md), no
    uvicorn access log (ours is JSON, written by the middleware), no server header, the
    proxy headers of the trusted proxies only, and the WebSocket limits."""
    stack = stack or serve_stack()
    proxies = list(settings.trusted_proxy_list)
    return {
        "host": host,
        "port": port,
        "loop": stack.loop,
        "http": stack.http,
        "access_log": False,
        "log_config": None,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "server_header": False,
        **uvicorn_ws_options(),
    }


def scale_out_problem(settings: Settings) -> str | None:
    """Why this deployment cannot run several API processes (None when it can)."""
    if not settings.resolved_database_url.startswith("postgresql"):
        return (
            "several API processes need PostgreSQL (set HYPERORU_DATABASE_URL): SQLite "
            "serves one process, and each process keeps its own copies of the data"
        )
    if not settings.redis_url:
        return (
            "several API processes need Redis (set HYPERORU_REDIS_URL): it carries "
            "events, revocations, data versions and rate limits between the processes"
        )
    if settings.demo:
        return "--demo runs in one process: start it without --workers"
    return None


def run_server_processes(
    settings: Settings, *, host: str, port: int, workers: int, stack: ServerStack | None = None
) -> None:
    """Serve on ``workers`` processes sharing one listening socket, until interrupted."""
    import uvicorn

    options = uvicorn_options(settings, host=host, port=port, stack=stack)
    log.info(
        "serving",
        extra={"event": "serving", "loop": options["loop"], "http": options["http"],
               "workers": workers},
    )  # fmt: skip
    uvicorn.run("hyperoru.app:app_from_environment", factory=True, workers=workers, **options)


def run_server(
    app: Any, settings: Settings, *, host: str, port: int, stack: ServerStack | None = None
) -> None:
    """Serve ``app`` until interrupted."""
    import uvicorn  # here, so that the CLI's other commands start fast

    options = uvicorn_options(settings, host=host, port=port, stack=stack)
    log.info(
        "serving",
        extra={"event": "serving", "loop": options["loop"], "http": options["http"]},
    )
    uvicorn.run(app, **options)
