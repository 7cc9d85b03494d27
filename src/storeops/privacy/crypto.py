"""Field-level encryption (AES-256-GCM) and HMAC blind indexes for personal data.

Keys come from settings, never from code:

- ``STOREOPS_ENCRYPTION_KEY`` — a key ring ``kid:base64key[,kid:base64key…]``; the
  first key encrypts, every key decrypts, so rotating means putting a new key
  first and re-encrypting (old ciphertexts name their key id);
- ``STOREOPS_BLIND_INDEX_KEY`` — base64 HMAC key for exact-match lookups on
  normalized values. Changing it means recomputing every index.

A ciphertext reads ``v1:<kid>:<base64(nonce || ciphertext || tag)>``; the purpose
of the field (e.g. ``identifier:phone``) is bound as associated data, so a value
copied into another field does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storeops.errors import ConfigError, StoreOpsError
from storeops.settings import Settings

_VERSION = "v1"


class DecryptionError(StoreOpsError, ValueError):
    """A ciphertext cannot be decrypted with the configured keys."""


def generate_key() -> str:
    """A fresh random 256-bit key, base64-encoded."""
    return base64.b64encode(os.urandom(32)).decode()


def generate_keyring() -> str:
    return f"k{secrets.token_hex(2)}:{generate_key()}"


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(
            f"{what} is not valid base64; generate one with `storeops keys generate`"
        ) from exc
    if len(key) != 32:
        raise ConfigError(f"{what} must be 32 bytes (base64 of 32 random bytes), got {len(key)}")
    return key


class FieldCipher:
    """Encrypts and decrypts single field values with a key ring."""

    def __init__(self, keyring: str) -> None:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in keyring.split(",") if p.strip()):
            kid, sep, b64 = part.partition(":")
            if not sep or not kid:
                raise ConfigError(
                    "the encryption key ring must look like 'kid:base64key[,kid:base64key]'"
                )
            keys[kid] = _decode_key(b64, f"encryption key {kid!r}")
            order.append(kid)
        if not order:
            raise ConfigError("the encryption key ring is empty")
        self._keys = keys
        self.current = order[0]

    def encrypt(self, plaintext: str, *, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self.current]).encrypt(
            nonce, plaintext.encode(), purpose.encode()
        )
        return f"{_VERSION}:{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, purpose: str) -> str:
        version, _, rest = token.partition(":")
        kid, _, payload = rest.partition(":")
        if version != _VERSION or kid not in self._keys:
            raise DecryptionError(
                f"cannot decrypt a value sealed with key {kid!r}: add that key to "
                "STOREOPS_ENCRYPTION_KEY (after the current one) or restore it"
            )
        raw = base64.b64decode(payload)
        try:
            plain = AESGCM(self._keys[kid]).decrypt(raw[:12], raw[12:], purpose.encode())
        except InvalidTag as exc:
            raise DecryptionError(
                f"a value failed authentication for purpose {purpose!r}: it was altered "
                "or belongs to another field"
            ) from exc
        return plain.decode()

    def needs_rotation(self, token: str) -> bool:
        return token.split(":", 2)[1] != self.current


class BlindIndex:
    """Keyed hash for equality lookups without storing the value."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, kind: str, normalized: str) -> str:
        mac = hmac.new(self._key, f"{kind}\x1f{normalized}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]


def cipher_from(settings: Settings) -> FieldCipher:
    if settings.encryption_key is None:
        raise ConfigError(
            "no encryption key is configured for personal data: set STOREOPS_ENCRYPTION_KEY "
            "(create one with `storeops keys generate`) or encryption_key in storeops.toml"
        )
    return FieldCipher(settings.encryption_key.get_secret_value())


def blind_index_from(settings: Settings) -> BlindIndex:
    if settings.blind_index_key is None:
        raise ConfigError(
            "no blind-index key is configured: set STOREOPS_BLIND_INDEX_KEY (create one with "
            "`storeops keys generate`) or blind_index_key in storeops.toml"
        )
    return BlindIndex(
        _decode_key(settings.blind_index_key.get_secret_value(), "the blind-index key")
    )
