"""One error shape for every failure (contract §2) and the handlers that enforce it."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger("hyperoru.errors")


class ApiError(Exception):
    """A failure a client can act on: HTTP status, stable code and readable message.

    Every code, with its status, is listed in ``hyperoru.error_codes``; a test reads each
    raise site and fails on a code or status the catalogue does not list.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


def not_found(resource: str, message: str | None = None) -> ApiError:
    """``<RESOURCE>_NOT_FOUND`` with a message such as "Account not found"."""
    code = f"{resource.upper()}_NOT_FOUND"
    return ApiError(404, code, message or f"{resource.replace('_', ' ').capitalize()} not found")


def forbidden(message: str = "You do not have access to this resource") -> ApiError:
    return ApiError(403, "FORBIDDEN", message)


def validation_error(message: str, field: str | None = None) -> ApiError:
    details = {"fields": [{"field": field, "message": message}]} if field else {}
    return ApiError(400, "VALIDATION_ERROR", message, details=details)


def unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": "Bearer"})


def request_id_of(scope_state: Mapping[str, Any] | None) -> str | None:
    return (scope_state or {}).get("request_id")


def error_body(
    code: str, message: str, request_id: str | None, details: Mapping[str, Any] | None = None
) -> bytes:
    return json.dumps(
        {
            "error": message,
            "message": message,
            "code": code,
            "request_id": request_id,
            "details": dict(details or {}),
        },
        separators=(",", ":"),
    ).encode()


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    request_id: str | None,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        content=error_body(code, message, request_id, details),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(
        exc.status,
        exc.code,
        exc.message,
        request_id=_request_id(request),
        details=exc.details,
        headers=exc.headers,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


_NOT_AN_INTEGER = frozenset({"int_parsing", "int_type", "int_from_float"})


def _is_id_field(loc: tuple[Any, ...]) -> bool:
    """``id``, ``program_id``, or an entry of a list such as ``signal_pool_ids``."""
    names = [p for p in loc if isinstance(p, str)]
    if not names:
        return False
    name = names[-1]
    if isinstance(loc[-1], int):
        return name.endswith("_ids")
    return name == "id" or name.endswith("_id")


def _problem_message(problem: Mapping[str, Any]) -> str:
    """Pydantic's message, except for ids: guides show ids such as ``"program-uuid"``, so
    the answer says plainly that this server's ids are integers."""
    loc = tuple(problem.get("loc", ()))
    if problem.get("type") in _NOT_AN_INTEGER and _is_id_field(loc):
        sent = problem.get("input")
        shown = f" (got {json.dumps(sent)[:60]})" if isinstance(sent, str | float) else ""
        return f"must be an integer id such as 1{shown}; ids in this API are integers"
    return str(problem.get("msg", "invalid"))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return error_response(
            400, "INVALID_JSON", "Request body is not valid JSON", request_id=_request_id(request)
        )
    fields = [
        {"field": _field_name(tuple(p.get("loc", ()))), "message": _problem_message(p)}
        for p in problems
    ]
    if problems and all(
        p.get("type") == "missing" and tuple(p.get("loc", ())) == ("body",) for p in problems
    ):
        message = "A JSON request body is required"
    else:
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return error_response(
        400,
        "VALIDATION_ERROR",
        message or "Invalid request",
        request_id=_request_id(request),
        details={"fields": fields},
    )


_HTTP_CODES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("AUTH_REQUIRED", "Authentication required"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    413: ("PAYLOAD_TOO_LARGE", "Request body is larger than 1 MiB"),
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "Request failed"))
    headers = dict(exc.headers or {})
    return error_response(
        exc.status_code, code, message, request_id=_request_id(request), headers=headers
    )


# Seconds a client is asked to wait when the database or Redis cannot be reached: both
# come back by themselves (pools reconnect, the bus resubscribes) within a few seconds of
# the service returning.
OUTAGE_RETRY_AFTER = 2
_SQLITE_BUSY = ("database is locked", "unable to open database")


def unreachable_service(exc: BaseException) -> str | None:
    """``database`` or ``redis`` when ``exc``, or an exception it was raised from, says that
    service cannot be reached right now (a transient outage a client should retry), else
    None (a bug: a 500)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        service = _service_of(current)
        if service is not None:
            return service
        current = current.__cause__ or current.__context__
    return None


# PostgreSQL's SQLSTATE classes that mean "not now", not "wrong": connection exceptions
# (08), insufficient resources such as too many connections (53), and operator
# intervention (57: shutting down, restarting, "the database system is starting up").
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57")


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of an asyncpg error, raw or as SQLAlchemy wraps it."""
    state = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
    return state if isinstance(state, str) else None


def _service_of(exc: BaseException) -> str | None:
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return "redis"
    # Raw socket errors reach here from opening a database connection (SQLAlchemy passes
    # asyncpg's connect errors on unwrapped): refused while PostgreSQL is down, reset when
    # it shuts down in the middle of the handshake (a 500 in the soak's restart).
    if isinstance(exc, (PoolTimeout, ConnectionRefusedError, ConnectionResetError)):
        return "database"
    state = _sqlstate(exc)
    if state is not None and state[:2] in _TRANSIENT_SQLSTATE_CLASSES:
        return "database"
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, InterfaceError):
            return "database"
        if isinstance(exc, OperationalError):
            # SQLite's OperationalError also means "no such table" (a bug); PostgreSQL's
            # (through asyncpg) means the connection or the server's state.
            text = str(exc.orig).lower()
            sqlite = type(exc.orig).__module__.startswith("sqlite3")
            if not sqlite or any(reason in text for reason in _SQLITE_BUSY):
                return "database"
    return None


def outage_error(exc: BaseException) -> ApiError | None:
    """The contract's 503 for an exception that says the database or Redis is
    unreachable (see ``unreachable_service``), logged as such; None for anything else."""
    service = unreachable_service(exc)
    if service is None:
        return None
    log.warning("backing service unreachable", extra={"service": service, "error": repr(exc)})
    return ApiError(
        503,
        "SERVICE_UNAVAILABLE",
        f"The server's {service} cannot be reached right now. Retry after Retry-After "
        "seconds; a write may or may not have been applied: read it back, or resend an "
        "order with the same client_order_id (it is never placed twice).",
        details={"service": service},
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER)},
    )


async def _unhandled(request: Request, exc: Exception) -> Response:
    outage = outage_error(exc)
    if outage is not None:
        return await _api_error(request, outage)
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"request_id": _request_id(request), "path": request.url.path},
    )
    return error_response(
        500, "INTERNAL_ERROR", "Internal server error", request_id=_request_id(request)
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
