"""Both spellings of a route's path, with and without the trailing slash, reach the route.

The public pages write one collection both ways (`POST /api/prompts/` in the reference,
`POST /api/prompts` in the guides), and the routers register one. Starlette answers the
other with a 307 redirect, which many clients do not follow for a POST, and a path such
as `/api/programs/signal-pools` would even reach `/api/programs/{program_id}`. So before
routing, a path that no route registers but whose twin (the same path with the trailing
slash toggled) one does is handed on as that twin: one answer, no redirect, no second
route in the OpenAPI schema.

The table is built from the router's routes on the first request (every router is
included by then). A fixed path costs a set or dictionary lookup; twins of routes with
path parameters are tried only for other paths that end the way those twins do (today:
with a slash, as no parametrised route ends with one), and only when no route takes the
path as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.routing import BaseRoute, Route, compile_path

from hyperoru.http.middleware import ASGIApp, Receive, Scope, Send


def _route_path(scope: Scope) -> str:
    """The path routes match: the request path without a proxy's ``root_path``."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def twin_of(path: str) -> str:
    """The same path with its trailing slash toggled."""
    return path[:-1] if path.endswith("/") else path + "/"


@dataclass(frozen=True)
class _TwinTable:
    # A twin of a fixed path → the registered path.
    fixed: dict[str, str]
    # The registered fixed paths: taken as they are, with no pattern tried.
    exact: frozenset[str]
    # Twins of parametrised paths, split by whether the twin ends with a slash.
    slashed: tuple[re.Pattern[str], ...]
    unslashed: tuple[re.Pattern[str], ...]
    # Every registered path's pattern, to leave alone a path some route takes as it is.
    registered: tuple[re.Pattern[str], ...]

    def canonical(self, path: str) -> str | None:
        """The registered spelling of ``path`` when only its twin is registered."""
        if path == "/":
            return None
        if path in self.exact:
            return None
        fixed = self.fixed.get(path)
        if fixed is not None:
            return fixed
        twins = self.slashed if path.endswith("/") else self.unslashed
        if not twins or not any(p.match(path) for p in twins):
            return None
        if any(p.match(path) for p in self.registered):
            return None
        return twin_of(path)


def _http_paths(routes: Iterable[BaseRoute]) -> list[str]:
    return [route.path for route in routes if isinstance(route, Route)]


def build_twin_table(routes: Iterable[BaseRoute]) -> _TwinTable:
    paths = set(_http_paths(routes))
    fixed: dict[str, str] = {}
    slashed: list[re.Pattern[str]] = []
    unslashed: list[re.Pattern[str]] = []
    for path in sorted(paths):
        twin = twin_of(path)
        if path == "/" or twin in paths:
            continue
        if "{" not in path:
            fixed[twin] = path
            continue
        pattern = compile_path(twin)[0]
        (slashed if twin.endswith("/") else unslashed).append(pattern)
    registered = tuple(compile_path(path)[0] for path in sorted(paths))
    exact = frozenset(path for path in paths if "{" not in path)
    return _TwinTable(fixed, exact, tuple(slashed), tuple(unslashed), registered)


class SlashTwinMiddleware:
    """Hands a request for an unregistered spelling of a route on as the registered one.

    Inside the request context, so the access log keeps the path the client sent; outside
    the body guard, which knows its upload route by the registered path."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self._routes = routes
        self._table: _TwinTable | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._table is None:
                self._table = build_twin_table(self._routes)
            canonical = self._table.canonical(_route_path(scope))
            if canonical is not None:
                scope = dict(scope)  # the outer layers keep the path as sent
                scope["path"] = twin_of(scope["path"])
                raw = scope.get("raw_path")
                if isinstance(raw, bytes):
                    scope["raw_path"] = raw[:-1] if raw.endswith(b"/") else raw + b"/"
        await self.app(scope, receive, send)
