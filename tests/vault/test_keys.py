"""Where the master key comes from: the setting, a generated development key, or
nowhere (production refuses to start)."""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from hyperoru.app import create_app
from hyperoru.settings import Settings
from hyperoru.vault.keys import (
    DEV_KEY_FILE,
    RETIRED_KEYS_FILE,
    MasterKey,
    VaultConfigError,
    load_keyring,
)
from tests.conftest import running

OLD_KEY = "old-key-0123456789-0123456789-0123456789"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)  # type: ignore[call-arg]


def test_development_key_is_generated_once_with_mode_0600(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tmp_path)
    with caplog.at_level(logging.INFO):
        first = load_keyring(settings)
    path = tmp_path / "data" / DEV_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    generated = [r for r in caplog.records if getattr(r, "event", "") == "dev_secret_key_generated"]
    assert len(generated) == 1 and generated[0].levelno == logging.WARNING
    key_text = path.read_text().strip()
    assert len(key_text) >= 32 and key_text not in caplog.text

    caplog.clear()
    with caplog.at_level(logging.INFO):
        second = load_keyring(settings)
    assert second.current.key_id == first.current.key_id
    assert not [r for r in caplog.records if getattr(r, "event", "") == "dev_secret_key_generated"]


def test_production_without_a_key_refuses(tmp_path: Path) -> None:
    with pytest.raises(VaultConfigError, match="HYPERORU_SECRET_KEY is required"):
        load_keyring(_settings(tmp_path, env="production"))
    assert not (tmp_path / "data" / DEV_KEY_FILE).exists()


async def test_production_server_does_not_start_without_a_key(
    make_settings: Callable[..., Settings],
) -> None:
    application = create_app(make_settings(env="production", secret_key=None))
    with pytest.raises(VaultConfigError):
        async with running(application):
            pass


def test_configured_key_retires_the_development_key_and_reads_the_retired_file(
    tmp_path: Path,
) -> None:
    dev = load_keyring(_settings(tmp_path)).current
    (tmp_path / "data" / RETIRED_KEYS_FILE).write_text(f"\n{OLD_KEY}\n")
    keyring = load_keyring(_settings(tmp_path, secret_key="n" * 40))
    assert keyring.current.key_id == MasterKey.from_secret("n" * 40).key_id
    assert keyring.find(dev.key_id) is not None
    assert keyring.find(MasterKey.from_secret(OLD_KEY).key_id) is not None


def test_short_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(VaultConfigError):
        load_keyring(_settings(tmp_path, secret_key="n" * 40), old_keys=["short"])
    with pytest.raises(ValueError, match="at least 32"):
        _settings(tmp_path, secret_key="short")
