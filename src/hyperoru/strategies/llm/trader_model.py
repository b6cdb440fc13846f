"""A trader's language model as its cycles and its prompt backtests get it."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts import service as accounts_service
from hyperoru.accounts.models import Account
from hyperoru.errors import ApiError
from hyperoru.settings import Settings
from hyperoru.strategies.llm.base import LlmClient, LlmError, LlmErrorKind
from hyperoru.strategies.llm.factory import llm_client_for, uses_builtin_model
from hyperoru.vault.cipher import SecretBox


async def llm_model_for(
    secret_box: SecretBox,
    settings: Settings,
    http: httpx.AsyncClient,
    session: AsyncSession,
    account: Account,
) -> LlmClient:
    """The trader's language model, its API key read now and kept nowhere; ``LlmError``
    (misconfigured) when the key cannot be read."""
    api_key = None
    if not uses_builtin_model(account):
        try:
            api_key = await accounts_service.read_llm_api_key(session, secret_box, account=account)
        except ApiError as exc:
            raise LlmError(LlmErrorKind.MISCONFIGURED, exc.message) from exc
    return llm_client_for(account, api_key=api_key, http=http, settings=settings)
