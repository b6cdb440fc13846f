"""Secure by default: every /api route must run the token verifier unless listed here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/api/users/register"),
        ("POST", "/api/users/login"),
        ("GET", "/api/health"),
        # Telegram and Discord authenticate themselves (secret header, Ed25519 signature).
        ("POST", "/api/bots/telegram/webhook"),
        ("POST", "/api/bots/discord/interactions/{config_id}"),
    }
)


def _calls(dependant: Any) -> Iterable[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def unprotected_routes(app: FastAPI, verifier: Callable[..., Any]) -> list[str]:
    """Routes under /api (and websockets) that neither run ``verifier`` nor are public."""
    offenders: list[str] = []
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/api"):
            protected = verifier in set(_calls(route.dependant))
            for method in route.methods:
                if (method, route.path) not in PUBLIC_ROUTES and not protected:
                    offenders.append(f"{method} {route.path}")
        elif (
            isinstance(route, APIWebSocketRoute)
            and verifier not in set(_calls(route.dependant))
            and not getattr(route.endpoint, "authenticates_itself", False)
        ):
            offenders.append(f"WS {route.path}")
    return offenders


def enforce_protection(app: FastAPI, verifier: Callable[..., Any]) -> None:
    offenders = unprotected_routes(app, verifier)
    if offenders:
        raise RuntimeError(
            "routes without authentication (add them to PUBLIC_ROUTES only if the contract "
            "names them public): " + ", ".join(sorted(offenders))
        )
