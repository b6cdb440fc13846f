"""HMAC-SHA256 signing of Binance SIGNED requests, over exactly the bytes we send.

The venue verifies ``hex(HMAC_SHA256(secret, query + body))`` where the query string and
the form body are joined with nothing between them, and the signature is the last
parameter. So a request is encoded once, signed, and sent as those very strings: nothing
may re-encode or reorder it afterwards (httpx's ``params=`` would).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

Params = Sequence[tuple[str, str]]

DEFAULT_RECV_WINDOW_MS = 5000


def hmac_sha256_hex(secret: str | bytes, payload: str | bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    data = payload.encode() if isinstance(payload, str) else payload
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def encode(params: Params) -> str:
    """``a=1&b=2`` in the given order; values percent-encoded as a form would be."""
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in params)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    query: str  # without the leading "?"; may be empty
    body: str  # application/x-www-form-urlencoded; may be empty


def sign(
    secret: str,
    *,
    query: Params = (),
    body: Params = (),
    timestamp_ms: int,
    recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
) -> SignedRequest:
    """Add ``recvWindow``, ``timestamp`` and, last, ``signature`` to the part that carries data.

    A request with a body carries the timing parameters and the signature at the end of
    the body; otherwise at the end of the query string.
    """
    timing = [("recvWindow", str(recv_window_ms)), ("timestamp", str(timestamp_ms))]
    query_text = encode(query)
    if body:
        body_text = encode([*body, *timing])
        signature = hmac_sha256_hex(secret, query_text + body_text)
        return SignedRequest(query_text, f"{body_text}&signature={signature}")
    query_text = encode([*query, *timing])
    signature = hmac_sha256_hex(secret, query_text)
    return SignedRequest(f"{query_text}&signature={signature}", "")


class ServerClock:
    """Our clock corrected by the offset the venue's ``GET /fapi/v1/time`` showed.

    The venue refuses a timestamp more than 1 s ahead of its clock or older than
    ``recvWindow`` (-1021), so a local clock that drifts by seconds would make every
    signed call fail; the offset is measured at the first call and again after a -1021.
    """

    def __init__(self, local_ms: Callable[[], int]) -> None:
        self._local_ms = local_ms
        self.offset_ms: int | None = None

    @property
    def synced(self) -> bool:
        return self.offset_ms is not None

    def local_ms(self) -> int:
        return self._local_ms()

    def adopt(self, server_ms: int, *, sent_ms: int, received_ms: int) -> None:
        # The server read its clock somewhere during the round trip; the midpoint is
        # the best guess, and the error is at most half the round trip.
        self.offset_ms = server_ms - (sent_ms + received_ms) // 2

    def now_ms(self) -> int:
        return self._local_ms() + (self.offset_ms or 0)
