"""The one exception the client raises for an error answer: the contract's error shape."""

from __future__ import annotations

from typing import Any


class HyperoruError(Exception):
    """An answer with status >= 400, carrying the server's ``code``, ``message``,
    ``request_id`` and ``details`` (contract §2) so that programs can branch on ``code``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str | None = None,
        details: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = details if details is not None else {}
        self.retry_after = retry_after

    @classmethod
    def from_answer(
        cls, status: int, body: Any, request_id: str | None, retry_after: float | None
    ) -> HyperoruError:
        # A proxy in front of the server may answer with HTML or nothing at all: the
        # status alone still makes a usable error.
        if not isinstance(body, dict):
            return cls(status, "HTTP_ERROR", f"HTTP {status}", request_id, None, retry_after)
        return cls(
            status,
            str(body.get("code") or "HTTP_ERROR"),
            str(body.get("message") or body.get("error") or f"HTTP {status}"),
            body.get("request_id") or request_id,
            body.get("details"),
            retry_after,
        )
