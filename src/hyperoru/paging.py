"""The window of a list request, shared by every list endpoint's service."""

from __future__ import annotations

from dataclasses import dataclass

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class ListWindow:
    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0
