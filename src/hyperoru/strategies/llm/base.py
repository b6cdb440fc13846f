"""What the decision pipeline needs from a model, whichever model it is.

A client takes the rendered prompt (plus, for models that do not read prose, a small
structured ``ModelContext``) and returns the raw text with usage and latency. Failures
are one exception type, ``LlmError``, whose message is safe to store in a decision
record and show to the trader's owner: it carries the provider's error text, never the
API key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


PositionSide = Literal["long", "short"]


@dataclass(frozen=True, slots=True)
class SymbolFacts:
    """One symbol as a rule-based model sees it: hourly closes, oldest first, and minute
    closes when the model's rules read them (empty otherwise)."""

    symbol: str
    price: Decimal | None
    closes_1h: tuple[float, ...]
    position_side: PositionSide | None = None
    closes_1m: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelContext:
    """The facts behind a rendered prompt, for models that cannot read the prose."""

    symbols: tuple[SymbolFacts, ...]
    default_leverage: int
    max_leverage: int
    max_open_positions: int | None
    open_positions: int


@dataclass(frozen=True, slots=True)
class LlmRequest:
    prompt: str
    system: str | None = None
    context: ModelContext | None = None
    # Extra body fields for the provider (e.g. temperature); never headers or URLs.
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LlmResponse:
    text: str
    model: str
    usage: TokenUsage
    latency_ms: int
    # Reasoning some models return beside the answer (DeepSeek's ``reasoning_content``).
    reasoning: str | None = None
    attempts: int = 1


class LlmErrorKind(StrEnum):
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # refused, blocked, DNS or TLS failure: deliberately one kind
    RATE_LIMITED = "rate_limited"
    PROVIDER_ERROR = "provider_error"  # the provider answered with an error status
    BAD_RESPONSE = "bad_response"  # 2xx but not a chat completion, redirect, or too large
    MISCONFIGURED = "misconfigured"  # no base URL, no model, missing context


class LlmError(Exception):
    """A model call that produced no answer. ``str(error)`` is safe to store and show."""

    def __init__(
        self,
        kind: LlmErrorKind,
        message: str,
        *,
        status_code: int | None = None,
        attempts: int = 1,
        latency_ms: int = 0,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status_code = status_code
        self.attempts = attempts
        self.latency_ms = latency_ms


class LlmClient(Protocol):
    """Any model the pipeline can ask. Implementations must be safe to call concurrently."""

    @property
    def model_name(self) -> str: ...

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """The model's answer; raises LlmError when there is none."""
        ...
