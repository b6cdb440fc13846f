"""AES-256-GCM sealing of secret strings, bound to the row and field they belong to.

The associated data names the owner, the record and the field, so a ciphertext copied
to another row (or another field) fails authentication instead of decrypting there.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hyperoru.vault.keys import Keyring, MasterKey

NONCE_BYTES = 12
_FORMAT = "hyperoru-secret-v1"


class SecretUnreadable(Exception):
    """A stored secret cannot be opened: altered, moved to another row, or wrong key."""


class UnknownKeyId(SecretUnreadable):
    """The secret was sealed under a key that is not configured."""


@dataclass(frozen=True, slots=True)
class SecretAddress:
    """Where a secret belongs: e.g. user 3, scope "account", record 12, field "llm_api_key"."""

    user_id: int
    scope: str
    scope_id: int
    field: str

    def associated_data(self, key_id: str) -> bytes:
        return json.dumps(
            [_FORMAT, key_id, self.user_id, self.scope, self.scope_id, self.field]
        ).encode()

    @property
    def purpose(self) -> str:
        return f"{self.scope}.{self.field}"

    def __str__(self) -> str:
        return f"{self.scope} {self.scope_id} {self.field} (user {self.user_id})"


@dataclass(frozen=True, slots=True)
class SealedSecret:
    key_id: str
    ciphertext: bytes  # nonce || encrypted value || tag


class SecretBox:
    """Seals under the current key; opens with whichever configured key sealed it."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    @property
    def current_key_id(self) -> str:
        return self._keyring.current.key_id

    @staticmethod
    def _aead(key: MasterKey, address: SecretAddress) -> AESGCM:
        return AESGCM(key.subkey(address.purpose))

    def seal(self, plaintext: str, address: SecretAddress) -> SealedSecret:
        key = self._keyring.current
        nonce = secrets.token_bytes(NONCE_BYTES)
        encrypted = self._aead(key, address).encrypt(
            nonce, plaintext.encode(), address.associated_data(key.key_id)
        )
        return SealedSecret(key_id=key.key_id, ciphertext=nonce + encrypted)

    def open(self, sealed: SealedSecret, address: SecretAddress) -> str:
        key = self._keyring.find(sealed.key_id)
        if key is None:
            raise UnknownKeyId(
                f"secret of {address} was sealed under key id {sealed.key_id}, which is not "
                "configured: supply that key as a retired key (see docs/SECURITY.md)"
            )
        nonce, encrypted = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
        try:
            plaintext = self._aead(key, address).decrypt(
                nonce, encrypted, address.associated_data(key.key_id)
            )
        except InvalidTag:
            raise SecretUnreadable(
                f"secret of {address} does not authenticate: altered or moved from another row"
            ) from None
        return plaintext.decode()
