"""The LLM key is write-only, and moving the base URL drops it (contract §14)."""

from __future__ import annotations

from typing import Any

from tests.accounts.helpers import create_trader
from tests.helpers import Api

KEY = "sk-live-0123456789-abcdefghij-KEY1"
OTHER_KEY = "sk-live-9876543210-zyxwvutsrq-KEY2"


async def _put(api: Api, token: str, trader: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = await api.client.put(
        f"/api/account/{trader['id']}", json=fields, headers=api.bearer(token)
    )
    assert response.status_code == 200, response.text
    assert KEY not in response.text and OTHER_KEY not in response.text
    return response.json()


async def test_new_base_url_without_a_key_clears_the_key(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, llm_provider="openai", llm_api_key=KEY)
    assert trader["has_api_key"] is True and trader["api_key_hint"] == "KEY1"

    same = await _put(api, token, trader, base_url="https://api.openai.com/v1", name="renamed")
    assert same["has_api_key"] is True  # unchanged URL keeps the key

    moved = await _put(api, token, trader, llm_base_url="https://1.1.1.1/v1")
    assert moved["has_api_key"] is False and moved["api_key_hint"] is None


async def test_new_base_url_with_a_new_key_keeps_the_new_key(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, base_url="https://1.1.1.1/v1", api_key=KEY)
    moved = await _put(api, token, trader, base_url="https://9.9.9.9/v1", api_key=OTHER_KEY)
    assert moved["has_api_key"] is True and moved["api_key_hint"] == "KEY2"


async def test_switching_provider_moves_the_default_url_and_clears_the_key(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, llm_provider="openai", api_key=KEY)
    switched = await _put(api, token, trader, llm_provider="deepseek")
    assert switched["base_url"] == "https://api.deepseek.com/v1"
    assert switched["has_api_key"] is False


async def test_custom_url_survives_a_provider_change(api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(
        api, token, llm_provider="openai", base_url="https://1.1.1.1/v1", api_key=KEY
    )
    switched = await _put(api, token, trader, llm_provider="anthropic")
    assert switched["base_url"] == "https://1.1.1.1/v1" and switched["has_api_key"] is True


async def test_empty_or_null_key_clears_it_and_absent_key_keeps_it(api: Api) -> None:
    _, token = await api.user()
    for clearing in ("", None):
        trader = await create_trader(api, token, api_key=KEY)
        kept = await _put(api, token, trader, description="no key change")
        assert kept["has_api_key"] is True
        cleared = await _put(api, token, trader, llm_api_key=clearing)
        assert cleared["has_api_key"] is False and cleared["api_key_hint"] is None
