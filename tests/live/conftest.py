"""Live trading tests: the trading tests' app (scripted market, a clock the test moves, no
background monitors), with every venue connection reaching one ``VenueDouble``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi import FastAPI

from hyperoru.app import replace_services
from hyperoru.exchanges.venue import VenueCredentials
from tests.live.venue_double import VenueDouble
from tests.trading.conftest import app, clock, market  # noqa: F401 (fixtures)
from tests.trading.market import TestClock


@pytest.fixture
def venue(clock: TestClock) -> VenueDouble:  # noqa: F811
    return VenueDouble(clock=clock, prices={"BTC": Decimal(50000), "ETH": Decimal(3000)})


@pytest.fixture
def connected(app: FastAPI, venue: VenueDouble) -> list[VenueCredentials]:  # noqa: F811
    """The app's venue connector answers with the double; the credentials it was opened
    with, in order."""
    opened: list[VenueCredentials] = []

    def connect(credentials: VenueCredentials) -> VenueDouble:
        opened.append(credentials)
        return venue

    replace_services(app, venues=connect)
    return opened
