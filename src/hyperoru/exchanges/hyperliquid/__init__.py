"""Live trading on Hyperliquid perps: the venue adapter (``connect``) and its parts.

``signing`` wraps the pinned SDK's signing functions, ``nonces`` counts per signer,
``rules`` reads ``meta`` and rounds, ``parsing`` reads every answer shape and maps the
venue's texts to our error codes, ``client`` is the async httpx adapter. No database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from hyperoru.exchanges.hyperliquid.client import HyperliquidAdapter
from hyperoru.exchanges.hyperliquid.nonces import PROCESS_NONCES, NonceSource
from hyperoru.exchanges.venue import HyperliquidCredentials, VenueAdapter


def connect(
    credentials: HyperliquidCredentials,
    *,
    base_url: str | None,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], datetime] | None = None,
    nonces: NonceSource = PROCESS_NONCES,
) -> VenueAdapter:
    """An adapter for these credentials. ``base_url`` (the ``HYPERORU_HYPERLIQUID_BASE_URL``
    setting) replaces the venue's host; the signatures follow the credentials' network;
    ``nonces`` counts the signer's nonces (in Redis when the server has it)."""
    return HyperliquidAdapter(credentials, base_url=base_url, http=http, clock=clock, nonces=nonces)


__all__ = ["HyperliquidAdapter", "connect"]
