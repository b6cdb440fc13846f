"""The client-message registry of /ws: one handler per ``type``, added without touching
the transport. A domain registers its messages on ``Services.ws_handlers`` in its
lifespan (the registry exists before any domain starts)::

    services.ws_handlers.register("get_snapshot", SnapshotRequest, handle_get_snapshot)

A handler gets the socket's context and its validated ``data`` and returns a ``Reply``;
it raises ``ApiError`` (e.g. FORBIDDEN from an ownership loader) or ``WsError`` to answer
``error``. Errors map to the envelope here, in one place, and never close the socket.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import State

from hyperoru.auth.principal import Principal
from hyperoru.errors import ApiError
from hyperoru.realtime.connection import Connection
from hyperoru.realtime.protocol import (
    ClientMessage,
    RequestId,
    WsError,
    error_reply,
    parse_client_message,
    reply,
)

log = logging.getLogger("hyperoru.realtime.ws")

Body = TypeVar("Body", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Reply:
    type: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class HandlerContext:
    connection: Connection
    # The app's state: the shared services are ``state.services`` (hyperoru.services).
    state: State
    request_id: RequestId | None

    @property
    def user(self) -> Principal:
        return self.connection.identity.user


Handler = Callable[[HandlerContext, Body], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class _Entry(Generic[Body]):
    schema: type[Body]
    handler: Handler[Body]


def _validation_error(exc: ValidationError, request_id: RequestId | None) -> WsError:
    fields = [
        {"field": ".".join(str(p) for p in problem["loc"]) or "data", "message": problem["msg"]}
        for problem in exc.errors(include_url=False)
    ]
    message = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return WsError("VALIDATION_ERROR", message, {"fields": fields}, request_id=request_id)


class HandlerRegistry:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry[Any]] = {}

    def register(self, message_type: str, schema: type[Body], handler: Handler[Body]) -> None:
        if message_type in self._entries:
            raise ValueError(f"a handler for {message_type!r} is already registered")
        self._entries[message_type] = _Entry(schema, handler)

    @property
    def message_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._entries))

    async def dispatch(self, connection: Connection, text: str) -> None:
        """Answer one client frame on ``connection``; never raises."""
        try:
            message = parse_client_message(text)
            answer = await self._answer(connection, message)
        except WsError as exc:
            connection.offer(error_reply(exc))
            return
        connection.offer(reply(answer.type, answer.data, message.request_id))

    async def _answer(self, connection: Connection, message: ClientMessage) -> Reply:
        entry = self._entries.get(message.type)
        if entry is None:
            raise WsError(
                "UNKNOWN_MESSAGE_TYPE",
                f"Unknown message type {message.type!r}",
                {"supported": list(self.message_types)},
                request_id=message.request_id,
            )
        try:
            body = entry.schema.model_validate(message.data)
        except ValidationError as exc:
            raise _validation_error(exc, message.request_id) from None
        context = HandlerContext(connection, connection.websocket.app.state, message.request_id)
        try:
            return await entry.handler(context, body)
        except WsError as exc:
            exc.request_id = message.request_id
            raise
        except ApiError as exc:
            raise WsError(
                exc.code, exc.message, exc.details, request_id=message.request_id
            ) from None
        except Exception:
            log.exception(
                "websocket handler failed",
                extra={"message_type": message.type, "user_id": connection.user_id},
            )
            raise WsError(
                "INTERNAL_ERROR", "Internal server error", request_id=message.request_id
            ) from None
