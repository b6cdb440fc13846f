"""Which client a trader gets: the offline model for ``builtin``, OpenAI-compatible
chat completions (with the operator's settings) for every other provider."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from hyperoru.accounts.models import Account
from hyperoru.settings import Settings
from hyperoru.strategies.llm.base import LlmError
from hyperoru.strategies.llm.builtin import MODEL_NAME, BuiltinModel
from hyperoru.strategies.llm.factory import llm_client_for
from hyperoru.strategies.llm.openai_compatible import OpenAICompatibleClient


def trader(provider: str | None, model: str | None, base_url: str | None) -> Account:
    return Account(
        id=1,
        user_id=1,
        name="t",
        llm_provider=provider,
        llm_model=model,
        llm_base_url=base_url,
        initial_capital=Decimal(10000),
        default_leverage=1,
        max_leverage=10,
    )


async def test_builtin_provider_needs_no_key_or_url() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    async with httpx.AsyncClient() as http:
        client = llm_client_for(
            trader("builtin", None, None), api_key=None, http=http, settings=settings
        )
    assert isinstance(client, BuiltinModel) and client.model_name == MODEL_NAME


async def test_other_providers_speak_openai_compatible() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    async with httpx.AsyncClient() as http:
        client = llm_client_for(
            trader("deepseek", "deepseek-chat", "https://api.deepseek.com/v1"),
            api_key="k",
            http=http,
            settings=settings,
        )
        assert isinstance(client, OpenAICompatibleClient)
        assert client.model_name == "deepseek-chat"
        with pytest.raises(LlmError, match="no LLM base URL"):
            llm_client_for(
                trader("openai", "gpt-4o", None), api_key="k", http=http, settings=settings
            )
