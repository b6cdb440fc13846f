"""Reading one HTTP/1.1 request off a stream: what the loopback fakes share (the model
server, the venues). Each fake answers in its own way; only the reading is common."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawRequest:
    method: str
    target: str  # the path with its query string, as sent
    headers: dict[str, str]  # names lower-cased
    body: bytes  # exactly the bytes sent (signatures are checked over them)


async def read_request(reader: asyncio.StreamReader) -> RawRequest:
    """The next request on a keep-alive connection; raises ``IncompleteReadError`` when the
    client has gone."""
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawRequest(method, target, headers, body)
