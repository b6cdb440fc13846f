"""A fake OpenAI-compatible model server for the runtime-scale bench, run in its own process:

    python bench/scale/fake_model.py --port 9000 --delay 2

``POST …/chat/completions`` waits ``--delay`` seconds, then answers a valid chat completion
whose content is a ``hold`` decision, echoing the request's ``model`` (which the bench sets
to a name unique per trader). Every answered request is logged with the time its body had
arrived and the time the answer was sent; ``GET /bench/requests`` returns that log as
``[[model, arrived, answered], …]`` (seconds since the epoch).

A process of its own so that the bench's own work (creating traders, reading records)
never delays an answer or its timestamps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import uvicorn

DECISION = json.dumps(
    {"operation": "hold", "symbol": "BTC", "reasoning": "runtime-scale bench: always hold"}
)

Scope = dict[str, Any]


class FakeModel:
    """A raw ASGI app: nothing between uvicorn and the timestamps."""

    def __init__(self, delay_seconds: float) -> None:
        self._delay = delay_seconds
        self._served: list[tuple[str, float, float]] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await self._body(receive)
        arrived = time.time()
        path, method = scope["path"], scope["method"]
        if method == "POST" and path.endswith("/chat/completions"):
            await self._complete(body, arrived, send)
        elif method == "GET" and path == "/bench/requests":
            await _respond(send, 200, self._served)
        else:
            await _respond(send, 404, {"error": {"message": f"no route {method} {path}"}})

    async def _complete(self, body: bytes, arrived: float, send: Any) -> None:
        try:
            model = str(json.loads(body)["model"])
        except (ValueError, KeyError, TypeError):
            await _respond(send, 400, {"error": {"message": "not a chat completion request"}})
            return
        await asyncio.sleep(self._delay)
        completion = {
            "id": f"chatcmpl-bench-{len(self._served)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": DECISION},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 20, "total_tokens": 1020},
        }
        self._served.append((model, arrived, time.time()))
        await _respond(send, 200, completion)

    @staticmethod
    async def _body(receive: Any) -> bytes:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    @staticmethod
    async def _lifespan(receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _respond(send: Any, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=2.0)
    args = parser.parse_args()
    uvicorn.run(
        FakeModel(args.delay),
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_level="warning",
        server_header=False,
        # Thousands of traders keep a connection each; the default backlog would refuse
        # some of them when a schedule fires all at once.
        backlog=4096,
        timeout_keep_alive=120,
    )


if __name__ == "__main__":
    main()
