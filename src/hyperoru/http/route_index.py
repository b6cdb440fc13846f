"""Routing that tries only the routes a path can match, in the router's own order.

Starlette's router tries every route's regular expression in turn until one matches: a
route registered late (the backtests' routes come after about 110 others) paid for all
of them, about 570 Python calls per request, more than the rest of a cached answer.

Here each route is filed under the first two segments of its path when those are
literal (``/api/backtests/{id}`` under ``("api", "backtests")``); routes whose literal
part is shorter (``/health``, ``/{path}``, mounts at the top) could match any path and
are kept in every list. A request is handed to a router holding only its key's routes
plus those, in the original order, so the first match (and a 405 before a 404) is the
one the full router would have found. The lists are built on the first request, and
again whenever routes have been added since.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

Key = tuple[str, str]
_DEPTH = 2


def literal_segments(route: BaseRoute) -> list[str]:
    """The path segments every path this route matches starts with (complete segments
    only: text before a parameter in the same segment does not count)."""
    if isinstance(route, Mount):
        template = route.path + "/{path}"
    elif isinstance(route, Route | WebSocketRoute):
        template = route.path
    else:  # a Host or a custom route: it may match any path
        return []
    if "{" not in template:
        return template.split("/")[1:]
    return template[: template.index("{")].split("/")[1:-1]


def key_of(path: str) -> Key | None:
    segments = path.split("/", _DEPTH + 1)[1 : _DEPTH + 1]
    return (segments[0], segments[1]) if len(segments) == _DEPTH else None


class RouteIndex:
    """The dispatcher installed in place of a router's own loop (``install``)."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._built_for = -1
        self._by_key: dict[Key, Router] = {}
        self._anywhere = router

    def _build(self) -> None:
        routes: Sequence[BaseRoute] = list(self._router.routes)
        keyed: list[tuple[Key | None, BaseRoute]] = []
        for route in routes:
            segments = literal_segments(route)
            keyed.append(((segments[0], segments[1]) if len(segments) >= _DEPTH else None, route))
        keys = {key for key, _ in keyed if key is not None}
        self._by_key = {
            key: self._subrouter([r for k, r in keyed if k is None or k == key]) for key in keys
        }
        self._anywhere = self._subrouter([r for k, r in keyed if k is None])
        self._built_for = len(routes)

    def _subrouter(self, routes: list[BaseRoute]) -> Router:
        # Falls through to the full router's answer for no match (404 or a closed socket).
        return Router(routes=routes, redirect_slashes=False, default=self._router.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._router.app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self._router  # url_for and friends see the whole router
        await self.router_for(get_route_path(scope)).app(scope, receive, send)

    def router_for(self, route_path: str) -> Router:
        """A router with every route that could match ``route_path``, in order."""
        if self._built_for != len(self._router.routes):
            self._build()
        key = key_of(route_path)
        return self._by_key.get(key, self._anywhere) if key is not None else self._anywhere


def install(router: Router) -> None:
    """Route ``router``'s requests through an index. A router that redirects to the other
    spelling of a path keeps its own loop: the twin may sit under another key."""
    if router.redirect_slashes or router.middleware_stack != router.app:
        return
    router.middleware_stack = RouteIndex(router)
