"""Secrets at rest through the API: sealed in the database, bound to their row, and
never in a response or a log line."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from hyperoru.accounts import service as accounts_service
from hyperoru.accounts.models import Account
from hyperoru.logging_setup import JsonFormatter
from hyperoru.settings import Settings
from hyperoru.vault.cipher import SecretUnreadable
from hyperoru.vault.models import StoredSecret
from tests.accounts.helpers import create_trader
from tests.conftest import TEST_SECRET_KEY
from tests.helpers import Api, stored_bytes

SENTINEL = "sk-SENTINEL-7f3a9c1e5b2d4680-do-not-leak"
SENTINEL_2 = "sk-SENTINEL-second-0c9d8e7f6a5b4321-leak"


async def _stored_key(app: FastAPI, account_id: int) -> str | None:
    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return await accounts_service.read_llm_api_key(
            session, app.state.services.secret_box, account=account
        )


async def test_the_database_never_holds_the_plain_key(
    app: FastAPI, api: Api, settings: Settings
) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, llm_api_key=SENTINEL)
    await api.client.put(
        f"/api/account/{trader['id']}", json={"api_key": SENTINEL_2}, headers=api.bearer(token)
    )
    assert await _stored_key(app, trader["id"]) == SENTINEL_2
    raw = await stored_bytes(app, settings)
    assert b"BTC Trend Trader" in raw  # the dump really covers the traders' rows
    for secret in (SENTINEL, SENTINEL_2):
        assert secret.encode() not in raw
        assert secret[4:20].encode() not in raw


async def test_swapped_ciphertexts_fail_cleanly(
    app: FastAPI, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    _, token = await api.user()
    first = await create_trader(api, token, name="first", api_key=SENTINEL)
    second = await create_trader(api, token, name="second", api_key=SENTINEL_2)
    assert await _stored_key(app, first["id"]) == SENTINEL

    async with app.state.services.sessionmaker() as session:
        rows = {
            row.scope_id: row.ciphertext
            for row in (await session.scalars(select(StoredSecret))).all()
        }
        for own, other in ((first["id"], second["id"]), (second["id"], first["id"])):
            await session.execute(
                update(StoredSecret)
                .where(StoredSecret.scope_id == own)
                .values(ciphertext=rows[other])
            )
        await session.commit()

    with caplog.at_level(logging.ERROR):
        for trader in (first, second):
            with pytest.raises(SecretUnreadable) as caught:
                await _stored_key(app, trader["id"])
            assert "SENTINEL" not in str(caught.value)
    assert [r for r in caplog.records if getattr(r, "event", "") == "secret_unreadable"]
    assert "SENTINEL" not in caplog.text

    # The API keeps answering: nothing it returns needs the plaintext.
    headers = api.bearer(token)
    for path in ("/api/account/list", f"/api/account/{first['id']}/overview"):
        response = await api.client.get(path, headers=headers)
        assert response.status_code == 200 and "SENTINEL" not in response.text
    replaced = await api.client.put(
        f"/api/account/{first['id']}", json={"api_key": "sk-new-key-000000"}, headers=headers
    )
    assert replaced.status_code == 200
    assert await _stored_key(app, first["id"]) == "sk-new-key-000000"


async def test_keys_never_reach_a_response_or_a_log_line(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    responses: list[str] = []
    with caplog.at_level(logging.DEBUG):
        _, token = await api.user()
        headers = api.bearer(token)
        trader = await create_trader(api, token, llm_provider="openai", llm_api_key=SENTINEL)
        url = f"/api/account/{trader['id']}"
        for method, path, body in (
            ("PUT", url, {"api_key": SENTINEL_2}),
            ("PUT", url, {"base_url": "https://1.1.1.1/v1", "llm_api_key": SENTINEL}),
            ("PUT", url, {"base_url": "https://8.8.8.8/v1"}),
            ("PUT", url, {"api_key": SENTINEL_2, "llm_api_key": SENTINEL}),  # conflict: 400
            ("PUT", url, {"api_key": SENTINEL, "base_url": "http://127.0.0.1/"}),  # 422
            ("GET", "/api/account/list", None),
            ("GET", f"{url}/overview", None),
            ("GET", "/api/account/overview", None),
            ("GET", url, None),
            ("DELETE", url, None),
        ):
            response = await api.client.request(method, path, json=body, headers=headers)
            assert response.status_code < 500
            responses.append(response.text)
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    lines += [json.dumps(vars(record), default=str) for record in caplog.records]
    for needle in (SENTINEL, SENTINEL_2, SENTINEL[3:20], TEST_SECRET_KEY):
        assert not [line for line in lines if needle in line], needle
        assert not [text for text in responses if needle in text], needle
