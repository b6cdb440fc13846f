"""Master keys: the current one (``HYPERORU_SECRET_KEY`` or, in development only, a key
generated once into the data folder) and retired ones that may still open old rows."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hyperoru.data_dir import ensure_private_dir
from hyperoru.settings import Settings

log = logging.getLogger("hyperoru.vault")

DEV_KEY_FILE = "secret.key"
RETIRED_KEYS_FILE = "retired-secret-keys"
MIN_KEY_LENGTH = 32
_HKDF_SALT = b"hyperoru/vault/v1"


class VaultConfigError(RuntimeError):
    """The keys cannot be loaded; the server must not start."""


def _hkdf(material: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_HKDF_SALT, info=info).derive(
        material
    )


@dataclass(frozen=True, slots=True)
class MasterKey:
    """One master key. Its id is derived from it, so operators never have to name keys."""

    key_id: str
    material: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> MasterKey:
        if len(secret) < MIN_KEY_LENGTH:
            raise VaultConfigError(f"secret keys must be at least {MIN_KEY_LENGTH} characters")
        material = secret.encode()
        return cls(key_id=_hkdf(material, b"key-id", 8).hex(), material=material)

    def subkey(self, purpose: str) -> bytes:
        """A 256-bit key for one purpose: a leak of one subkey exposes nothing else."""
        return _hkdf(self.material, b"subkey:" + purpose.encode(), 32)


@dataclass(frozen=True, slots=True)
class Keyring:
    current: MasterKey
    retired: tuple[MasterKey, ...] = ()

    def find(self, key_id: str) -> MasterKey | None:
        for key in (self.current, *self.retired):
            if key.key_id == key_id:
                return key
        return None


def _read_key_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _create_dev_key(path: Path) -> None:
    # Written to a private temporary file and hard-linked into place: the link fails if
    # another process won the race, and nobody ever reads a half-written key.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
            log.warning(
                "HYPERORU_SECRET_KEY is not set: generated a development key; set "
                "HYPERORU_SECRET_KEY before using this server for anything real",
                extra={"event": "dev_secret_key_generated", "path": str(path)},
            )
    finally:
        temporary.unlink(missing_ok=True)


def _dev_key(data_dir: Path) -> str:
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        ensure_private_dir(data_dir)
        _create_dev_key(path)
    else:
        log.warning(
            "HYPERORU_SECRET_KEY is not set: using the development key from the data folder",
            extra={"event": "dev_secret_key_used", "path": str(path)},
        )
    if path.stat().st_mode & 0o077:
        log.warning(
            "the development key file is readable by other users; chmod 600 it",
            extra={"event": "dev_secret_key_permissions", "path": str(path)},
        )
    lines = _read_key_lines(path)
    if not lines:
        raise VaultConfigError(f"{path} is empty; delete it to generate a new key")
    return lines[0]


def load_keyring(settings: Settings, *, old_keys: Iterable[str] = ()) -> Keyring:
    """The current key plus every retired key the operator supplied.

    Retired keys come from ``old_keys`` (the rotation command's HYPERORU_OLD_SECRET_KEYS),
    from ``<data dir>/retired-secret-keys`` (one per line) and, once a real key is set,
    from the development key file, so secrets sealed before the switch stay readable.
    Raises VaultConfigError in production without HYPERORU_SECRET_KEY.
    """
    dev_key_path = settings.data_dir / DEV_KEY_FILE
    retired_sources: list[str] = list(old_keys)
    if settings.secret_key is not None:
        current = settings.secret_key.get_secret_value()
        if dev_key_path.exists():
            retired_sources.extend(_read_key_lines(dev_key_path)[:1])
    elif settings.env == "production":
        raise VaultConfigError(
            "HYPERORU_SECRET_KEY is required when HYPERORU_ENV=production: set it to a "
            f"random string of at least {MIN_KEY_LENGTH} characters (for example the "
            'output of `python -c "import secrets; print(secrets.token_urlsafe(48))"`)'
        )
    else:
        current = _dev_key(settings.data_dir)
    retired_file = settings.data_dir / RETIRED_KEYS_FILE
    if retired_file.exists():
        retired_sources.extend(_read_key_lines(retired_file))

    current_key = MasterKey.from_secret(current)
    retired: list[MasterKey] = []
    for secret in retired_sources:
        key = MasterKey.from_secret(secret)
        if key.key_id != current_key.key_id and all(k.key_id != key.key_id for k in retired):
            retired.append(key)
    return Keyring(current=current_key, retired=tuple(retired))
