"""What it takes for a trader to trade live, and what its exchange fields may say.

Entering live (``execution_mode: "live"`` on a paper trader, or a live trader moving to
another exchange) needs, in this order: the operator's switch (``HYPERORU_LIVE_TRADING``,
403 LIVE_TRADING_DISABLED), stored credentials for the trader's exchange (409
EXCHANGE_CREDENTIALS_MISSING) and a fresh two-factor code from the owner (403
MFA_REQUIRED / INVALID_TOTP), checked last so a refused request spends no code. Staying
live or going back to paper needs nothing.

``hyperliquid_enabled`` and ``hyperliquid_environment`` say whether the trader has
Hyperliquid credentials and for which network: a client may send them (read-modify-write
clients send what they read) but not to say something else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.exchange_credentials_model import ExchangeCredential
from hyperoru.accounts.models import Account
from hyperoru.accounts.schemas import AccountFields, AccountUpdate
from hyperoru.errors import ApiError, validation_error

LIVE = "live"

# A fresh two-factor code check (``auth.second_factor.SecondFactor.require_fresh_totp``
# for the caller, passed in by the route): raises 403/429 unless the code is good, and
# commits its claim on the code.
Confirm = Callable[[str | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class LiveSwitch:
    """The operator's switch and the owner's fresh-code check."""

    enabled: bool
    # None where no request carries a code (the demo, the command line): live is refused.
    confirm: Confirm | None = None

    async def confirmed(self, code: str | None) -> None:
        if self.confirm is None:
            raise ApiError(
                403, "MFA_REQUIRED", "Switching a trader to live needs a two-factor code"
            )
        await self.confirm(code)


PAPER_ONLY = LiveSwitch(enabled=False)


def live_trading_disabled() -> ApiError:
    return ApiError(
        403,
        "LIVE_TRADING_DISABLED",
        "Live trading is turned off on this server (the operator enables it with "
        "HYPERORU_LIVE_TRADING=enabled); use execution_mode 'paper'",
    )


def credentials_missing(exchange: str) -> ApiError:
    return ApiError(
        409,
        "EXCHANGE_CREDENTIALS_MISSING",
        f"The trader has no {exchange} credentials: connect them with "
        "PUT /api/account/{id}/exchange first",
        details={"exchange": exchange},
    )


def check_new_trader(data: AccountFields, switch: LiveSwitch) -> None:
    """A trader is created on paper and without credentials."""
    if data.execution_mode == LIVE:
        if not switch.enabled:
            raise live_trading_disabled()
        raise credentials_missing(data.exchange or "exchange")
    if data.hyperliquid_enabled or data.hyperliquid_environment is not None:
        raise credentials_missing("hyperliquid")


async def check_change(
    session: AsyncSession, *, account: Account, data: AccountUpdate, switch: LiveSwitch
) -> None:
    """Raise unless the change may be made (see the module's rules); spends the code
    only when everything else allows the change."""
    stored = await session.scalar(
        select(ExchangeCredential).where(ExchangeCredential.account_id == account.id)
    )
    _check_hyperliquid_fields(data, stored)
    mode = data.execution_mode or account.execution_mode
    exchange = data.exchange or account.exchange
    if mode != LIVE:
        return
    if account.execution_mode == LIVE and exchange == account.exchange:
        return  # already live there
    if not switch.enabled:
        raise live_trading_disabled()
    if stored is None or stored.exchange != exchange:
        raise credentials_missing(exchange)
    await switch.confirmed(data.totp_code)


def _check_hyperliquid_fields(data: AccountFields, stored: ExchangeCredential | None) -> None:
    connected = stored is not None and stored.exchange == "hyperliquid"
    if data.sent("hyperliquid_enabled") and data.hyperliquid_enabled is not None:
        if data.hyperliquid_enabled and not connected:
            raise credentials_missing("hyperliquid")
        if not data.hyperliquid_enabled and connected:
            raise validation_error(
                "hyperliquid_enabled follows the trader's Hyperliquid credentials: remove "
                "them with DELETE /api/account/{id}/exchange",
                "hyperliquid_enabled",
            )
    if data.sent("hyperliquid_environment"):
        current = stored.environment if connected and stored is not None else None
        sent = data.hyperliquid_environment
        if sent is not None and not connected:
            raise credentials_missing("hyperliquid")
        if sent != current:
            raise validation_error(
                "hyperliquid_environment follows the trader's Hyperliquid credentials: "
                "change it with PUT /api/account/{id}/exchange",
                "hyperliquid_environment",
            )
