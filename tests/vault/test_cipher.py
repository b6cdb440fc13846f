"""AES-256-GCM sealing: round trips, row binding, key ids."""

from __future__ import annotations

import dataclasses

import pytest

from hyperoru.vault.cipher import SecretAddress, SecretBox, SecretUnreadable, UnknownKeyId
from hyperoru.vault.keys import Keyring, MasterKey

KEY_A = "a" * 16 + "-first-master-key-for-tests"
KEY_B = "b" * 16 + "-second-master-key-for-tests"
ADDRESS = SecretAddress(user_id=1, scope="account", scope_id=10, field="llm_api_key")


def box(current: str, *retired: str) -> SecretBox:
    return SecretBox(
        Keyring(MasterKey.from_secret(current), tuple(MasterKey.from_secret(k) for k in retired))
    )


def test_round_trip_with_fresh_nonces() -> None:
    vault = box(KEY_A)
    first, second = vault.seal("sk-secret", ADDRESS), vault.seal("sk-secret", ADDRESS)
    assert first.ciphertext != second.ciphertext  # random 96-bit nonce each time
    assert b"sk-secret" not in first.ciphertext
    assert first.key_id == vault.current_key_id == MasterKey.from_secret(KEY_A).key_id
    assert vault.open(first, ADDRESS) == vault.open(second, ADDRESS) == "sk-secret"


@pytest.mark.parametrize(
    "change", [{"user_id": 2}, {"scope": "bot"}, {"scope_id": 11}, {"field": "api_secret"}]
)
def test_a_ciphertext_does_not_open_at_another_address(change: dict[str, object]) -> None:
    vault = box(KEY_A)
    sealed = vault.seal("sk-secret", ADDRESS)
    with pytest.raises(SecretUnreadable) as caught:
        vault.open(sealed, dataclasses.replace(ADDRESS, **change))  # type: ignore[arg-type]
    assert "sk-secret" not in str(caught.value)


def test_tampering_is_detected() -> None:
    vault = box(KEY_A)
    sealed = vault.seal("sk-secret", ADDRESS)
    flipped = bytes([sealed.ciphertext[-1] ^ 1])
    tampered = dataclasses.replace(sealed, ciphertext=sealed.ciphertext[:-1] + flipped)
    with pytest.raises(SecretUnreadable):
        vault.open(tampered, ADDRESS)


def test_retired_keys_open_old_values_and_unknown_ids_are_named() -> None:
    sealed = box(KEY_A).seal("sk-secret", ADDRESS)
    assert box(KEY_B, KEY_A).open(sealed, ADDRESS) == "sk-secret"
    with pytest.raises(UnknownKeyId, match=sealed.key_id):
        box(KEY_B).open(sealed, ADDRESS)


def test_subkeys_differ_per_purpose_and_keys_never_print() -> None:
    key = MasterKey.from_secret(KEY_A)
    assert key.subkey("account.llm_api_key") != key.subkey("account.exchange_secret")
    assert len(key.subkey("x")) == 32
    assert KEY_A not in repr(key) and KEY_A not in repr(Keyring(key))
    assert MasterKey.from_secret(KEY_A).key_id == key.key_id != MasterKey.from_secret(KEY_B).key_id
