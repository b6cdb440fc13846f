"""What the sync and the async client share: turning a call into a request, an answer
into a value or a ``HyperoruError``, and the retry decision. Only the sending differs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from hyperoru.client.errors import HyperoruError
from hyperoru.client.operations import Operation

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """Idempotent requests answered 429 or 503 are sent again after the server's
    ``Retry-After`` (or, without one, an exponential backoff), at most ``attempts`` times
    in all; a wait longer than ``max_delay`` is not worth it and raises at once."""

    attempts: int = 3
    backoff: float = 0.5
    max_delay: float = 60.0

    def delay(self, request: Request, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before sending attempt ``attempt + 1``, or None to stop."""
        if response.status_code not in RETRY_STATUSES or not request.repeatable:
            return None
        if attempt >= self.attempts:
            return None
        wait = retry_after(response)
        if wait is None:
            wait = self.backoff * 2 ** (attempt - 1)
        return wait if wait <= self.max_delay else None


NO_RETRY = RetryPolicy(attempts=1)


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass
class Auth:
    """The session token, shared by a client's requests and its WebSocket streams."""

    token: str | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    repeatable: bool  # may be sent again after a 429/503
    params: dict[str, Any] | None = None
    json: Any = None
    content: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def as_httpx(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "method": self.method,
            "url": self.path,
            "params": self.params,
            "headers": self.headers,
        }
        if self.json is not None:
            arguments["json"] = self.json
        if self.content is not None:
            arguments["content"] = self.content
        return arguments


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (list, tuple)):
        return [_query_value(v) for v in value]
    return value if isinstance(value, str) else str(value)


def _jsonable(value: Any) -> Any:
    """Decimals and datetimes as the contract wants them (numbers, ``Z`` times). A float's
    repr is the shortest text that reads back the same, so a Decimal of up to 15
    significant digits (every price and size a venue accepts) reaches the server as
    written."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def prepare(op: Operation, auth: Auth, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Request:
    """Positional arguments fill the path, then ``op.body_args``; keyword arguments are
    body fields (or query parameters for a route without a body). ``json=``, ``params=``
    and ``headers=`` pass through whole; ``content=`` (and ``content_type=``) is the file
    of an upload."""
    names = op.path_params + op.body_args
    if len(args) > len(names):
        raise TypeError(f"{op.name}() takes at most {len(names)} positional arguments")
    fields = dict(zip(names, args, strict=False))
    clash = fields.keys() & kwargs.keys()
    if clash:
        raise TypeError(f"{op.name}() got {sorted(clash)} twice")
    fields.update(kwargs)
    missing = [name for name in op.path_params if name not in fields]
    if missing:
        raise TypeError(f"{op.name}() needs {', '.join(missing)}")
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", quote(str(fields.pop(name)), safe=""))
    headers = {**auth.headers(), **fields.pop("headers", {})}
    params = fields.pop("params", None)
    body = fields.pop("json", None)
    content = fields.pop("content", None)
    content_type = fields.pop("content_type", None)
    if op.upload:
        if content_type:
            headers["Content-Type"] = content_type
        params = {**(params or {}), **fields}
    elif op.body:
        body = {**(body or {}), **fields} if fields or body is None else body
    elif fields:
        params = {**(params or {}), **fields}
    if params:
        params = {k: _query_value(v) for k, v in params.items() if v is not None}
    return Request(
        op.method, path, op.idempotent(body), params or None, _jsonable(body), content, headers
    )


def decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return response.text


def finish(op: Operation, auth: Auth, response: httpx.Response) -> Any:
    """The answer as ``op`` promises it, or ``HyperoruError``; keeps or drops the token
    when the operation logs in or out."""
    body = decode(response)
    if response.status_code >= 400:
        raise HyperoruError.from_answer(
            response.status_code, body, response.headers.get("x-request-id"), retry_after(response)
        )
    if op.effect == "login" and isinstance(body, dict):
        auth.token = body["session_token"]
    elif op.effect == "logout":
        auth.token = None
    if op.model is None or body is None:
        return body
    if op.many:
        return [op.model.from_json(item) for item in body]
    return op.model.from_json(body) if isinstance(body, dict) else body


def websocket_url(base_url: str, path: str = "/ws") -> str:
    url = httpx.URL(base_url)
    scheme = "wss" if url.scheme == "https" else "ws"
    return str(url.copy_with(scheme=scheme, path=url.path.rstrip("/") + path, query=None))
