"""Which model answers a user's assistant, and the model itself at the time of a chat.

Like a trader's: provider, model, base URL and a write-only key sealed in the vault (its
own slot: scope ``assistant``, the user's id). Changing the base URL drops the stored
key unless a new key comes with it. Or ``trader_id``: that trader's model and key, read
at each chat through the trader's ownership check. Nothing stored means ``builtin``.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts import service as accounts
from hyperoru.accounts.providers import BUILTIN_PROVIDER, default_base_url
from hyperoru.assistant.builtin import BuiltinAssistant
from hyperoru.assistant.chat_model import ChatModel, OpenAIChatModel
from hyperoru.assistant.models import AssistantModelSettings
from hyperoru.assistant.schemas import ModelSettingsIn, ModelSettingsOut
from hyperoru.auth.principal import Principal
from hyperoru.errors import ApiError
from hyperoru.net.policy import OutboundGuard, OutboundUrlRefused
from hyperoru.strategies.llm.base import LlmError, LlmErrorKind
from hyperoru.timeutils import utcnow
from hyperoru.vault import store
from hyperoru.vault.cipher import SecretAddress, SecretBox, SecretUnreadable

SECRET_SCOPE = "assistant"  # noqa: S105 - a table scope, not a secret
API_KEY_FIELD = "llm_api_key"


def key_address(user_id: int) -> SecretAddress:
    return SecretAddress(user_id=user_id, scope=SECRET_SCOPE, scope_id=user_id, field=API_KEY_FIELD)


def _hint(key: str) -> str | None:
    visible = min(4, len(key) // 4)
    return key[-visible:] if visible else None


def settings_out(row: AssistantModelSettings | None) -> ModelSettingsOut:
    if row is None or (row.provider == BUILTIN_PROVIDER and row.trader_id is None):
        return ModelSettingsOut(
            source="builtin",
            provider=BUILTIN_PROVIDER,
            model=None,
            base_url=None,
            has_api_key=False,
            api_key_hint=None,
            trader_id=None,
        )
    return ModelSettingsOut(
        source="trader" if row.trader_id is not None else "own",
        provider=row.provider,
        model=row.model,
        base_url=row.base_url,
        has_api_key=row.has_api_key,
        api_key_hint=row.api_key_hint,
        trader_id=row.trader_id,
    )


async def read_settings(session: AsyncSession, *, user: Principal) -> AssistantModelSettings | None:
    return await session.get(AssistantModelSettings, user.id)


async def _check_url(guard: OutboundGuard, url: str) -> None:
    try:
        await guard.check_url(url)
    except OutboundUrlRefused as exc:
        raise ApiError(
            422,
            "URL_NOT_ALLOWED",
            f"base_url refused: {exc}",
            details={"fields": [{"field": "base_url", "message": str(exc)}]},
        ) from None


async def change_settings(
    session: AsyncSession,
    box: SecretBox,
    guard: OutboundGuard,
    *,
    user: Principal,
    data: ModelSettingsIn,
) -> AssistantModelSettings:
    """Raises 422 URL_NOT_ALLOWED, 404/403 for a trader not the caller's. Commits."""
    if data.base_url:
        await _check_url(guard, data.base_url)  # before any write: resolving can take seconds
    if data.trader_id is not None:
        await accounts.load_owned_account(session, user=user, account_id=data.trader_id)
    row = await read_settings(session, user=user)
    if row is None:
        row = AssistantModelSettings(
            user_id=user.id, provider=BUILTIN_PROVIDER, has_api_key=False, updated_at=utcnow()
        )
        session.add(row)
    previous_url = row.base_url
    row.trader_id = data.trader_id
    if data.provider is not None:
        row.provider = data.provider.lower()
        row.base_url = default_base_url(row.provider)
    if data.model is not None:
        row.model = data.model
    if data.base_url is not None:
        row.base_url = data.base_url
    if row.provider == BUILTIN_PROVIDER or data.trader_id is not None:
        row.model, row.base_url = None, None
    address = key_address(user.id)
    if data.api_key and row.provider != BUILTIN_PROVIDER and data.trader_id is None:
        await store.put_secret(session, box, address, data.api_key)
        row.has_api_key, row.api_key_hint = True, _hint(data.api_key)
    elif row.has_api_key and (row.base_url != previous_url or row.base_url is None):
        # A stolen session must not be able to send the stored key to a server of its own.
        await store.delete_secret(session, address)
        row.has_api_key, row.api_key_hint = False, None
    row.updated_at = utcnow()
    await session.commit()
    return row


async def chat_model_for(
    session: AsyncSession,
    box: SecretBox,
    http: httpx.AsyncClient,
    *,
    user: Principal,
) -> ChatModel:
    """The user's assistant model now, its key read now and kept nowhere. Raises LlmError
    (misconfigured) when a key cannot be read; ApiError when the chosen trader is gone or
    no longer the caller's."""
    row = await read_settings(session, user=user)
    if row is None:
        return BuiltinAssistant()
    try:
        if row.trader_id is not None:
            account = await accounts.load_owned_account(
                session, user=user, account_id=row.trader_id
            )
            if (account.llm_provider or "").lower() == BUILTIN_PROVIDER:
                return BuiltinAssistant()
            key = await accounts.read_llm_api_key(session, box, account=account)
            return OpenAIChatModel(
                http,
                base_url=account.llm_base_url or "",
                model=account.llm_model or "",
                api_key=key,
            )
        if row.provider == BUILTIN_PROVIDER:
            return BuiltinAssistant()
        key = await store.read_secret(session, box, key_address(user.id))
    except SecretUnreadable:
        raise LlmError(LlmErrorKind.MISCONFIGURED, "the stored model key cannot be read") from None
    return OpenAIChatModel(http, base_url=row.base_url or "", model=row.model or "", api_key=key)
