"""GET /api/factors/status: a signed-in client learns whether the factor engine runs
without provoking 403 FACTOR_ENGINE_DISABLED, in both states."""

from __future__ import annotations

from collections.abc import Callable

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error


async def test_status_says_off_while_every_other_factor_route_is_refused(api: Api) -> None:
    _, token = await api.user()
    auth = api.bearer(token)
    response = await api.client.get("/api/factors/status", headers=auth)
    assert response.status_code == 200
    assert response.json() == {"enabled": False}
    assert_error(await api.client.get("/api/factors", headers=auth), 403, "FACTOR_ENGINE_DISABLED")
    # Like every factor route it needs a session.
    assert_error(await api.client.get("/api/factors/status"), 401, "AUTH_REQUIRED")


async def test_status_says_on_when_the_operator_enables_the_engine(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(factor_engine="enabled", factor_refresh_minutes=0))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user()
        response = await client.get("/api/factors/status", headers=api.bearer(token))
        assert response.status_code == 200
        assert response.json() == {"enabled": True}
