"""The series an operator watches a scaled deployment by: each one moves when the thing it
counts happens (WebSocket sockets and drops, the notification outbox, the database pool).
Venue calls: tests/live/test_venue_metrics.py (they need the live trading fixtures)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack

from fastapi import FastAPI
from sqlalchemy import text, update

from hyperoru.notifications.models import OutboxMessage
from hyperoru.realtime.limits import CLOSE_UNAUTHENTICATED
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from tests.conftest import asgi_client
from tests.helpers import Api
from tests.metrics.scrape import scrape
from tests.realtime.conftest import FAST_LIMITS, close_code, open_socket, run_server

SOCKETS = ("hyperoru_websocket_sockets", ())
SESSION_ENDED = ("hyperoru_websocket_drops_total", (("reason", "session_ended"),))
OUTBOX = ("hyperoru_outbox_pending", ())
IN_USE = ("hyperoru_db_pool_connections", (("state", "in_use"),))
IDLE = ("hyperoru_db_pool_connections", (("state", "idle"),))


async def test_sockets_are_gauged_and_the_ones_the_server_closes_are_counted(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rate_limit_auth_per_minute=1000)
    async with run_server(settings, FAST_LIMITS) as server:
        before = await scrape(server.http)  # the test's client is on loopback
        assert before[SOCKETS] == 0
        assert before.get(SESSION_ENDED, 0) == 0
        _, token = await server.user()
        async with open_socket(server, token) as ws:
            assert (await scrape(server.http))[SOCKETS] == 1
            # Logging out ends the session: the server closes its socket (a drop), unlike
            # a client that leaves on its own.
            logout = await server.http.post(
                "/api/users/logout", headers={"Authorization": f"Bearer {token}"}
            )
            assert logout.status_code == 204
            assert await close_code(ws) == CLOSE_UNAUTHENTICATED
        after = await scrape(server.http)
        assert after[SOCKETS] == 0
        assert after[SESSION_ENDED] == 1

        _, other = await server.user()
        async with open_socket(server, other):
            pass  # the client closes: not a drop
        left = await scrape(server.http)
        assert left[SOCKETS] == 0
        assert sum(v for (name, _), v in left.items() if name == SESSION_ENDED[0]) == 1


async def test_pending_notifications_are_the_outbox_depth(app: FastAPI, api: Api) -> None:
    user, _ = await api.user()
    sessions = app.state.services.sessionmaker
    async with asgi_client(app, "127.0.0.1") as local:
        assert (await scrape(local))[OUTBOX] == 0
        now = utcnow()
        async with sessions() as session, session.begin():
            for kind in ("trade", "error"):
                session.add(
                    OutboxMessage(
                        user_id=user["id"], platform="telegram", chat_id="42", kind=kind,
                        text="hello", status="pending", attempts=0, available_at=now,
                        created_at=now,
                    )
                )  # fmt: skip
        assert (await scrape(local))[OUTBOX] == 2
        async with sessions() as session, session.begin():
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.kind == "trade").values(status="sent")
            )
        assert (await scrape(local))[OUTBOX] == 1


async def test_connections_held_show_in_the_pool_gauge(app: FastAPI) -> None:
    # Background work of the app may hold a connection of its own for a moment: the
    # checks allow for one.
    async with asgi_client(app, "127.0.0.1") as local, AsyncExitStack() as holding:
        for _ in range(3):
            session = await holding.enter_async_context(app.state.services.sessionmaker())
            await session.execute(text("SELECT 1"))  # checks a connection out, and keeps it
        held = await scrape(local)
        assert held[IN_USE] >= 3
        await holding.aclose()
        released = await scrape(local)
    assert released[IN_USE] <= held[IN_USE] - 2
    assert released[IDLE] >= held[IDLE] + 2
