"""create_app(settings): routers, middleware, error handlers and the lifespan."""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import replace
from functools import cache
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute

from hyperoru import __version__
from hyperoru.analytics.domain import DOMAIN as ANALYTICS
from hyperoru.assistant.domain import DOMAIN as ASSISTANT
from hyperoru.auth.dependencies import authenticate
from hyperoru.auth.domain import DOMAIN as AUTH
from hyperoru.backtests.domain import DOMAIN as BACKTESTS
from hyperoru.dashboard.domain import DOMAIN as DASHBOARD
from hyperoru.demo import DOMAIN as DEMO
from hyperoru.domain import Domain
from hyperoru.errors import install_error_handlers
from hyperoru.factors.domain import DOMAIN as FACTORS
from hyperoru.flows.bots_domain import DOMAIN as BOTS
from hyperoru.flows.decision_domain import DOMAIN as STRATEGIES
from hyperoru.flows.domain import DOMAIN as FLOWS
from hyperoru.flows.sessions import announcer_for
from hyperoru.health.domain import DOMAIN as HEALTH
from hyperoru.http.conditional import ConditionalGetMiddleware
from hyperoru.http.middleware import BodyGuardMiddleware, RequestContextMiddleware
from hyperoru.http.route_index import install as index_routes
from hyperoru.http.route_policy import PUBLIC_ROUTES, enforce_protection
from hyperoru.http.slash_twins import SlashTwinMiddleware
from hyperoru.logging_setup import configure_logging
from hyperoru.market.domain import DOMAIN as MARKET
from hyperoru.metrics.asgi import RequestMetricsMiddleware
from hyperoru.metrics.domain import DOMAIN as METRICS
from hyperoru.metrics.instruments import AppMetrics
from hyperoru.metrics.venues import metered
from hyperoru.offload import off_loop
from hyperoru.programs.domain import DOMAIN as PROGRAMS
from hyperoru.prompt_backtests.domain import DOMAIN as PROMPT_BACKTESTS
from hyperoru.prompts.domain import DOMAIN as PROMPTS
from hyperoru.realtime.domain import DOMAIN as REALTIME
from hyperoru.services import Services, StartupOptions, open_services
from hyperoru.settings import Settings
from hyperoru.signals.domain import DOMAIN as SIGNALS
from hyperoru.timeutils import utcnow
from hyperoru.trading.domain import DOMAIN as TRADING

log = logging.getLogger("hyperoru.app")

# Every domain of the server, in start-up order.
DOMAINS: tuple[Domain, ...] = (
    HEALTH,
    METRICS,
    AUTH,
    FLOWS,  # the /api/account routes, and the revocation fan-out from the start
    REALTIME,
    MARKET,
    TRADING,
    PROMPTS,
    STRATEGIES,
    PROGRAMS,
    PROMPT_BACKTESTS,
    SIGNALS,
    BACKTESTS,
    FACTORS,
    ANALYTICS,
    ASSISTANT,
    BOTS,  # Telegram and Discord notifications and chat commands
    DEMO,
    DASHBOARD,  # the web pages at / and /docs, served from installed package files
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    options = StartupOptions(
        announcer_for=announcer_for,
        current=lambda: app.state.services,
        # Tests drive the paper exchange's clock by setting this before start-up.
        clock=getattr(app.state, "trading_clock", utcnow),
    )
    async with open_services(app.state.settings, options) as services:
        _install_services(app, services)
        try:
            async with AsyncExitStack() as stack:
                for domain in DOMAINS:
                    if domain.lifespan is not None:
                        await stack.enter_async_context(domain.lifespan(app))
                with _startup_objects_frozen(app.state.freeze_after_startup):
                    yield
        finally:
            del app.state.services


def _install_services(app: FastAPI, services: Services) -> None:
    # Every venue connection times its calls, also one a test swaps in later.
    app.state.services = replace(services, venues=metered(services.venues, app.state.metrics))


def replace_services(app: FastAPI, **changes: Any) -> Services:
    """Swap shared services of a running app (tests: a scripted market, a tighter sandbox,
    a broken database). Readers that ask the app's services on every call see the swap."""
    services = replace(app.state.services, **changes)
    _install_services(app, services)
    return services


@contextmanager
def _startup_objects_frozen(enabled: bool) -> Iterator[None]:
    """Everything alive once the app has started (modules, routes, models, pools) lives as
    long as the process: moved out of the collector's reach, a full collection no longer
    walks it, which was a 50-100 ms stall every few seconds under load (the p99 of
    bench/auth_profile.py: 73 ms before, 18 ms after).

    Only for a process that runs this one app until it exits (``hyperoru serve`` and
    ``worker``): a process that starts and stops many apps, like the test suite, would
    pile every app's objects into the frozen set."""
    if not enabled:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# Schemas by the routes they describe. Building one takes FastAPI about a second on a
# quiet machine (several under load) and depends on nothing but the routes, which every app
# of a process shares (``_domain_routes``): built once per process, not once per app.
# Keyed by the routes' ids (routes are not hashable); the entry keeps them alive, so an id
# cannot be reused by another route while it stands.
_SCHEMAS: dict[tuple[int, ...], tuple[tuple[BaseRoute, ...], dict[str, Any]]] = {}
_SCHEMAS_LOCK = threading.Lock()


def _openapi_with_security(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    # What the schema describes; an app's own unlisted routes (this one's /openapi.json)
    # do not make it another schema.
    routes = tuple(r for r in app.routes if getattr(r, "include_in_schema", False))
    key = tuple(id(route) for route in routes)
    with _SCHEMAS_LOCK:
        if key not in _SCHEMAS:
            _SCHEMAS[key] = (routes, _secured_schema(app, routes))
        schema = _SCHEMAS[key][1]
    app.openapi_schema = schema
    return schema


def _secured_schema(app: FastAPI, routes: tuple[BaseRoute, ...]) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, routes=routes)
    components = schema.setdefault("components", {})
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "hyo_... session token"},
        "session_token": {"type": "apiKey", "in": "query", "name": "session_token"},
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if (method.upper(), path) not in PUBLIC_ROUTES:
                operation["security"] = [{"bearer": []}, {"session_token": []}]
    return schema


