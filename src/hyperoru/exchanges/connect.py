"""Opens a live venue adapter for a trader's credentials, where the settings say the venue is.

The one place that knows every venue package: the live client and the credential checks
take a ``VenueConnector`` and never import a venue.
"""

from __future__ import annotations

from hyperoru.exchanges import hyperliquid
from hyperoru.exchanges.binance import connect as connect_binance
from hyperoru.exchanges.hyperliquid.nonces import PROCESS_NONCES, NonceSource, RedisNonces
from hyperoru.exchanges.venue import (
    BinanceCredentials,
    HyperliquidCredentials,
    VenueAdapter,
    VenueConnector,
    VenueCredentials,
)
from hyperoru.settings import Settings


def venue_connector(settings: Settings) -> VenueConnector:
    # Hyperliquid nonces counted where every process of this server sees them, when it
    # has Redis (a worker and the server may sign for one API wallet).
    nonces: NonceSource = RedisNonces(settings.redis_url) if settings.redis_url else PROCESS_NONCES

    def connect(credentials: VenueCredentials) -> VenueAdapter:
        if isinstance(credentials, HyperliquidCredentials):
            return hyperliquid.connect(
                credentials, base_url=settings.hyperliquid_base_url, nonces=nonces
            )
        if isinstance(credentials, BinanceCredentials):
            return connect_binance(credentials, base_url=settings.binance_futures_base_url)
        raise TypeError(f"unknown credentials {type(credentials).__name__}")

    return connect
