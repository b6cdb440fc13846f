"""Which client answers for a trader, built from its settings: ``builtin`` needs
nothing, every other provider is spoken to as OpenAI-compatible chat completions."""

from __future__ import annotations

from typing import Protocol

import httpx

from hyperoru.net.client import guarded_async_client
from hyperoru.net.policy import OutboundGuard
from hyperoru.settings import Settings
from hyperoru.strategies.llm.base import LlmClient
from hyperoru.strategies.llm.builtin import BuiltinModel, rules_for_model
from hyperoru.strategies.llm.host_limit import PerHostLimit
from hyperoru.strategies.llm.openai_compatible import (
    CONNECT_TIMEOUT_SECONDS,
    OpenAICompatibleClient,
    RetryPolicy,
)

BUILTIN_PROVIDER = "builtin"


class ModelSettings(Protocol):
    """A trader's model settings: an ``Account`` or a cycle's ``TraderFacts``."""

    @property
    def llm_provider(self) -> str | None: ...
    @property
    def llm_model(self) -> str | None: ...
    @property
    def llm_base_url(self) -> str | None: ...


def llm_http_client(guard: OutboundGuard, settings: Settings) -> httpx.AsyncClient:
    """The one HTTP client for model calls, shared by every trader of the process; close
    it on shutdown. Its pool keeps connections per host for reuse, holds at most
    ``llm_max_connections`` in all and lets at most ``llm_max_connections_per_host`` calls
    wait on one host at a time."""
    return guarded_async_client(
        guard,
        max_response_bytes=settings.llm_max_response_bytes,
        timeout=httpx.Timeout(settings.llm_timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS),
        limits=httpx.Limits(
            max_connections=settings.llm_max_connections,
            max_keepalive_connections=settings.llm_max_connections,
        ),
        wrap=lambda transport: PerHostLimit(
            transport, per_host=settings.llm_max_connections_per_host
        ),
    )


def uses_builtin_model(account: ModelSettings) -> bool:
    return (account.llm_provider or "").lower() == BUILTIN_PROVIDER


def reads_minute_closes(account: ModelSettings) -> bool:
    """Whether the trader's model needs minute closes in its ``ModelContext``."""
    return uses_builtin_model(account) and rules_for_model(account.llm_model).interval == "1m"


def llm_client_for(
    account: ModelSettings, *, api_key: str | None, http: httpx.AsyncClient, settings: Settings
) -> LlmClient:
    """Raises LlmError (MISCONFIGURED) when a remote model lacks a base URL or model."""
    if uses_builtin_model(account):
        return BuiltinModel(rules_for_model(account.llm_model))
    return OpenAICompatibleClient(
        http,
        base_url=account.llm_base_url or "",
        model=account.llm_model or "",
        api_key=api_key,
        timeout_seconds=settings.llm_timeout_seconds,
        retry=RetryPolicy(max_attempts=settings.llm_max_attempts),
    )
