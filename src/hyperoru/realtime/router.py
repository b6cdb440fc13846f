"""The /ws endpoint: Origin check, authentication, then the socket's message loop."""

from __future__ import annotations

import logging
from contextlib import suppress

from fastapi import APIRouter
from starlette.websockets import WebSocket, WebSocketDisconnect

from hyperoru.realtime.connection import Connection
from hyperoru.realtime.handlers import HandlerRegistry
from hyperoru.realtime.handshake import Refusal, admit, client_ip, origin_allowed
from hyperoru.realtime.hub import Hub
from hyperoru.realtime.limits import CLOSE_POLICY, CLOSE_TOO_MANY_SOCKETS, WsLimits
from hyperoru.realtime.messages import connected_payload
from hyperoru.realtime.protocol import reply

log = logging.getLogger("hyperoru.realtime.ws")

public_router = APIRouter()


@public_router.websocket("/ws")
async def feed(websocket: WebSocket) -> None:
    state = websocket.app.state
    services = state.services
    limits: WsLimits = state.ws_limits
    hub: Hub = services.ws_hub
    registry: HandlerRegistry = services.ws_handlers
    ip = client_ip(websocket)
    origin = websocket.headers.get("origin")
    if not origin_allowed(websocket, services.settings):
        log.warning(
            "websocket origin refused",
            extra={"event": "ws_origin_refused", "ip": ip, "origin": origin},
        )
        await websocket.close(CLOSE_POLICY)  # before accept: the upgrade is answered 403
        return
    await websocket.accept()
    try:
        admission = await admit(websocket, limits)
    except Refusal as refusal:
        log.info(
            "websocket authentication failed",
            extra={"event": "ws_auth_failed", "ip": ip, "origin": origin, "reason": refusal.reason},
        )
        with suppress(WebSocketDisconnect, RuntimeError, OSError):  # the client may be gone
            await websocket.close(refusal.code, refusal.reason)
        return

    user_id = admission.identity.user.id
    if hub.count_for(user_id) >= limits.max_sockets_per_user:
        log.warning(
            "websocket refused: too many sockets",
            extra={"event": "ws_socket_cap", "user_id": user_id, "ip": ip},
        )
        with suppress(WebSocketDisconnect, RuntimeError, OSError):
            await websocket.close(CLOSE_TOO_MANY_SOCKETS, "too many open sockets for this user")
        return

    connection = Connection(websocket, admission.identity, limits, ip=ip)
    log.info(
        "websocket opened",
        extra={"event": "ws_opened", "user_id": connection.user_id, "ip": ip, "origin": origin},
    )
    hub.attach(connection)
    try:
        greeting = await connected_payload(services.sessionmaker, admission.identity.user)
        connection.offer(reply("connected", greeting, admission.request_id))
        await connection.serve(registry.dispatch)
    finally:
        # Off the hub first: a slow client's close may wait on its unread backlog.
        hub.ended(connection)
    await connection.send_close()
    log.info(
        "websocket closed",
        extra={
            "event": "ws_closed",
            "user_id": connection.user_id,
            "ip": ip,
            "code": connection.close_code,
            "reason": connection.close_reason,
        },
    )


# Checked by http.route_policy: the endpoint authenticates every socket itself, before
# it reads or sends anything else (the HTTP verifier dependency cannot run on /ws, whose
# token may arrive in the first message).
feed.authenticates_itself = True  # type: ignore[attr-defined]  # a marker on the function
