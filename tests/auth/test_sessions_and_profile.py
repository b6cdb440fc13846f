"""Session list and revoke, logout-all, password change, profile, exchange config, admin list."""

from __future__ import annotations

import hashlib

from hyperoru.auth import service
from tests.conftest import asgi_client
from tests.helpers import STRONG_PASSWORD, Api, assert_error

NEW_PASSWORD = "an entirely new passphrase 42"


async def test_session_list_never_shows_tokens_or_digests(api: Api) -> None:
    await api.register("lister")
    first = await api.login("lister")
    response = await api.client.post(
        "/api/users/login",
        json={"username": "lister", "password": STRONG_PASSWORD, "client_name": "my-bot"},
        headers={"User-Agent": "bot/1.0"},
    )
    second = response.json()["session_token"]
    listed = await api.client.get("/api/users/sessions", headers=api.bearer(second))
    assert listed.status_code == 200
    text = listed.text
    for token in (first, second):
        assert token not in text and hashlib.sha256(token.encode()).hexdigest() not in text
    sessions = listed.json()
    assert [s["current"] for s in sessions] == [False, True]
    assert sessions[1]["client_name"] == "my-bot" and sessions[1]["user_agent"] == "bot/1.0"
    assert set(sessions[0]) == {
        "id",
        "client_name",
        "created_at",
        "last_used_at",
        "expires_at",
        "ip",
        "user_agent",
        "current",
    }


async def test_revoke_one_session_and_not_someone_elses(api: Api) -> None:
    await api.register("owner1")
    keep = await api.login("owner1")
    drop = await api.login("owner1")
    _, other = await api.user("intruder")
    sessions = (await api.client.get("/api/users/sessions", headers=api.bearer(keep))).json()
    drop_id = next(s["id"] for s in sessions if not s["current"])

    stolen = await api.client.delete(f"/api/users/sessions/{drop_id}", headers=api.bearer(other))
    assert_error(stolen, 404, "SESSION_NOT_FOUND")
    assert (await api.client.get("/api/users/profile", headers=api.bearer(drop))).status_code == 200

    ok = await api.client.delete(f"/api/users/sessions/{drop_id}", headers=api.bearer(keep))
    assert ok.status_code == 204
    assert_error(
        await api.client.get("/api/users/profile", headers=api.bearer(drop)), 401, "INVALID_TOKEN"
    )
    assert (await api.client.get("/api/users/profile", headers=api.bearer(keep))).status_code == 200


async def test_logout_all_ends_every_session(api: Api) -> None:
    await api.register("everywhere")
    tokens = [await api.login("everywhere") for _ in range(3)]
    _, bystander = await api.user("bystander")
    assert (
        await api.client.post("/api/users/logout-all", headers=api.bearer(tokens[0]))
    ).status_code == 204
    for token in tokens:
        response = await api.client.get("/api/users/profile", headers=api.bearer(token))
        assert_error(response, 401, "INVALID_TOKEN")
    assert (
        await api.client.get("/api/users/profile", headers=api.bearer(bystander))
    ).status_code == 200


async def test_password_change_revokes_other_sessions_only(api: Api) -> None:
    await api.register("changer")
    t1 = await api.login("changer")
    t2 = await api.login("changer")
    response = await api.client.put(
        "/api/users/password",
        json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
        headers=api.bearer(t1),
    )
    assert response.status_code == 204
    assert (await api.client.get("/api/users/profile", headers=api.bearer(t1))).status_code == 200
    assert_error(
        await api.client.get("/api/users/profile", headers=api.bearer(t2)), 401, "INVALID_TOKEN"
    )
    assert_error(
        await api.client.post(
            "/api/users/login", json={"username": "changer", "password": STRONG_PASSWORD}
        ),
        401,
        "INVALID_CREDENTIALS",
    )
    await api.login("changer", NEW_PASSWORD)


async def test_password_change_checks_current_and_new(app, api: Api) -> None:
    _, token = await api.user("careful")
    weak = await api.client.put(
        "/api/users/password",
        json={"current_password": STRONG_PASSWORD, "new_password": "password123"},
        headers=api.bearer(token),
    )
    assert assert_error(weak, 422, "WEAK_PASSWORD")["details"]["field"] == "new_password"
    for _ in range(10):
        wrong = await api.client.put(
            "/api/users/password",
            json={"current_password": "not my password", "new_password": NEW_PASSWORD},
            headers=api.bearer(token),
        )
        assert_error(wrong, 403, "INVALID_CURRENT_PASSWORD")
    throttled = await api.client.put(
        "/api/users/password",
        json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
        headers=api.bearer(token),
    )
    assert_error(throttled, 429, "LOGIN_THROTTLED")
    # Failed password changes count against the account's logins too.
    async with asgi_client(app, client_ip="192.0.2.77") as other_ip:
        login = await other_ip.post(
            "/api/users/login", json={"username": "careful", "password": STRONG_PASSWORD}
        )
        assert_error(login, 429, "LOGIN_THROTTLED")
    # The token itself keeps working: throttling never ends existing sessions.
    assert (
        await api.client.get("/api/users/profile", headers=api.bearer(token))
    ).status_code == 200


async def test_profile_update_and_conflicts(api: Api) -> None:
    _, token = await api.user("renamer")
    await api.register("taken-name", email="taken@example.com")
    renamed = await api.client.put(
        "/api/users/profile",
        json={"username": "renamed", "email": "Renamed@Example.com"},
        headers=api.bearer(token),
    )
    assert renamed.status_code == 200
    assert renamed.json()["username"] == "renamed"
    assert renamed.json()["email"] == "Renamed@Example.com"
    for body, code in (
        ({"username": "TAKEN-NAME"}, "USERNAME_TAKEN"),
        ({"email": "TAKEN@example.com"}, "EMAIL_TAKEN"),
    ):
        response = await api.client.put("/api/users/profile", json=body, headers=api.bearer(token))
        assert_error(response, 409, code)
    assert (await api.client.get("/api/users/profile", headers=api.bearer(token))).json()[
        "username"
    ] == "renamed"
    await api.login("renamed")


async def test_exchange_config(api: Api) -> None:
    _, token = await api.user("exchanger")
    got = await api.client.get("/api/users/exchange-config", headers=api.bearer(token))
    assert got.json() == {"selected_exchange": "hyperliquid"}
    saved = await api.client.post(
        "/api/users/exchange-config",
        json={"selected_exchange": "binance"},
        headers=api.bearer(token),
    )
    assert saved.status_code == 200 and saved.json() == {"selected_exchange": "binance"}
    bad = await api.client.post(
        "/api/users/exchange-config", json={"selected_exchange": "ftx"}, headers=api.bearer(token)
    )
    assert_error(bad, 400, "VALIDATION_ERROR")
    got = await api.client.get("/api/users/exchange-config", headers=api.bearer(token))
    assert got.json() == {"selected_exchange": "binance"}


async def test_user_list_is_for_admins_only(app, api: Api) -> None:
    _, token = await api.user("plain")
    assert_error(await api.client.get("/api/users/", headers=api.bearer(token)), 403, "FORBIDDEN")
    async with app.state.services.sessionmaker() as session:
        await service.register_user(
            session, username="boss", password=STRONG_PASSWORD, is_admin=True
        )
    admin_token = await api.login("boss")
    listed = await api.client.get("/api/users/", headers=api.bearer(admin_token))
    assert listed.status_code == 200
    assert [u["username"] for u in listed.json()] == ["plain", "boss"]
    assert all("password_hash" not in u for u in listed.json())
