"""Field encryption and blind indexes."""

from __future__ import annotations

import pytest

from storeops.errors import ConfigError
from storeops.privacy.crypto import (
    BlindIndex,
    DecryptionError,
    FieldCipher,
    generate_key,
    generate_keyring,
)


def test_round_trip_and_purpose_binding() -> None:
    cipher = FieldCipher(generate_keyring())
    token = cipher.encrypt("13912345678", purpose="identifier:phone")
    assert "13912345678" not in token
    assert cipher.decrypt(token, purpose="identifier:phone") == "13912345678"
    with pytest.raises(DecryptionError, match="another field"):
        cipher.decrypt(token, purpose="identifier:email")
    # Same value, fresh nonce: ciphertexts differ.
    assert cipher.encrypt("x", purpose="p") != cipher.encrypt("x", purpose="p")


def test_rotation_keeps_old_values_readable() -> None:
    old = f"k0:{generate_key()}"
    token = FieldCipher(old).encrypt("a@b.cn", purpose="identifier:email")
    rotated = FieldCipher(f"k1:{generate_key()},{old}")
    assert rotated.decrypt(token, purpose="identifier:email") == "a@b.cn"
    assert rotated.needs_rotation(token)
    assert not rotated.needs_rotation(rotated.encrypt("a@b.cn", purpose="identifier:email"))
    with pytest.raises(DecryptionError, match="add that key"):
        FieldCipher(f"k2:{generate_key()}").decrypt(token, purpose="identifier:email")


@pytest.mark.parametrize("bad", ["", "nokey", "k1:not-base64!", "k1:" + "QUJD"])
def test_bad_key_rings_are_config_errors(bad: str) -> None:
    with pytest.raises(ConfigError):
        FieldCipher(bad)


def test_blind_index_is_keyed_and_typed() -> None:
    key = b"k" * 32
    index = BlindIndex(key)
    assert index("phone", "13912345678") == BlindIndex(key)("phone", "13912345678")
    assert index("phone", "13912345678") != BlindIndex(b"x" * 32)("phone", "13912345678")
    assert index("phone", "1") != index("user_id", "1")