async def _openapi_json(request: Request) -> Response:
    """The schema, built on a worker thread the first time: building it on the event loop
    held every other request of the process for that second."""
    app = request.app
    body: bytes | None = getattr(app.state, "openapi_body", None)
    if body is None:
        schema = await off_loop(app.openapi)
        text = json.dumps(schema, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        body = app.state.openapi_body = text.encode()
    return Response(body, media_type="application/json")


@cache
def _domain_routes() -> tuple[BaseRoute, ...]:
    """Every domain's routes, built once per process: they do not depend on the settings,
    and building them (FastAPI analyses every endpoint's parameters and models) was 0.2 s
    of each ``create_app``, which the test suite calls for nearly every test. Built apart
    from any app, the routes do not see an app's ``dependency_overrides`` (none is used)."""
    combined = APIRouter()
    for domain in DOMAINS:
        for router in domain.public_routers:
            combined.include_router(router)
        for router in domain.protected_routers:
            combined.include_router(router, dependencies=[Depends(authenticate)])
    return tuple(combined.routes)


def create_app(settings: Settings | None = None, *, freeze_after_startup: bool = False) -> FastAPI:
    """The whole application. ``freeze_after_startup``: this process runs this app until
    it exits, so what exists after start-up may be frozen out of the garbage collector."""
    settings = settings or Settings()
    app = FastAPI(
        title="Hyperoru",
        version=__version__,
        lifespan=_lifespan,
        docs_url=None,  # the dashboard serves /docs from installed files (no CDN)
        redoc_url=None,
        openapi_url=None,  # served by ``_openapi_json`` (below) when docs are enabled
        redirect_slashes=False,  # SlashTwinMiddleware answers both spellings instead
    )
    app.state.settings = settings  # the input of start-up; afterwards Services.settings
    app.state.freeze_after_startup = freeze_after_startup
    app.state.metrics = AppMetrics()

    install_error_handlers(app)
    app.router.routes.extend(_domain_routes())
    enforce_protection(app, authenticate)
    app.openapi = lambda: _openapi_with_security(app)  # type: ignore[method-assign]
    if settings.docs_enabled:
        app.add_route("/openapi.json", _openapi_json, methods=["GET"], include_in_schema=False)
    index_routes(app.router)  # tries only the routes a path can match

    if settings.allowed_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origin_list),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "If-None-Match"],
            expose_headers=[
                "X-Request-ID",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "Retry-After",
                "ETag",
                "X-Total-Count",
            ],
        )
    app.add_middleware(BodyGuardMiddleware)
    # Inside the request context, so that the access log records a 304 as a 304; the
    # context keeps the Cache-Control it sets on the answers it tags.
    app.add_middleware(ConditionalGetMiddleware)
    # `/api/prompts` and `/api/prompts/` alike, answered directly (no 307).
    app.add_middleware(SlashTwinMiddleware, routes=app.router.routes)
    # Inside the request context: an escaped exception is timed here as the 500 that the
    # context answers for it.
    app.add_middleware(RequestMetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestContextMiddleware)
    return app


def app_from_environment() -> FastAPI:
    """What each process of ``hyperoru serve --workers N`` serves: the app built from the
    environment's settings (uvicorn starts the processes and calls this in each)."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings, freeze_after_startup=True)
