"""Use cases of /api/account. Each public function owns its transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts import live_gate
from hyperoru.accounts.exchange_credentials_model import ExchangeCredential
from hyperoru.accounts.live_gate import PAPER_ONLY, LiveSwitch
from hyperoru.accounts.models import Account
from hyperoru.accounts.providers import default_base_url
from hyperoru.accounts.schemas import (
    AccountCreate,
    AccountFields,
    AccountUpdate,
)
from hyperoru.accounts.valuation import Valuation
from hyperoru.api_types import MAX_ID
from hyperoru.auth.principal import Principal
from hyperoru.errors import ApiError, forbidden, not_found
from hyperoru.net.policy import OutboundGuard, OutboundUrlRefused
from hyperoru.paging import ListWindow
from hyperoru.quotas import ensure_room
from hyperoru.timeutils import utcnow
from hyperoru.vault import store
from hyperoru.vault.cipher import SecretAddress, SecretBox

log = logging.getLogger("hyperoru.accounts")

MAX_LEVERAGE = 50
MAX_TRADERS_PER_USER = 100
SECRET_SCOPE = "account"  # noqa: S105 - a table scope, not a secret
LLM_API_KEY_FIELD = "llm_api_key"


@dataclass(frozen=True, slots=True)
class AccountView:
    """A trader as the API shows it: the row and its valuation (which trading reads from
    its ledger: ``hyperoru.trading.valuation.account_views``)."""

    account: Account
    valuation: Valuation


# How many fills the trader has; asked only when a change depends on it.
TradeCount = Callable[[], Awaitable[int]]


def llm_key_address(account: Account) -> SecretAddress:
    return SecretAddress(
        user_id=account.user_id, scope=SECRET_SCOPE, scope_id=account.id, field=LLM_API_KEY_FIELD
    )


def _api_key_hint(key: str) -> str | None:
    # At most a quarter of the key, and never more than 4 characters.
    visible = min(4, len(key) // 4)
    return key[-visible:] if visible else None


# --- ownership -------------------------------------------------------------------------


async def load_owned_account(session: AsyncSession, *, user: Principal, account_id: int) -> Account:
    """The caller's live trader ``account_id``.

    Raises 404 ACCOUNT_NOT_FOUND when it does not exist or was deleted (whoever owned
    it), 403 FORBIDDEN when it belongs to another user.
    """
    if not 1 <= account_id <= MAX_ID:
        raise not_found("account")
    account = await session.get(Account, account_id)
    if account is None or account.deleted_at is not None:
        raise not_found("account")
    if account.user_id != user.id:
        raise forbidden("This trader belongs to another user")
    return account


# --- validation ------------------------------------------------------------------------


def _check_leverage(default_leverage: int, max_leverage: int) -> None:
    if max_leverage > MAX_LEVERAGE or default_leverage > max_leverage:
        raise ApiError(
            422,
            "LEVERAGE_TOO_HIGH",
            f"default_leverage must not exceed max_leverage, which must not exceed {MAX_LEVERAGE}",
            details={"default_leverage": default_leverage, "max_leverage": max_leverage},
        )


async def _check_sent_base_url(guard: OutboundGuard, data: AccountFields) -> None:
    # Runs before anything is written: resolving a name can take seconds, and no
    # database write lock may be held meanwhile.
    url_sent, url = data.base_url_choice
    if not (url_sent and url):
        return
    try:
        await guard.check_url(url)
    except OutboundUrlRefused as exc:
        raise ApiError(
            422,
            "URL_NOT_ALLOWED",
            f"base_url refused: {exc}",
            details={"fields": [{"field": "base_url", "message": str(exc)}]},
        ) from None


# --- LLM settings ----------------------------------------------------------------------


async def _apply_llm_settings(
    session: AsyncSession,
    box: SecretBox,
    *,
    account: Account,
    data: AccountFields,
) -> None:
    """Provider, model, base URL and key, including the rule that a new base URL drops
    the stored key unless a key comes with it (a stolen token must not be able to send
    the key to a server of the thief's choosing). The account must have an id and a sent
    base URL must have passed ``_check_sent_base_url``."""
    previous_url = account.llm_base_url
    previous_default = default_base_url(account.llm_provider)
    if data.sent("llm_provider"):
        account.llm_provider = data.llm_provider
    model_sent, model = data.model_choice
    if model_sent:
        account.llm_model = model or None

    url_sent, url = data.base_url_choice
    if url_sent and url:
        account.llm_base_url = url
    elif url_sent or previous_url is None or previous_url == previous_default:
        # Cleared, never set, or still the old provider's default: follow the provider.
        # Defaults are the server's choice, not the user's, so they skip the save-time
        # check; every connection is still checked when it is made.
        account.llm_base_url = default_base_url(account.llm_provider)

    key_sent, key = data.api_key_choice
    address = llm_key_address(account)
    if key_sent and key:
        await store.put_secret(session, box, address, key)
        account.has_api_key, account.api_key_hint = True, _api_key_hint(key)
    elif (key_sent or account.llm_base_url != previous_url) and account.has_api_key:
        await store.delete_secret(session, address)
        account.has_api_key, account.api_key_hint = False, None
        if not key_sent:
            log.info(
                "base URL changed: stored LLM key cleared",
                extra={"event": "llm_key_cleared", "account_id": account.id},
            )


# Columns a client may clear with null, and columns where null means "leave as is".
_NULLABLE_FIELDS = (
    "description",
    "max_position_notional",
    "max_order_notional",
    "max_daily_loss",
    "allowed_symbols",
    "max_open_positions",
    "taker_fee_rate",
    "maker_fee_rate",
    "avatar_preset_id",
)
_VALUED_FIELDS = (
    "account_type",
    "show_on_dashboard",
    "exchange",
    # Checked by live_gate before anything is applied. hyperliquid_enabled and
    # hyperliquid_environment are not here: they follow the stored credentials.
    "execution_mode",
    "flatten_on_daily_loss",
    "default_leverage",
    "max_leverage",
    "margin_mode",
)


def _apply_plain_fields(account: Account, data: AccountFields) -> None:
    for name in _NULLABLE_FIELDS:
        if data.sent(name):
            setattr(account, name, getattr(data, name))
    for name in _VALUED_FIELDS:
        if getattr(data, name) is not None:
            setattr(account, name, getattr(data, name))
    if data.sent("auto_trading_enabled") and data.auto_trading_enabled is not None:
        account.auto_trading_enabled = data.auto_trading_enabled
        # Pausing and resuming is the user's switch; an error state is cleared by resuming.
        account.status = "active" if data.auto_trading_enabled else "paused"
        account.status_reason = None


def _set_active(account: Account, active: bool) -> None:
    """Activating clears an error pause (and ``update_account`` the failure count);
    deactivating stops the trader without deleting it."""
    account.is_active = active
    if active:
        account.status = "active" if account.auto_trading_enabled else "paused"
        account.status_reason = None
    else:
        account.status = "paused"
        account.status_reason = "deactivated by its owner"


# --- use cases -------------------------------------------------------------------------


async def list_accounts(
    session: AsyncSession, *, user: Principal, include_hidden: bool, window: ListWindow
) -> list[Account]:
    """The caller's live traders, oldest first."""
    query = select(Account).where(Account.user_id == user.id, Account.deleted_at.is_(None))
    if not include_hidden:
        query = query.where(Account.show_on_dashboard.is_(True))
    query = query.order_by(Account.id).limit(window.limit).offset(window.offset)
    return list((await session.scalars(query)).all())


async def create_account(
    session: AsyncSession,
    box: SecretBox,
    guard: OutboundGuard,
    *,
    user: Principal,
    data: AccountCreate,
    live: LiveSwitch = PAPER_ONLY,
) -> Account:
    """Create a paper trader whose cash starts at its initial capital. Commits.

    Raises 422 LEVERAGE_TOO_HIGH, URL_NOT_ALLOWED or ACCOUNT_LIMIT_REACHED; asking for
    live (or Hyperliquid settings) at creation, 403 LIVE_TRADING_DISABLED or 409
    EXCHANGE_CREDENTIALS_MISSING: credentials are connected to an existing trader.
    """
    default_leverage = data.default_leverage or 1
    max_leverage = data.max_leverage or 10
    _check_leverage(default_leverage, max_leverage)
    live_gate.check_new_trader(data, live)
    await _check_sent_base_url(guard, data)
    await ensure_room(
        session,
        Account,
        Account.user_id == user.id,
        Account.deleted_at.is_(None),
        owner_id=user.id,
        limit=MAX_TRADERS_PER_USER,
        code="ACCOUNT_LIMIT_REACHED",
        what="traders",
    )
    now = utcnow()
    account = Account(
        user_id=user.id,
        name=data.name,
        account_type="prompt",
        has_api_key=False,
        initial_capital=data.initial_capital,
        current_cash=data.initial_capital,
        frozen_cash=Decimal(0),
        is_active=True,
        status="active",
        auto_trading_enabled=True,
        show_on_dashboard=True,
        execution_mode="paper",
        exchange=user.selected_exchange,
        hyperliquid_enabled=False,
        default_leverage=default_leverage,
        max_leverage=max_leverage,
        margin_mode="cross",
        created_at=now,
        updated_at=now,
    )
    _apply_plain_fields(account, data)
    session.add(account)
    await session.flush()  # the key is sealed to the row, so the row needs its id first
    await _apply_llm_settings(session, box, account=account, data=data)
    await session.commit()
    log.info("trader created", extra={"event": "account_created", "account_id": account.id})
    return account


@dataclass(frozen=True, slots=True)
class AccountChange:
    """What ``change_account`` changed that other domains follow (in the same
    transaction: ``hyperoru.flows.traders.update_trader``)."""

    account: Account
    type_changed: bool  # account_type was sent: the primary strategy runs what it says
    resumed: bool  # started again by its owner: a fresh failure streak


async def change_account(
    session: AsyncSession,
    box: SecretBox,
    guard: OutboundGuard,
    *,
    account: Account,
    data: AccountUpdate,
    trades_so_far: TradeCount,
    live: LiveSwitch = PAPER_ONLY,
) -> AccountChange:
    """Change the fields that were sent. The caller commits.

    Raises 422 as ``create_account`` does, 409 ACCOUNT_HAS_ACTIVITY when the initial
    capital changes after the trader has traded, and what ``live_gate.check_change``
    raises (entering live: 403 LIVE_TRADING_DISABLED, 409 EXCHANGE_CREDENTIALS_MISSING,
    the second factor's 403/429).
    """
    default_leverage = data.default_leverage or account.default_leverage
    max_leverage = data.max_leverage or account.max_leverage
    _check_leverage(default_leverage, max_leverage)
    await _check_sent_base_url(guard, data)
    await live_gate.check_change(session, account=account, data=data, switch=live)
    if data.name is not None:
        account.name = data.name
    if data.initial_capital is not None and data.initial_capital != account.initial_capital:
        untouched = (
            await trades_so_far() == 0
            and account.frozen_cash == 0
            and account.current_cash == account.initial_capital
        )
        if not untouched:
            raise ApiError(
                409,
                "ACCOUNT_HAS_ACTIVITY",
                "initial_capital can only change before the trader's first trade",
            )
        account.initial_capital = account.current_cash = data.initial_capital
    was_running = account.status == "active"
    _apply_plain_fields(account, data)
    if data.is_active is not None:
        _set_active(account, data.is_active)
    await _apply_llm_settings(session, box, account=account, data=data)
    account.updated_at = utcnow()
    return AccountChange(
        account=account,
        type_changed=data.account_type is not None,
        resumed=account.status == "active" and not was_running,
    )


async def delete_account(session: AsyncSession, *, account: Account) -> None:
    """Soft delete: the trader stops, its secrets and exchange credentials are wiped, the
    API forgets it. Commits. 409 TRADER_IS_LIVE: a live trader is switched to paper
    first, so nothing it holds at the venue is left without an owner here."""
    if account.execution_mode == live_gate.LIVE:
        raise ApiError(
            409,
            "TRADER_IS_LIVE",
            "The trader trades live: switch it to paper (execution_mode 'paper') before "
            "deleting it",
        )
    now = utcnow()
    account.deleted_at = now
    account.updated_at = now
    account.is_active = False
    account.auto_trading_enabled = False
    account.status = "paused"
    account.has_api_key, account.api_key_hint = False, None
    await store.delete_record_secrets(session, scope=SECRET_SCOPE, scope_id=account.id)
    await session.execute(
        delete(ExchangeCredential).where(ExchangeCredential.account_id == account.id)
    )
    await session.commit()
    log.info("trader deleted", extra={"event": "account_deleted", "account_id": account.id})


async def default_account(session: AsyncSession, *, user: Principal) -> Account:
    """The caller's first trader that is running (or, failing that, its first trader).

    Raises 404 ACCOUNT_NOT_FOUND when the caller has none.
    """
    account = await session.scalar(
        select(Account)
        .where(Account.user_id == user.id, Account.deleted_at.is_(None))
        .order_by((Account.status != "active"), Account.id)
        .limit(1)
    )
    if account is None:
        raise no_traders_yet()
    return account


def no_traders_yet() -> ApiError:
    return not_found("account", "You have no traders yet: create one with POST /api/account/")


async def read_llm_api_key(
    session: AsyncSession, box: SecretBox, *, account: Account
) -> str | None:
    """The trader's LLM key in plain text, for the LLM client only; never for a response.

    Raises SecretUnreadable when the stored value cannot be opened.
    """
    return await store.read_secret(session, box, llm_key_address(account))
