"""Bodies of /api/account/{id}/exchange: one shape per exchange, told apart by
``exchange``. Secrets are write-only; the answer shows what is public (addresses) and a
hint of the Binance key."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from hyperoru.accounts.models import Exchange
from hyperoru.api_types import RequestModel, ResponseModel, UtcTime


def _stripped(value: Any) -> Any:
    # Keys are pasted; a trailing newline is not part of them. Non-strings are left for
    # the type check to refuse.
    return value.strip() if isinstance(value, str) else value


Trimmed = BeforeValidator(_stripped)
HyperliquidAddress = Annotated[
    str, Trimmed, Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="0x and 40 hex digits")
]
HyperliquidKey = Annotated[
    str,
    Trimmed,
    Field(
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description="The API (agent) wallet's private key: 0x and 64 hex; write-only",
    ),
]
# Binance keys and secrets are 64 letters and digits; a little room either side.
BinanceKey = Annotated[
    str, Trimmed, Field(pattern=r"^[A-Za-z0-9]{16,128}$", description="Write-only")
]
TotpCode = Annotated[
    str | None, Field(default=None, max_length=64, description="A current two-factor code")
]


class HyperliquidCredentialsIn(RequestModel):
    exchange: Literal["hyperliquid"]
    environment: Literal["testnet", "mainnet"] = "testnet"
    master_address: HyperliquidAddress
    agent_private_key: HyperliquidKey
    totp_code: TotpCode = None


class BinanceCredentialsIn(RequestModel):
    exchange: Literal["binance"]
    environment: Literal["testnet", "demo", "mainnet"] = "demo"
    api_key: BinanceKey
    api_secret: BinanceKey
    totp_code: TotpCode = None


ExchangeCredentialsIn = Annotated[
    HyperliquidCredentialsIn | BinanceCredentialsIn, Field(discriminator="exchange")
]


class TotpConfirmation(RequestModel):
    totp_code: TotpCode = None


class ExchangeCredentialsOut(ResponseModel):
    """The trader's exchange connection, masked: never a key or secret."""

    account_id: int
    connected: bool
    exchange: Exchange | None
    environment: str | None
    master_address: str | None = Field(description="Hyperliquid: the account's address")
    agent_address: str | None = Field(
        description="Hyperliquid: the API wallet's address, derived from its key"
    )
    api_key_hint: str | None = Field(description="Binance: the last 4 characters of the key")
    validated_at: UtcTime | None
    problems: list[str]
