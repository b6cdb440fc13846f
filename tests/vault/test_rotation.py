"""Key rotation: every secret is re-encrypted under the new key and stays readable;
a missing old key changes nothing."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.accounts import service as accounts_service
from hyperoru.accounts.models import Account
from hyperoru.settings import Settings
from hyperoru.vault.cipher import SecretBox
from hyperoru.vault.keys import Keyring, MasterKey
from hyperoru.vault.models import StoredSecret
from hyperoru.vault.rotation import rotate_secrets
from tests.accounts.helpers import create_trader
from tests.conftest import TEST_SECRET_KEY
from tests.helpers import Api

NEW_KEY = "new-master-key-after-rotation-0123456789abcdef"
UNRELATED_KEY = "unrelated-master-key-0123456789-0123456789ab"
KEYS = [f"sk-rotation-test-{n:02d}-abcdefghijklmnop" for n in range(5)]


def _box(current: str, *retired: str) -> SecretBox:
    return SecretBox(
        Keyring(MasterKey.from_secret(current), tuple(MasterKey.from_secret(k) for k in retired))
    )


async def _traders_with_keys(api: Api) -> list[int]:
    ids = []
    for n, key in enumerate(KEYS):
        _, token = await api.user()
        ids.append((await create_trader(api, token, name=f"t{n}", api_key=key))["id"])
    return ids


async def _read_all(app: FastAPI, box: SecretBox, ids: list[int]) -> list[str | None]:
    async with app.state.services.sessionmaker() as session:
        accounts = [await session.get(Account, i) for i in ids]
        return [
            await accounts_service.read_llm_api_key(session, box, account=a)
            for a in accounts
            if a is not None
        ]


async def _key_ids(app: FastAPI) -> set[str]:
    async with app.state.services.sessionmaker() as session:
        return set((await session.scalars(select(StoredSecret.key_id))).all())


async def test_rotation_keeps_every_secret_readable(app: FastAPI, api: Api) -> None:
    ids = await _traders_with_keys(api)
    old_id = MasterKey.from_secret(TEST_SECRET_KEY).key_id

    async with app.state.services.sessionmaker() as session:
        missing_old = await rotate_secrets(session, _box(NEW_KEY))
    assert not missing_old.ok and len(missing_old.unreadable) == len(KEYS)
    assert await _key_ids(app) == {old_id}  # nothing was touched

    rotating = _box(NEW_KEY, TEST_SECRET_KEY)
    async with app.state.services.sessionmaker() as session:
        report = await rotate_secrets(session, rotating)
    assert report.ok and report.rewritten == len(KEYS) and report.already_current == 0
    assert await _key_ids(app) == {rotating.current_key_id}
    assert await _read_all(app, _box(NEW_KEY), ids) == KEYS

    async with app.state.services.sessionmaker() as session:
        again = await rotate_secrets(session, rotating)
    assert again.rewritten == 0 and again.already_current == len(KEYS)


async def test_rotate_command(app: FastAPI, api: Api, settings: Settings) -> None:
    ids = await _traders_with_keys(api)
    env = {
        **os.environ,
        "HYPERORU_DATA_DIR": str(settings.data_dir),
        "HYPERORU_DATABASE_URL": settings.resolved_database_url,
        "HYPERORU_SECRET_KEY": NEW_KEY,
    }
    command = [str(Path(sys.executable).with_name("hyperoru")), "secrets", "rotate"]

    async def run(extra: dict[str, str]) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            *command,
            env={**env, **extra},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        assert process.returncode is not None
        return process.returncode, output.decode()

    code, output = await run({"HYPERORU_OLD_SECRET_KEYS": UNRELATED_KEY})
    assert code == 1 and "nothing was changed" in output
    code, output = await run({"HYPERORU_OLD_SECRET_KEYS": f"{UNRELATED_KEY},{TEST_SECRET_KEY}"})
    assert code == 0, output
    assert f"re-encrypted {len(KEYS)} secret(s)" in output
    for secret in (NEW_KEY, TEST_SECRET_KEY, UNRELATED_KEY, *KEYS):
        assert secret not in output
    assert await _read_all(app, _box(NEW_KEY), ids) == KEYS
