"""A real HTTP server on 127.0.0.1 that plays an OpenAI-compatible chat-completions model.

Tests queue replies (status, body, headers, a delay, a trickle); requests beyond the
queue get ``default_reply`` (a plain "hold" answer unless changed). Every request is
recorded with its headers and body.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_requests import read_request


def completion(
    content: str | list[dict[str, Any]] | None,
    *,
    reasoning: str | None = None,
    model: str = "fake-model-1",
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": usage or {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    }


HOLD = completion('{"operation": "hold", "symbol": "BTC", "reasoning": "nothing to do"}')


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: HOLD)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before anything is sent
    trickle: float = 0.0  # seconds between body bytes (headers go out at once)
    chunked: bool = False  # no Content-Length: the client cannot know the size up front
    # A streamed answer (``"stream": true``): these chunks as server-sent events, then
    # ``data: [DONE]``. With ``hold``, the stream pauses after the chunks until the event
    # is set or the client hangs up (counted in ``FakeLlm.hangups``).
    stream: list[dict[str, Any]] | None = None
    hold: asyncio.Event | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeLlm:
    port: int = 0
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    connections: int = 0
    handlers: set[asyncio.Task[None]] = field(default_factory=set)
    # Awaited when a request has arrived, before its reply: a look at the server's state
    # at the very moment the model is being asked.
    on_request: Callable[[RecordedRequest], Awaitable[None]] | None = None
    # Requests being answered right now, and the most there ever were at once.
    in_flight: int = 0
    # The answer to requests beyond the queue.
    default_reply: Reply = field(default_factory=Reply)
    most_in_flight: int = 0
    # Clients that hung up in the middle of a held stream.
    hangups: int = 0
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while True:
                request = await read_request(reader)
                method, path, headers, raw = (
                    request.method,
                    request.target,
                    request.headers,
                    request.body,
                )
                recorded = RecordedRequest(method, path, headers, json.loads(raw) if raw else {})
                self.requests.append(recorded)
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                try:
                    if self.on_request is not None:
                        await self.on_request(recorded)
                    reply = self.replies.popleft() if self.replies else self.default_reply
                    if reply.stream is not None:
                        await self._stream(reader, writer, reply)
                    else:
                        await self._reply(writer, reply)
                finally:
                    self.in_flight -= 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _reply(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        await asyncio.sleep(reply.delay)
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        reason = {200: "OK", 302: "Found", 429: "Too Many Requests"}.get(reply.status, "Status")
        lines = [f"HTTP/1.1 {reply.status} {reason}", "Content-Type: application/json"]
        lines += [f"{name}: {value}" for name, value in reply.headers.items()]
        if reply.chunked:
            lines.append("Transfer-Encoding: chunked")
        else:
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        if reply.chunked:
            for start in range(0, len(body), 65536):
                part = body[start : start + 65536]
                writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                await writer.drain()
            writer.write(b"0\r\n\r\n")
        elif reply.trickle:
            for byte in body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(reply.trickle)
        else:
            writer.write(body)
        await writer.drain()

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: Reply
    ) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        writer.write((head + "Transfer-Encoding: chunked\r\n\r\n").encode())

        def event(data: str) -> None:
            part = f"data: {data}\n\n".encode()
            writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")

        for chunk in reply.stream or ():
            event(json.dumps(chunk))
        await writer.drain()
        if reply.hold is not None:
            # The client sends nothing more on this request: a read ends only at hang-up.
            released = asyncio.ensure_future(reply.hold.wait())
            gone = asyncio.ensure_future(reader.read(1))
            finished, _ = await asyncio.wait({released, gone}, return_when=asyncio.FIRST_COMPLETED)
            released.cancel()
            gone.cancel()
            if released not in finished:
                self.hangups += 1
                self.hung_up.set()
                raise ConnectionResetError("the client hung up in the middle of the stream")
        event("[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()


@asynccontextmanager
async def fake_llm() -> AsyncIterator[FakeLlm]:
    state = FakeLlm()
    server = await asyncio.start_server(state._handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        # Slow replies may still be sleeping: they end with the test.
        for task in state.handlers:
            task.cancel()
        await asyncio.gather(*state.handlers, return_exceptions=True)
        await server.wait_closed()
