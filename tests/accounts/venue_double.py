"""A seam double for ``Services.venues``: its adapters implement ``validate()`` (and
``aclose()``) only, answering what the test scripted, and it records the credentials it
was handed. It stands in for the real venue packages until they are merged; end-to-end
tests run the real adapters against the loopback fake venues instead."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI

from hyperoru.app import replace_services
from hyperoru.exchanges.venue import CredentialCheck, VenueCredentials

# A valid secp256k1 key (any 32 bytes below the curve order) and an unrelated master.
AGENT_KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
MASTER = "0x" + "AbCdEf0123456789aBcDeF0123456789abCDef01"
BINANCE_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
BINANCE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


@dataclass
class _Adapter:
    venue: ScriptedVenue

    async def validate(self) -> CredentialCheck:
        if self.venue.error is not None:
            raise self.venue.error
        return self.venue.check

    async def aclose(self) -> None:
        self.venue.closed += 1


@dataclass
class ScriptedVenue:
    check: CredentialCheck = field(default_factory=lambda: CredentialCheck(problems=()))
    error: Exception | None = None
    seen: list[VenueCredentials] = field(default_factory=list)
    closed: int = 0

    def __call__(self, credentials: VenueCredentials) -> _Adapter:
        self.seen.append(credentials)
        return _Adapter(self)


def script_venues(app: FastAPI) -> ScriptedVenue:
    venue = ScriptedVenue()
    replace_services(app, venues=venue)
    return venue


def hyperliquid_body(code: str, **changes: str) -> dict[str, str]:
    return {
        "exchange": "hyperliquid",
        "master_address": MASTER,
        "agent_private_key": AGENT_KEY,
        "totp_code": code,
        **changes,
    }


def binance_body(code: str, **changes: str) -> dict[str, str]:
    return {
        "exchange": "binance",
        "api_key": BINANCE_KEY,
        "api_secret": BINANCE_SECRET,
        "totp_code": code,
        **changes,
    }
