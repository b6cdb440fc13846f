"""A loopback HTTP/1.1 server answering JSON: what the Telegram and Discord fakes share.
Each fake gives one function from a request to (status, body, headers)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

from tests.fakes.http_requests import RawRequest, read_request

Answer = tuple[int, Any, dict[str, str]]


def _write(writer: asyncio.StreamWriter, status: int, body: Any, headers: dict[str, str]) -> None:
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"HTTP/1.1 {status} Status", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(payload)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)


@asynccontextmanager
async def serve_json(answer: Callable[[RawRequest], Answer]) -> AsyncIterator[str]:
    """Serve until the block ends; yields the base URL."""
    handlers: set[asyncio.Task[Any]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            while True:
                request = await read_request(reader)
                status, body, headers = answer(request)
                _write(writer, status, body, headers)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        with suppress(Exception):
            await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
