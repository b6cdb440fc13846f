"""/api/account/{id}/exchange: a trader's exchange credentials, write-only.

Saving and deleting need a fresh two-factor code (``totp_code``); the answer is masked
(addresses, a key hint, when it was checked) and never carries a key or secret."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from hyperoru.accounts import exchange_credentials
from hyperoru.accounts.dependencies import OwnedAccount
from hyperoru.accounts.exchange_credentials_model import ExchangeCredential
from hyperoru.accounts.exchange_credentials_schemas import (
    ExchangeCredentialsIn,
    ExchangeCredentialsOut,
    TotpConfirmation,
)
from hyperoru.accounts.models import Account
from hyperoru.auth.dependencies import CurrentUser, TwoFactor
from hyperoru.http.dependencies import DbSession
from hyperoru.services import AppServices

router = APIRouter(prefix="/api/account", tags=["accounts"])


def _masked(account: Account, row: ExchangeCredential | None) -> ExchangeCredentialsOut:
    if row is None:
        return ExchangeCredentialsOut(
            account_id=account.id,
            connected=False,
            exchange=None,
            environment=None,
            master_address=None,
            agent_address=None,
            api_key_hint=None,
            validated_at=None,
            problems=[],
        )
    return ExchangeCredentialsOut(
        account_id=account.id,
        connected=True,
        exchange="hyperliquid" if row.exchange == "hyperliquid" else "binance",
        environment=row.environment,
        master_address=row.master_address,
        agent_address=row.agent_address,
        api_key_hint=row.api_key_hint,
        validated_at=row.validated_at,
        problems=[str(p) for p in row.problems],
    )


@router.get("/{account_id}/exchange", response_model=ExchangeCredentialsOut)
async def get_exchange_credentials(account: OwnedAccount, db: DbSession) -> ExchangeCredentialsOut:
    return _masked(account, await exchange_credentials.credential_of(db, account.id))


@router.put("/{account_id}/exchange", response_model=ExchangeCredentialsOut)
async def put_exchange_credentials(
    body: ExchangeCredentialsIn,
    account: OwnedAccount,
    user: CurrentUser,
    db: DbSession,
    services: AppServices,
    second_factor: TwoFactor,
) -> ExchangeCredentialsOut:
    async def confirm(code: str | None) -> None:
        await second_factor.require_fresh_totp(user, code)

    row = await exchange_credentials.save_credentials(
        db, services.secret_box, services.venues, account=account, data=body, confirm=confirm
    )
    await services.versions.bump(account.user_id)
    return _masked(account, row)


@router.delete("/{account_id}/exchange", status_code=204, response_class=Response)
async def delete_exchange_credentials(
    account: OwnedAccount,
    user: CurrentUser,
    db: DbSession,
    services: AppServices,
    second_factor: TwoFactor,
    body: Annotated[TotpConfirmation | None, Body()] = None,
    totp_code: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The code, if not in the body (the body is better: "
            "query strings end up in logs)",
        ),
    ] = None,
) -> Response:
    async def confirm(code: str | None) -> None:
        await second_factor.require_fresh_totp(user, code)

    code = body.totp_code if body is not None and body.totp_code else totp_code
    await exchange_credentials.delete_credentials(
        db, account=account, totp_code=code, confirm=confirm
    )
    await services.versions.bump(account.user_id)
    return Response(status_code=204)
