"""The envelope of /ws in both directions: ``{"type", "request_id"?, "data"}``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hyperoru.realtime.events import CHANNEL_OF, PriceEvent, TraderEvent

RequestId = str | int
_MAX_TYPE_LENGTH = 64
_MAX_REQUEST_ID_LENGTH = 128


class WsError(Exception):
    """A message the socket answers with ``error`` and then stays open."""

    def __init__(
        self,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        request_id: RequestId | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = dict(details or {})
        # Set when the envelope was readable enough to echo the request's id.
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class ClientMessage:
    type: str
    request_id: RequestId | None
    data: dict[str, Any] = field(default_factory=dict)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _envelope_request_id(envelope: Mapping[str, Any]) -> RequestId | None:
    value = envelope.get("request_id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, str) and len(value) > _MAX_REQUEST_ID_LENGTH:
        return None
    return value


def request_id_of(text: str | None) -> RequestId | None:
    """The request id of a frame that will not be handled (so its error can echo it)."""
    if text is None:
        return None
    try:
        return parse_client_message(text).request_id
    except WsError as exc:
        return exc.request_id


def parse_client_message(text: str) -> ClientMessage:
    """The envelope of one client frame. Raises ``WsError`` (``INVALID_JSON`` or
    ``VALIDATION_ERROR``) carrying the request id when it could be read."""
    try:
        envelope = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise WsError("INVALID_JSON", "Message is not valid JSON") from None
    if not isinstance(envelope, dict):
        raise WsError("INVALID_JSON", "Message must be a JSON object")
    request_id = _envelope_request_id(envelope)
    kind = envelope.get("type")
    if not isinstance(kind, str) or not 0 < len(kind) <= _MAX_TYPE_LENGTH:
        raise WsError(
            "VALIDATION_ERROR",
            "Message needs a string 'type'",
            {"field": "type"},
            request_id=request_id,
        )
    if "request_id" in envelope and envelope["request_id"] is not None and request_id is None:
        raise WsError(
            "VALIDATION_ERROR",
            f"'request_id' must be a string of at most {_MAX_REQUEST_ID_LENGTH} characters "
            "or an integer",
            {"field": "request_id"},
        )
    data = envelope.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WsError(
            "VALIDATION_ERROR",
            "'data' must be a JSON object",
            {"field": "data"},
            request_id=request_id,
        )
    return ClientMessage(type=kind, request_id=request_id, data=data)


def _dumps(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False)


def reply(kind: str, data: Mapping[str, Any], request_id: RequestId | None) -> str:
    payload: dict[str, Any] = {"type": kind}
    if request_id is not None:
        payload["request_id"] = request_id
    payload["data"] = dict(data)
    return _dumps(payload)


def error_reply(error: WsError, request_id: RequestId | None = None) -> str:
    """The HTTP error body's fields (contract §2) inside the WebSocket envelope."""
    return reply(
        "error",
        {
            "error": error.message,
            "message": error.message,
            "code": error.code,
            "details": error.details,
        },
        request_id if request_id is not None else error.request_id,
    )


def push(event: TraderEvent | PriceEvent) -> str:
    """``{"type": "<kind>_update", "channel", "account_id", "data"}``, serialised once per
    event however many sockets receive it."""
    return _dumps(
        {
            "type": f"{event.type}_update",
            "channel": CHANNEL_OF[event.type],
            "account_id": None if isinstance(event, PriceEvent) else event.account_id,
            "data": event.data,
        }
    )
