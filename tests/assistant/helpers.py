"""Helpers of the assistant tests: the app with the loopback model allowed, SSE parsing,
and streamed model answers for the fake (tests/strategies/fake_llm.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.strategies.fake_llm import FakeLlm, Reply

API_KEY = "sk-assistant-test-key-0001"


@dataclass
class World:
    app: FastAPI
    api: Api

    async def chat(self, token: str, message: str, **body: Any) -> list[tuple[str, Any]]:
        response = await self.api.client.post(
            "/api/hyper-ai/chat",
            json={"context": {}, "message": message, **body},
            headers=self.api.bearer(token),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        return parse_sse(response.text)

    async def use_fake_model(self, token: str, llm: FakeLlm) -> None:
        body = {"provider": "openai", "model": "fake-model-1", "base_url": llm.base_url}
        response = await self.api.client.put(
            "/api/hyper-ai/model", json={**body, "api_key": API_KEY}, headers=self.api.bearer(token)
        )
        assert response.status_code == 200, response.text


@asynccontextmanager
async def world(
    make_settings: Callable[..., Settings], llm: FakeLlm, **overrides: Any
) -> AsyncIterator[World]:
    app = create_app(make_settings(llm_allowed_hosts=f"127.0.0.1:{llm.port}", **overrides))
    async with running(app), asgi_client(app) as client:
        yield World(app, Api(client))


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """(event, data) of each frame; data is JSON, except ``[DONE]``."""
    frames = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        data = fields["data"]
        frames.append((fields["event"], data if data == "[DONE]" else json.loads(data)))
    return frames


def tokens_of(frames: list[tuple[str, Any]]) -> str:
    return "".join(data["content"] for kind, data in frames if kind == "token")


def tool_calls_of(frames: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [data for kind, data in frames if kind == "tool_call"]


def text(content: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": content}}]}


def tool_call(
    call_id: str, name: str, arguments: dict[str, Any], index: int = 0
) -> list[dict[str, Any]]:
    """A tool call as providers stream it: id and name first, the arguments in pieces."""
    raw = json.dumps(arguments)
    half = len(raw) // 2
    first = {"index": index, "id": call_id, "type": "function", "function": {"name": name}}
    return [
        {"choices": [{"index": 0, "delta": {"tool_calls": [first]}}]},
        *(
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [{"index": index, "function": {"arguments": part}}]
                        },
                    }
                ]
            }
            for part in (raw[:half], raw[half:])
        ),
    ]


def usage(total: int) -> dict[str, Any]:
    return {
        "choices": [],
        "usage": {"prompt_tokens": total - 2, "completion_tokens": 2, "total_tokens": total},
    }


def streamed(*chunks: dict[str, Any] | list[dict[str, Any]], **options: Any) -> Reply:
    flat: list[dict[str, Any]] = []
    for chunk in chunks:
        flat.extend(chunk if isinstance(chunk, list) else [chunk])
    return Reply(stream=flat, **options)


def tool_messages(request_body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool results the server sent the model, decoded."""
    return [json.loads(m["content"]) for m in request_body["messages"] if m["role"] == "tool"]
