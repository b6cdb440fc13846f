"""Register → login → profile → logout, as the public docs walk it."""

from __future__ import annotations

import re

from tests.helpers import STRONG_PASSWORD, Api, assert_error


async def test_register_login_profile_logout(api: Api) -> None:
    client = api.client
    created = await client.post(
        "/api/users/register",
        json={"email": "you@example.com", "password": STRONG_PASSWORD, "username": "your-handle"},
    )
    assert created.status_code == 201
    user = created.json()
    assert set(user) == {"id", "username", "email", "is_active", "created_at", "mfa_enabled"}
    assert user["username"] == "your-handle" and user["is_active"] is True
    assert user["created_at"].endswith("Z")

    login = await client.post(
        "/api/users/login", json={"email": "you@example.com", "password": STRONG_PASSWORD}
    )
    assert login.status_code == 200
    body = login.json()
    assert re.fullmatch(r"hyo_[A-Za-z0-9_-]{43}", body["session_token"])
    assert body["token_type"] == "bearer" and body["expires_at"].endswith("Z")
    assert body["user"] == user
    token = body["session_token"]

    profile = await client.get("/api/users/profile", headers=api.bearer(token))
    assert profile.status_code == 200 and profile.json() == user
    legacy = await client.get("/api/users/profile", params={"session_token": token})
    assert legacy.status_code == 200

    logout = await client.post("/api/users/logout", headers=api.bearer(token))
    assert logout.status_code == 204 and logout.content == b""
    after = await client.get("/api/users/profile", headers=api.bearer(token))
    assert_error(after, 401, "INVALID_TOKEN")
    assert after.headers["www-authenticate"] == "Bearer"
