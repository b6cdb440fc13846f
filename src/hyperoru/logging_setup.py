"""JSON log lines on standard error, with secrets redacted before anything is written."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_QUERY_TOKEN = re.compile(r"(session_token=)[^&\s\"']*", re.IGNORECASE)
_BEARER = re.compile(r"(bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_PLAIN_TOKEN = re.compile(r"hyo_[A-Za-z0-9_-]{20,}")

_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}


# The request (or job, or scheduled cycle) the running code works for. Tasks inherit it
# when they are created, so every line logged on behalf of one request carries its id,
# including the cycle or job that request started (docs/OPERATIONS.md, "Logs").
request_id_var: ContextVar[str | None] = ContextVar("hyperoru_request_id", default=None)


def new_work_id(prefix: str) -> str:
    """An id for work no request started (a scheduled cycle, a job queued by the server)."""
    return f"{prefix}_{secrets.token_hex(12)}"


@contextmanager
def working_for(request_id: str | None) -> Iterator[None]:
    """Log the block's lines under ``request_id``."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


def redact(text: str) -> str:
    """Mask session tokens wherever they appear: query strings, headers, free text."""
    lowered = text.lower()
    # Every pattern below contains one of these markers; most strings contain none.
    if "session_token" not in lowered and "bearer" not in lowered and "hyo_" not in lowered:
        return text
    text = _QUERY_TOKEN.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    return _PLAIN_TOKEN.sub("hyo_***", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, so CR/LF in user input can never forge a record."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            payload["request_id"] = request_id
        attributes = record.__dict__
        for key in attributes.keys() - _STANDARD_ATTRS:
            if not key.startswith("_"):
                value = attributes[key]
                payload[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            payload["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


def configure_logging(level: str = "INFO") -> None:
    # The logging HOWTO's "Optimization" switches: our records never show the caller's
    # file/line, thread or process, and finding them costs more than writing the line.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn installs its own handlers; route them through ours so redaction applies.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
