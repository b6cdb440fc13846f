"""Chat completions against any OpenAI-compatible endpoint (OpenAI, DeepSeek, Ollama, …).

Calls go through the outbound guard's client (``hyperoru.net.client``): the destination is
checked when the connection is made, TLS is verified, redirects are not followed, proxies
from the environment are ignored and the answer is size-capped. Each attempt has its own
deadline. 429 and 5xx answers are retried with exponential backoff and jitter, honouring
``Retry-After``; nothing else is retried (a timeout already cost a whole attempt).

The API key goes in one header and nowhere else: errors carry the provider's text with
the key cut out, and no log line includes request headers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from hyperoru.net.client import (
    DestinationNotAllowed,
    ResponseTooLarge,
    UnsupportedContentEncoding,
)
from hyperoru.strategies.llm.base import (
    LlmError,
    LlmErrorKind,
    LlmRequest,
    LlmResponse,
    TokenUsage,
)
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.llm")

DEFAULT_TIMEOUT_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 10.0
MAX_ERROR_TEXT = 500
REDACTED = "***"
# Body fields the caller's options may not replace.
_RESERVED_FIELDS = frozenset({"model", "messages", "stream", "n"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n waits ``base * 2**(n-1)`` plus up to
    ``jitter`` of that again, never more than ``max_delay``. A ``Retry-After`` longer
    than ``max_delay`` ends the call at once instead of holding the trader's cycle."""

    max_attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: float = 0.5
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    random: Callable[[], float] = field(default=random.random)

    def backoff(self, attempt: int) -> float:
        delay = self.base_delay * 2 ** (attempt - 1)
        return min(self.max_delay, delay * (1 + self.jitter * self.random()))


def chat_completions_url(base_url: str) -> str:
    """``https://host/v1`` → ``https://host/v1/chat/completions``; a full endpoint stays."""
    base = base_url.rstrip("/")
    return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, REDACTED) if secret else text


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = (moment - utcnow()).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _text_of(content: Any) -> str:
    """Message content as text: a string, or a list of parts (some providers)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping)]
        return "".join(p for p in parts if isinstance(p, str))
    raise TypeError("message content is neither text nor a list of parts")


def _usage(raw: Any) -> TokenUsage:
    if not isinstance(raw, Mapping):
        return TokenUsage()

    def count(name: str) -> int:
        value = raw.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    prompt, completion = count("prompt_tokens"), count("completion_tokens")
    return TokenUsage(prompt, completion, count("total_tokens") or prompt + completion)


def _provider_error_text(response: httpx.Response) -> str:
    """The provider's own words: ``error.message`` when it sent JSON, else the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping):
            message = error.get("message") or error.get("detail")
            if isinstance(message, str):
                return message
        elif isinstance(error, str):
            return error
    return json.dumps(body)[:MAX_ERROR_TEXT]


_RETRY_STATUSES = frozenset({429, *range(500, 600)})


@dataclass(frozen=True, slots=True)
class _Attempt:
    response: LlmResponse | None = None
    error: LlmError | None = None
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.error is not None and self.error.status_code in _RETRY_STATUSES


