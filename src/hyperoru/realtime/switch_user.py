"""``switch_user`` (documented: "switches active user context"). A socket speaks only for
a user it can prove it is, so the message carries a session token of that user; the
socket then continues as that session, keeping its channels, which from then on carry the
new user's traders only. A token of user A never lets a socket hear user B.

    {"type": "switch_user", "data": {"user_id": 7, "session_token": "hyo_..."}}
    → {"type": "user_switched", "data": {"user", "accounts", "channels"}}

Without a token only a switch to the socket's own user is accepted (nothing changes).
"""

from __future__ import annotations

import logging

from pydantic import Field

from hyperoru.api_types import MAX_ID, RequestModel
from hyperoru.auth.service import resolve_token
from hyperoru.auth.tokens import token_digest
from hyperoru.errors import ApiError
from hyperoru.realtime.connection import SocketIdentity
from hyperoru.realtime.events import CHANNELS
from hyperoru.realtime.handlers import HandlerContext, HandlerRegistry, Reply
from hyperoru.realtime.handshake import failed_authentication_allowed
from hyperoru.realtime.limits import WsLimits
from hyperoru.realtime.messages import connected_payload
from hyperoru.realtime.protocol import WsError

log = logging.getLogger("hyperoru.realtime.ws")


class SwitchUserRequest(RequestModel):
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    session_token: str | None = Field(default=None, min_length=1, max_length=256)


def _field_error(field: str, message: str) -> WsError:
    return WsError(
        "VALIDATION_ERROR",
        f"{field}: {message}",
        {"fields": [{"field": field, "message": message}]},
    )


async def _answer(context: HandlerContext) -> Reply:
    payload = await connected_payload(context.state.services.sessionmaker, context.user)
    channels = [c for c in CHANNELS if c in context.connection.channels]
    return Reply("user_switched", {**payload, "channels": channels})


async def _switch_user(context: HandlerContext, body: SwitchUserRequest) -> Reply:
    connection = context.connection
    current = connection.identity.user
    if body.session_token is None:
        if body.user_id is None:
            raise _field_error("session_token", "send the session_token of the user to switch to")
        if body.user_id != current.id:
            raise WsError(
                "FORBIDDEN",
                "Switching to another user needs a session_token of that user",
                {"user_id": body.user_id},
            )
        return await _answer(context)

    services = context.state.services
    try:
        principal, session = await resolve_token(
            services.sessionmaker, services.settings, body.session_token, services.token_cache
        )
    except ApiError as exc:
        if not await failed_authentication_allowed(
            services.limiter, services.settings, connection.ip
        ):
            raise WsError("RATE_LIMITED", "Too many failed authentications; wait") from None
        # The socket keeps its user: a bad token changes nothing.
        raise WsError(exc.code, exc.message) from None
    if body.user_id is not None and principal.id != body.user_id:
        raise WsError(
            "FORBIDDEN",
            "The session_token belongs to another user than user_id",
            {"user_id": body.user_id},
        )
    limits: WsLimits = context.state.ws_limits
    hub = services.ws_hub
    if principal.id != current.id and hub.count_for(principal.id) >= limits.max_sockets_per_user:
        raise WsError(
            "TOO_MANY_SOCKETS",
            "That user already holds the most sockets allowed here; close one first",
            {"limit": limits.max_sockets_per_user},
        )
    identity = SocketIdentity(
        user=principal, session_id=session.id, digest=token_digest(body.session_token)
    )
    hub.switch_identity(connection, identity)
    log.info(
        "websocket switched user",
        extra={
            "event": "ws_user_switched",
            "from_user_id": current.id,
            "user_id": principal.id,
            "ip": connection.ip,
        },
    )
    return await _answer(context)


def register_switch_user(registry: HandlerRegistry) -> None:
    registry.register("switch_user", SwitchUserRequest, _switch_user)
