"""What the assistant needs from a model: a chat turn streamed as text deltas and tool
requests, whichever model answers (``builtin.py``, or any OpenAI-compatible endpoint here).

Remote calls go through the outbound guard's client (the one the traders' models use:
SSRF rules, allowlist, no redirects, capped size). The request asks for a stream; a
provider that answers with one JSON completion instead is read as such (the buffered
fallback). A streamed answer cannot be retried once text went out, so there is one
attempt; the failure is an ``LlmError`` whose text is safe to show (the key is cut out).
Cancelling the consumer closes the upstream connection: the provider stops generating.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from hyperoru.net.client import DestinationNotAllowed, ResponseTooLarge
from hyperoru.strategies.llm.base import LlmError, LlmErrorKind
from hyperoru.strategies.llm.openai_compatible import chat_completions_url, redact

MAX_ERROR_TEXT = 500

ChatMessage = dict[str, Any]  # an OpenAI chat message: role, content, tool_calls, tool_call_id


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolRequest:
    call_id: str
    name: str
    arguments: str  # JSON text as the model wrote it; parsed and checked by the tool


@dataclass(frozen=True, slots=True)
class UsageReport:
    total_tokens: int


ModelEvent = TextDelta | ToolRequest | UsageReport


class ChatModel(Protocol):
    @property
    def model_name(self) -> str: ...

    def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[Mapping[str, Any]]
    ) -> AsyncIterator[ModelEvent]:
        """The model's answer to ``messages``: text deltas, then any tool requests, then
        its usage when the model reports one. Raises LlmError."""
        ...


@dataclass
class _PendingCall:
    call_id: str = ""
    name: str = ""
    arguments: str = ""


class _ToolCallParts:
    """Tool calls arrive in pieces keyed by ``index``: the id and name first, then the
    arguments a few characters at a time."""

    def __init__(self) -> None:
        self._calls: dict[int, _PendingCall] = {}

    def add(self, deltas: Any) -> None:
        if not isinstance(deltas, list):
            return
        for position, delta in enumerate(deltas):
            if not isinstance(delta, Mapping):
                continue
            index = delta.get("index", position)
            call = self._calls.setdefault(
                index if isinstance(index, int) else position, _PendingCall()
            )
            if isinstance(delta.get("id"), str):
                call.call_id = delta["id"]
            function = delta.get("function")
            if isinstance(function, Mapping):
                if isinstance(function.get("name"), str):
                    call.name += function["name"]
                if isinstance(function.get("arguments"), str):
                    call.arguments += function["arguments"]

    def requests(self) -> list[ToolRequest]:
        return [
            ToolRequest(call.call_id or f"call_{index}", call.name, call.arguments or "{}")
            for index, call in sorted(self._calls.items())
            if call.name
        ]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str)
        )
    return ""


def _total_tokens(usage: Any) -> int | None:
    if not isinstance(usage, Mapping):
        return None
    total = usage.get("total_tokens")
    return total if isinstance(total, int) and not isinstance(total, bool) else None


class OpenAIChatModel:
    """One model at one endpoint with one key, over the shared guarded client."""

    def __init__(
        self, http: httpx.AsyncClient, *, base_url: str, model: str, api_key: str | None
    ) -> None:
        if not base_url or not model:
            raise LlmError(
                LlmErrorKind.MISCONFIGURED, "the assistant's model has no base URL or name"
            )
        self._http = http
        self._url = chat_completions_url(base_url)
        self._model = model
        self._api_key = api_key or None

    @property
    def model_name(self) -> str:
        return self._model

    def _fail(self, kind: LlmErrorKind, message: str, status: int | None = None) -> LlmError:
        return LlmError(kind, redact(message, self._api_key), status_code=status)

    async def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[Mapping[str, Any]]
    ) -> AsyncIterator[ModelEvent]:
        body: dict[str, Any] = {"model": self._model, "messages": list(messages), "stream": True}
        if tools:
            body["tools"] = list(tools)
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        try:
            async with self._http.stream("POST", self._url, json=body, headers=headers) as response:
                await self._check_status(response)
                if response.headers.get("content-type", "").startswith("text/event-stream"):
                    async for event in self._read_stream(response):
                        yield event
                else:
                    for event in self._read_buffered(await response.aread()):
                        yield event
        except (httpx.TimeoutException, TimeoutError):
            raise self._fail(LlmErrorKind.TIMEOUT, "the model did not answer in time") from None
        except ResponseTooLarge:
            raise self._fail(LlmErrorKind.BAD_RESPONSE, "the model's answer is too large") from None
        except (DestinationNotAllowed, httpx.TransportError):
            raise self._fail(
                LlmErrorKind.UNREACHABLE, "could not connect to the model's server"
            ) from None

    async def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        if status < 400:
            raise self._fail(
                LlmErrorKind.BAD_RESPONSE,
                f"the model's server answered with a redirect ({status}); set the final URL",
                status,
            )
        text = " ".join((await response.aread()).decode("utf-8", "replace").split())
        kind = LlmErrorKind.RATE_LIMITED if status == 429 else LlmErrorKind.PROVIDER_ERROR
        raise self._fail(
            kind, f"the model's server answered {status}: {text[:MAX_ERROR_TEXT]}", status
        )

    async def _read_stream(self, response: httpx.Response) -> AsyncIterator[ModelEvent]:
        calls = _ToolCallParts()
        total: int | None = None
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                raise self._fail(
                    LlmErrorKind.BAD_RESPONSE, "the model's stream sent a chunk that is not JSON"
                ) from None
            if not isinstance(chunk, Mapping):
                continue
            total = _total_tokens(chunk.get("usage")) or total
            choices = chunk.get("choices")
            if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
                continue
            delta = choices[0].get("delta")
            if not isinstance(delta, Mapping):
                continue
            text = _text_of(delta.get("content"))
            if text:
                yield TextDelta(text)
            calls.add(delta.get("tool_calls"))
        for request in calls.requests():
            yield request
        if total is not None:
            yield UsageReport(total)

    def _read_buffered(self, raw: bytes) -> list[ModelEvent]:
        try:
            body = json.loads(raw)
            message = body["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise self._fail(
                LlmErrorKind.BAD_RESPONSE, "the model's server did not send a chat completion"
            ) from None
        events: list[ModelEvent] = []
        text = _text_of(message.get("content"))
        if text:
            events.append(TextDelta(text))
        calls = _ToolCallParts()
        calls.add(message.get("tool_calls"))
        events.extend(calls.requests())
        total = _total_tokens(body.get("usage"))
        if total is not None:
            events.append(UsageReport(total))
        return events