class OpenAICompatibleClient:
    """One model at one endpoint with one key. Share the ``http`` client between
    instances (it holds the connection pool); it must come from
    ``hyperoru.net.client.guarded_async_client``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not base_url:
            raise LlmError(LlmErrorKind.MISCONFIGURED, "the trader has no LLM base URL")
        if not model:
            raise LlmError(LlmErrorKind.MISCONFIGURED, "the trader has no LLM model name")
        self._http = http
        self._url = chat_completions_url(base_url)
        self._host = httpx.URL(self._url).host
        self._model = model
        self._api_key = api_key or None
        self._timeout = timeout_seconds
        self._retry = retry or RetryPolicy()
        self._clock = clock

    @property
    def model_name(self) -> str:
        return self._model

    async def complete(self, request: LlmRequest) -> LlmResponse:
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(request)
            elapsed_ms = int((self._clock() - started) * 1000)
            if outcome.response is not None:
                return _with_totals(outcome.response, attempt, elapsed_ms)
            error = outcome.error
            assert error is not None
            delay = self._next_delay(outcome, attempt)
            if delay is None:
                raise LlmError(
                    error.kind,
                    error.message,
                    status_code=error.status_code,
                    attempts=attempt,
                    latency_ms=elapsed_ms,
                ) from None
            log.warning(
                "LLM call failed; retrying",
                extra={
                    "event": "llm_retry",
                    "host": self._host,
                    "status": error.status_code,
                    "attempt": attempt,
                    "delay_s": round(delay, 3),
                },
            )
            await self._retry.sleep(delay)

    def _next_delay(self, outcome: _Attempt, attempt: int) -> float | None:
        if not outcome.retryable or attempt >= self._retry.max_attempts:
            return None
        if outcome.retry_after is not None:
            return None if outcome.retry_after > self._retry.max_delay else outcome.retry_after
        return self._retry.backoff(attempt)

    def _body(self, request: LlmRequest) -> dict[str, Any]:
        messages = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        extra = {k: v for k, v in request.options.items() if k not in _RESERVED_FIELDS}
        return {**extra, "model": self._model, "messages": messages, "stream": False}

    async def _attempt(self, request: LlmRequest) -> _Attempt:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        # Connecting gives up well before the attempt does, so a silent destination and a
        # refusing one end in the same UNREACHABLE answer.
        connect = min(CONNECT_TIMEOUT_SECONDS, self._timeout / 2)
        timeout = httpx.Timeout(self._timeout, connect=connect)
        try:
            # The outer deadline also bounds an answer that trickles in byte by byte.
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(
                    self._url, json=self._body(request), headers=headers, timeout=timeout
                )
        except (TimeoutError, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
            return self._failed(
                LlmErrorKind.TIMEOUT, f"the model did not answer within {self._timeout:g} s"
            )
        except ResponseTooLarge:
            return self._failed(LlmErrorKind.BAD_RESPONSE, "the model's answer is too large")
        except UnsupportedContentEncoding:
            return self._failed(LlmErrorKind.BAD_RESPONSE, "the model's answer was compressed")
        except (DestinationNotAllowed, httpx.TransportError) as exc:
            # One message for refused, blocked, unresolvable, TLS and connect timeouts, so
            # that the answer reveals nothing about the server's network; the log has more.
            log.warning(
                "LLM endpoint unreachable",
                extra={"event": "llm_unreachable", "host": self._host, "error": type(exc).__name__},
            )
            return self._failed(LlmErrorKind.UNREACHABLE, "could not connect to the model's server")
        return self._read(response)

    def _failed(self, kind: LlmErrorKind, message: str, status: int | None = None) -> _Attempt:
        return _Attempt(error=LlmError(kind, redact(message, self._api_key), status_code=status))

    def _read(self, response: httpx.Response) -> _Attempt:
        status = response.status_code
        if 300 <= status < 400:
            return self._failed(
                LlmErrorKind.BAD_RESPONSE,
                f"the model's server answered with a redirect ({status}); redirects are not "
                "followed, set the final URL as base_url",
                status,
            )
        if status >= 400:
            text = " ".join(_provider_error_text(response).split())[:MAX_ERROR_TEXT]
            kind = LlmErrorKind.RATE_LIMITED if status == 429 else LlmErrorKind.PROVIDER_ERROR
            attempt = self._failed(kind, f"the model's server answered {status}: {text}", status)
            return _Attempt(
                error=attempt.error,
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        try:
            body = response.json()
            message = body["choices"][0]["message"]
            text = _text_of(message.get("content"))
            reasoning = message.get("reasoning_content") or message.get("reasoning")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return self._failed(
                LlmErrorKind.BAD_RESPONSE, "the model's server did not send a chat completion"
            )
        model = body.get("model") if isinstance(body.get("model"), str) else self._model
        return _Attempt(
            response=LlmResponse(
                text=text,
                model=model,
                usage=_usage(body.get("usage")),
                latency_ms=0,
                reasoning=reasoning if isinstance(reasoning, str) and reasoning else None,
            )
        )


def _with_totals(response: LlmResponse, attempts: int, latency_ms: int) -> LlmResponse:
    return LlmResponse(
        text=response.text,
        model=response.model,
        usage=response.usage,
        latency_ms=latency_ms,
        reasoning=response.reasoning,
        attempts=attempts,
    )
