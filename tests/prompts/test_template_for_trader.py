"""Which template a trader's cycle renders, and the ownership rules on the way."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from hyperoru.accounts.models import Account
from hyperoru.errors import ApiError
from hyperoru.prompts.service import template_for_trader
from tests.accounts.helpers import create_trader
from tests.helpers import Api


async def test_template_for_trader(app: FastAPI, api: Api) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    trader = await create_trader(api, alice)
    own = await api.client.post(
        "/api/prompts/", json={"name": "a", "content": "{symbols}"}, headers=api.bearer(alice)
    )
    foreign = await api.client.post(
        "/api/prompts/", json={"name": "b", "content": "{symbols}"}, headers=api.bearer(bob)
    )
    gone = await api.client.post(
        "/api/prompts/", json={"name": "c", "content": "x"}, headers=api.bearer(alice)
    )
    await api.client.delete(f"/api/prompts/{gone.json()['id']}", headers=api.bearer(alice))

    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, trader["id"])
        assert account is not None
        default = await template_for_trader(session, account=account, prompt_id=None)
        assert default.system_key == "general"
        chosen = await template_for_trader(session, account=account, prompt_id=own.json()["id"])
        assert chosen.content == "{symbols}" and chosen.user_id == account.user_id
        for prompt_id, status in (
            (foreign.json()["id"], 403),
            (gone.json()["id"], 404),
            (2_000_000_000, 404),
        ):
            with pytest.raises(ApiError) as caught:
                await template_for_trader(session, account=account, prompt_id=prompt_id)
            assert caught.value.status == status
