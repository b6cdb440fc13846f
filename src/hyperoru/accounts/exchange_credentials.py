"""A trader's exchange credentials: checked against the venue, sealed in the vault,
shown masked, and never returned, logged or put in an error.

Saving and deleting need a fresh two-factor code (``Confirm``, passed in by the route:
``auth.second_factor``), checked after the request's own shape and rules and before the
venue is asked, so a stolen token can neither store keys nor probe them at the venue.
The venue is asked with no database connection held. The trader's ``exchange``,
``hyperliquid_enabled`` and ``hyperliquid_environment`` follow what is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.exchange_credentials_model import ExchangeCredential
from hyperoru.accounts.exchange_credentials_schemas import (
    BinanceCredentialsIn,
    HyperliquidCredentialsIn,
)
from hyperoru.accounts.live_gate import Confirm
from hyperoru.accounts.models import Account
from hyperoru.accounts.service import SECRET_SCOPE
from hyperoru.errors import ApiError, not_found
from hyperoru.exchanges.venue import (
    BinanceCredentials,
    CredentialCheck,
    HyperliquidCredentials,
    UnknownOutcome,
    VenueConnector,
    VenueCredentials,
    VenueError,
)
from hyperoru.timeutils import utcnow
from hyperoru.vault import store
from hyperoru.vault.cipher import SecretAddress, SecretBox

log = logging.getLogger("hyperoru.accounts")

CredentialsIn = HyperliquidCredentialsIn | BinanceCredentialsIn

AGENT_KEY_FIELD = "exchange_agent_private_key"
API_KEY_FIELD = "exchange_api_key"
API_SECRET_FIELD = "exchange_api_secret"  # noqa: S105 - a vault field name
_SECRET_FIELDS = (AGENT_KEY_FIELD, API_KEY_FIELD, API_SECRET_FIELD)
# Venue answers that mean "try again later" rather than "these keys are wrong".
_TRANSIENT = frozenset({"VENUE_UNAVAILABLE", "VENUE_RATE_LIMITED", "VENUE_TIMESTAMP"})
# Stored environments back to their types (the column is a plain string).
_HYPERLIQUID_ENVIRONMENTS: dict[str, Literal["testnet", "mainnet"]] = {
    "testnet": "testnet",
    "mainnet": "mainnet",
}
_BINANCE_ENVIRONMENTS: dict[str, Literal["testnet", "demo", "mainnet"]] = {
    "testnet": "testnet",
    "demo": "demo",
    "mainnet": "mainnet",
}


def _address(account: Account, field: str) -> SecretAddress:
    return SecretAddress(
        user_id=account.user_id, scope=SECRET_SCOPE, scope_id=account.id, field=field
    )


def agent_address_of(private_key: str) -> str:
    """The address a Hyperliquid agent key signs as (lower case).

    422 EXCHANGE_CREDENTIALS_INVALID for 64 hex digits that are no secp256k1 key (zero,
    or not below the curve's order); the library's own error may quote the key, so it is
    dropped rather than chained or logged."""
    from eth_account import Account as EthAccount  # heavy; only when credentials change

    try:
        address: object = EthAccount.from_key(private_key).address
    except Exception:  # its kinds vary by backend; none may carry on
        address = None
    if address is None:
        raise _invalid(
            ["agent_private_key is not a valid private key"],
            "agent_private_key is not a valid private key (it must be a number between 1 "
            "and the secp256k1 order, as 0x and 64 hex digits)",
        )
    return str(address).lower()


def _invalid(problems: Iterable[str], message: str | None = None) -> ApiError:
    found = list(problems)
    return ApiError(
        422,
        "EXCHANGE_CREDENTIALS_INVALID",
        message or "The exchange refused these credentials: " + "; ".join(found),
        details={"problems": found},
    )


def trader_is_live(what: str) -> ApiError:
    return ApiError(
        409,
        "TRADER_IS_LIVE",
        f"The trader trades live: switch it to paper (execution_mode 'paper') before {what}",
    )


async def credential_of(session: AsyncSession, account_id: int) -> ExchangeCredential | None:
    return await session.scalar(
        select(ExchangeCredential).where(ExchangeCredential.account_id == account_id)
    )


async def credential_environment(session: AsyncSession, account_id: int) -> str | None:
    """The environment (testnet, demo, mainnet) of the trader's stored credentials."""
    return await session.scalar(
        select(ExchangeCredential.environment).where(ExchangeCredential.account_id == account_id)
    )


def venue_credentials(data: CredentialsIn) -> VenueCredentials:
    if isinstance(data, HyperliquidCredentialsIn):
        return HyperliquidCredentials(
            environment=data.environment,
            master_address=data.master_address.lower(),
            agent_private_key=data.agent_private_key,
        )
    return BinanceCredentials(
        environment=data.environment, api_key=data.api_key, api_secret=data.api_secret
    )


def _secrets_of(credentials: VenueCredentials) -> dict[str, str]:
    if isinstance(credentials, HyperliquidCredentials):
        return {AGENT_KEY_FIELD: credentials.agent_private_key}
    return {API_KEY_FIELD: credentials.api_key, API_SECRET_FIELD: credentials.api_secret}


def _scrubbed(text: str, secrets: Iterable[str]) -> str:
    # A venue may quote what it was sent; nothing secret leaves through its words.
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


async def check_with_venue(connect: VenueConnector, credentials: VenueCredentials) -> None:
    """Ask the venue whether these credentials can trade. Raises 503 VENUE_UNAVAILABLE
    (nothing learnt; try again) or 422 EXCHANGE_CREDENTIALS_INVALID with the problems."""
    hidden = list(_secrets_of(credentials).values())
    try:
        adapter = connect(credentials)
        try:
            check: CredentialCheck = await adapter.validate()
        finally:
            await adapter.aclose()
    except VenueError as exc:
        message = _scrubbed(exc.message, hidden)
        if exc.code in _TRANSIENT:
            headers = (
                {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else {}
            )
            raise ApiError(
                503,
                "VENUE_UNAVAILABLE",
                f"The exchange could not check the credentials now ({message}); nothing was "
                "saved, try again later",
                headers=headers,
            ) from None
        raise _invalid([message]) from None
    except UnknownOutcome:
        raise ApiError(
            503,
            "VENUE_UNAVAILABLE",
            "The exchange did not answer the check; nothing was saved, try again later",
        ) from None
    if check.can_withdraw is True:
        raise _invalid(
            ["the API key can withdraw funds"],
            "This API key has withdrawal permission; create one without it (this server "
            "never holds keys that can withdraw)",
        )
    if check.problems:
        raise _invalid(_scrubbed(p, hidden) for p in check.problems)


def _check_shape(data: CredentialsIn) -> str | None:
    """The agent address for Hyperliquid; 422 when the key is the master's own."""
    if not isinstance(data, HyperliquidCredentialsIn):
        return None
    agent = agent_address_of(data.agent_private_key)
    if agent == data.master_address.lower():
        raise _invalid(
            ["agent_private_key is the master account's own key"],
            "agent_private_key is the key of master_address itself: create an API (agent) "
            "wallet on Hyperliquid and send its key instead; the master key can withdraw",
        )
    return agent


async def save_credentials(
    session: AsyncSession,
    box: SecretBox,
    connect: VenueConnector,
    *,
    account: Account,
    data: CredentialsIn,
    confirm: Confirm,
) -> ExchangeCredential:
    """Check, seal and store (replacing what the trader had). Commits.

    Raises 422 EXCHANGE_CREDENTIALS_INVALID, 409 TRADER_IS_LIVE (a live trader cannot
    move to another exchange), the second factor's 403/429, 503 VENUE_UNAVAILABLE."""
    agent = _check_shape(data)
    if account.execution_mode == "live" and data.exchange != account.exchange:
        raise trader_is_live("connecting it to another exchange")
    await confirm(data.totp_code)
    credentials = venue_credentials(data)
    await check_with_venue(connect, credentials)
    try:
        row = await _store(session, box, account=account, data=data, agent=agent)
    except IntegrityError:
        # Another save for this trader inserted first: the last one wins, as when the two
        # had come one after the other.
        await session.rollback()
        row = await _store(session, box, account=account, data=data, agent=agent)
    log.info(
        "exchange credentials saved",
        extra={
            "event": "exchange_credentials_saved",
            "account_id": account.id,
            "exchange": row.exchange,
            "environment": row.environment,
        },
    )
    return row


async def delete_credentials(
    session: AsyncSession, *, account: Account, totp_code: str | None, confirm: Confirm
) -> None:
    """Remove them. 404 EXCHANGE_CREDENTIALS_NOT_FOUND; 409 TRADER_IS_LIVE. Commits."""
    row = await credential_of(session, account.id)
    if row is None:
        raise not_found("exchange_credentials", "This trader has no exchange credentials")
    if account.execution_mode == "live":
        raise trader_is_live("removing its credentials")
    await confirm(totp_code)
    await session.delete(row)
    for field in _SECRET_FIELDS:
        await store.delete_secret(session, _address(account, field))
    _follow(account, None)
    await session.commit()
    log.info(
        "exchange credentials deleted",
        extra={"event": "exchange_credentials_deleted", "account_id": account.id},
    )


async def _store(
    session: AsyncSession,
    box: SecretBox,
    *,
    account: Account,
    data: CredentialsIn,
    agent: str | None,
) -> ExchangeCredential:
    # Read again: the trader may have changed while the venue was asked.
    await session.refresh(account)
    if account.execution_mode == "live" and data.exchange != account.exchange:
        raise trader_is_live("connecting it to another exchange")
    now = utcnow()
    row = await credential_of(session, account.id)
    if row is None:
        row = ExchangeCredential(account_id=account.id, user_id=account.user_id, created_at=now)
        session.add(row)
    row.exchange = data.exchange
    row.environment = data.environment
    if isinstance(data, HyperliquidCredentialsIn):
        row.master_address, row.agent_address, row.api_key_hint = (
            data.master_address.lower(),
            agent,
            None,
        )
    else:
        row.master_address, row.agent_address, row.api_key_hint = None, None, data.api_key[-4:]
    row.validated_at = now
    row.problems = []
    row.updated_at = now
    kept = _secrets_of(venue_credentials(data))
    for field in _SECRET_FIELDS:
        if field in kept:
            await store.put_secret(session, box, _address(account, field), kept[field])
        else:
            await store.delete_secret(session, _address(account, field))
    _follow(account, row)
    await session.commit()
    return row


def _follow(account: Account, row: ExchangeCredential | None) -> None:
    """The trader's public exchange fields say what its credentials are."""
    hyperliquid = row is not None and row.exchange == "hyperliquid"
    if row is not None:
        account.exchange = "hyperliquid" if row.exchange == "hyperliquid" else "binance"
    account.hyperliquid_enabled = hyperliquid
    account.hyperliquid_environment = (
        _HYPERLIQUID_ENVIRONMENTS[row.environment] if row is not None and hyperliquid else None
    )
    account.updated_at = utcnow()


async def read_venue_credentials(
    session: AsyncSession, box: SecretBox, *, account: Account
) -> VenueCredentials | None:
    """The trader's credentials in plain text, for opening its venue adapter only; never
    for an answer or a log. Raises SecretUnreadable when the vault cannot open them."""
    row = await credential_of(session, account.id)
    if row is None:
        return None
    if row.exchange == "hyperliquid":
        key = await store.read_secret(session, box, _address(account, AGENT_KEY_FIELD))
        if key is None or row.master_address is None:
            return None
        return HyperliquidCredentials(
            environment=_HYPERLIQUID_ENVIRONMENTS[row.environment],
            master_address=row.master_address,
            agent_private_key=key,
        )
    api_key = await store.read_secret(session, box, _address(account, API_KEY_FIELD))
    secret = await store.read_secret(session, box, _address(account, API_SECRET_FIELD))
    if api_key is None or secret is None:
        return None
    return BinanceCredentials(
        environment=_BINANCE_ENVIRONMENTS[row.environment], api_key=api_key, api_secret=secret
    )
