"""Routing that tries only the routes a path can match, in the router's own order.

Starlette's router tries every route's regular expression in turn until one matches: a
route registered late (the backtests' routes come after about 110 others) paid for all
of them, about 570 Python calls per request, more than the rest of a cached answer.

Here each route is known by the complete literal segments its path starts with
(``/api/backtests/{id}``: ``api``, ``backtests``). A request's path is looked up by its
first three segments, else its first two; the list found holds, in the router's own
order, every route whose literal segments agree with that prefix (so also
``/api/{x}/...`` or ``/{path}``), and a path no list knows gets the routes with fewer than
two literal segments. A route can only match a path that starts with its literal
segments, so the first match (and a 405 before a 404) is the one the full router would
have found. The lists are built on the first request, and
again whenever routes have been added since.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

Key = tuple[str, ...]
# Literal prefixes tried, longest first: three segments tell `/api/users/profile` from the
# other `/api/users/...` routes; two are the fallback when the third is an id.
_DEPTHS = (3, 2)


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


def _compatible(literals: list[str], key: Key) -> bool:
    """Whether a route with these literal segments can match a path starting with ``key``."""
    shared = min(len(literals), len(key))
    return tuple(literals[:shared]) == key[:shared]


class RouteIndex:
    """The dispatcher installed in place of a router's own loop (``install``)."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._built_for = -1
        self._tables: dict[int, dict[Key, Router]] = {}
        self._anywhere = router

    def _build(self) -> None:
        routes: Sequence[BaseRoute] = list(self._router.routes)
        literals = [literal_segments(route) for route in routes]
        for depth in _DEPTHS:
            keys = {tuple(each[:depth]) for each in literals if len(each) >= depth}
            self._tables[depth] = {
                key: self._subrouter(
                    [
                        route
                        for route, each in zip(routes, literals, strict=True)
                        if _compatible(each, key)
                    ]
                )
                for key in keys
            }
        # A path whose prefix no table knows can only be matched by these.
        shortest = min(_DEPTHS)
        self._anywhere = self._subrouter(
            [route for route, each in zip(routes, literals, strict=True) if len(each) < shortest]
        )
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
        deepest = _DEPTHS[0]
        segments = tuple(route_path.split("/", deepest + 1)[1 : deepest + 1])
        for depth in _DEPTHS:
            if len(segments) >= depth:
                found = self._tables[depth].get(segments[:depth])
                if found is not None:
                    return found
        return self._anywhere


def install(router: Router) -> None:
    """Route ``router``'s requests through an index. A router that redirects to the other
    spelling of a path keeps its own loop: the twin may sit under another key."""
    if router.redirect_slashes or router.middleware_stack != router.app:
        return
    router.middleware_stack = RouteIndex(router)
