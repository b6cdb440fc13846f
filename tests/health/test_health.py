"""GET /api/health: public, exempt from limits, honest about the database."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from hyperoru import __version__
from hyperoru.app import replace_services
from tests.helpers import Api, assert_error


async def test_health_is_public_and_reports_components(api: Api) -> None:
    response = await api.client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["version"] == __version__
    assert body["database"] == "ok"
    assert body["probe"] == "ready"
    assert set(body) <= {"status", "version", "database", "market_data", "redis", "probe"}


async def test_unreachable_database_is_503_unhealthy(app: FastAPI, api: Api) -> None:
    working = app.state.services.engine
    # Port 1 on loopback: nothing listens, so every connection attempt fails fast.
    broken = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    replace_services(app, engine=broken)
    try:
        response = await api.client.get("/api/health")
        # Alive all the same: restarting the process would not bring the database back.
        live = await api.client.get("/api/health", params={"probe": "live"})
    finally:
        await broken.dispose()
        replace_services(app, engine=working)
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["database"] == "error"
    assert "127.0.0.1" not in response.text and "nobody" not in response.text
    assert live.status_code == 200
    assert live.json() == {"status": "healthy", "version": __version__, "probe": "live"}


async def test_an_unknown_probe_is_a_validation_error(api: Api) -> None:
    response = await api.client.get("/api/health", params={"probe": "deep"})
    assert_error(response, 400, "VALIDATION_ERROR")
