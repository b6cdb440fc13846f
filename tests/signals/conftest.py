"""The simulated market the signal runtime tests run on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app, replace_services
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.signals.market import CandleMarket
from tests.signals.paths import OVERSOLD_PATH


@pytest.fixture
async def world(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[FastAPI, Api, CandleMarket]]:
    """An app on a scripted market: BTC oversold just under its EMA(50), ETH flat."""
    app = create_app(make_settings())
    market = CandleMarket()
    market.set_closes("BTC", OVERSOLD_PATH)
    market.set_closes("ETH", [3000.0] * 120)
    async with running(app), asgi_client(app) as client:
        replace_services(app, market=market.runtime())
        await market.set("BTC", str(OVERSOLD_PATH[-1]))
        yield app, Api(client), market
