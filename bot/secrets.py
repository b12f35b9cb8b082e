"""Secrets at rest (chat tokens, webhook URLs): AES-GCM with keys from the environment.

VOICEMAIL_COACH_SECRET_KEYS is a comma-separated list of `key_id:base64key` (a 16, 24 or 32 byte
key, e.g. `head -c 32 /dev/urandom | base64`). The first key seals; every key opens, so a key
rotates by putting the new one first and dropping the old one once everything was rewritten.

A sealed value is a JSON-ready mapping, `{"key_id": "k2", "aes_gcm": base64(nonce + ciphertext)}`,
bound to a context (tenant and field) so a sealed token copied elsewhere does not open. Errors
name the variable and key ids, never a key or a value.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.config import ConfigError

KEYS_VARIABLE = "VOICEMAIL_COACH_SECRET_KEYS"
KEY_ID = "key_id"
CIPHERTEXT = "aes_gcm"
NONCE_BYTES = 12
KEY_BYTES = (16, 24, 32)

Sealed = dict[str, str]


class SecretKeysInvalid(ConfigError):
    """VOICEMAIL_COACH_SECRET_KEYS cannot be used (the message never shows a key)."""


class SecretUnreadable(ValueError):
    """A sealed value that does not open: tampered, malformed, or its key is not configured."""


class SecretBox:
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise SecretKeysInvalid(f"{KEYS_VARIABLE} names no key")
        self._sealing_id = keys[0][0]
        self._keys = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SecretBox | None:
        """The box for the configured keys; None when the variable is unset or blank."""
        setting = (os.environ if environ is None else environ).get(KEYS_VARIABLE, "").strip()
        return cls(parse_keys(setting)) if setting else None

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def seal(self, value: str, context: str) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._keys[self._sealing_id].encrypt(nonce, value.encode(), context.encode())
        return {KEY_ID: self._sealing_id, CIPHERTEXT: base64.b64encode(nonce + ciphertext).decode()}

    def open(self, sealed: object, context: str) -> str:
        if not is_sealed(sealed):
            raise SecretUnreadable("not a sealed value")
        key = self._keys.get(sealed[KEY_ID])
        if key is None:
            raise SecretUnreadable(f"sealed with key {sealed[KEY_ID]!r}, not in {KEYS_VARIABLE}")
        raw = _b64decode(sealed[CIPHERTEXT])
        if raw is None or len(raw) <= NONCE_BYTES:
            raise SecretUnreadable("malformed sealed value")
        try:
            plain = key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise SecretUnreadable("sealed value does not authenticate") from None
        return plain.decode()


def is_sealed(value: object) -> TypeGuard[Mapping[str, Any]]:
    """A sealed value, as opposed to a plaintext one stored before sealing existed."""
    return (
        isinstance(value, dict)
        and isinstance(value.get(KEY_ID), str)
        and isinstance(value.get(CIPHERTEXT), str)
    )


def parse_keys(setting: str) -> list[tuple[str, bytes]]:
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(setting.split(","), start=1):
        key_id, colon, encoded = (part.strip() for part in entry.partition(":"))
        if not key_id or not colon:
            raise SecretKeysInvalid(f"{KEYS_VARIABLE}: entry {position} is not key_id:base64key")
        if key_id in {known for known, _ in keys}:
            raise SecretKeysInvalid(f"{KEYS_VARIABLE}: key id {key_id!r} is given twice")
        key = _b64decode(encoded)
        if key is None or len(key) not in KEY_BYTES:
            raise SecretKeysInvalid(
                f"{KEYS_VARIABLE}: key {key_id!r} is not 16, 24 or 32 bytes of base64"
            )
        keys.append((key_id, key))
    return keys


def _b64decode(text: Any) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        return None
