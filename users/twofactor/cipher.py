"""Small secrets sealed at rest (AES-256-GCM) under keys derived from SECRET_KEY.

A sealed value is ``enc1:`` + unpadded URL-safe base64 of nonce (12 bytes), ciphertext
and tag (16 bytes). The key is HKDF-SHA256 of the secret key with a purpose label, so
each use gets its own key and none of them is SECRET_KEY itself. ``bound_to`` is
authenticated associated data: a sealed value copied to another row does not open.

Values written by a migration stay readable, so keep the ``enc1`` format as it is; a
new format gets a new prefix.
"""

from __future__ import annotations

import binascii
import functools
import os
from base64 import urlsafe_b64decode, urlsafe_b64encode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.encoding import force_bytes

PREFIX = "enc1:"
NONCE_BYTES = 12


class Unreadable(Exception):
    """No configured secret key opens the value: the key changed, or the value was
    altered or moved."""


@functools.lru_cache(maxsize=16)
def _aead(purpose: str, secret_key: str | bytes) -> AESGCM:
    """Derived once per (purpose, secret key): HKDF is cheap, but sign-in should not redo it."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"portal:{purpose}:enc1".encode()
    ).derive(force_bytes(secret_key))
    return AESGCM(key)


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def seal(purpose: str, plaintext: bytes, bound_to: bytes) -> str:
    """``plaintext`` encrypted under the current SECRET_KEY, a fresh random nonce each time."""
    nonce = os.urandom(NONCE_BYTES)
    box = _aead(purpose, settings.SECRET_KEY).encrypt(nonce, plaintext, bound_to)
    return PREFIX + urlsafe_b64encode(nonce + box).decode().rstrip("=")


def unseal(purpose: str, value: str, bound_to: bytes) -> tuple[bytes, bool]:
    """(plaintext, opened with the current SECRET_KEY); older keys in SECRET_KEY_FALLBACKS are tried
    after it, so a key rotation signs no one out. Raises Unreadable."""
    if not is_sealed(value):
        raise Unreadable("not a sealed value")
    body = value.removeprefix(PREFIX)
    try:
        raw = urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise Unreadable("not base64") from None
    nonce, box = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    if len(nonce) < NONCE_BYTES or not box:
        raise Unreadable("too short")
    for index, secret_key in enumerate([settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]):
        try:
            return _aead(purpose, secret_key).decrypt(nonce, box, bound_to), index == 0
        except InvalidTag:
            continue
    raise Unreadable("no configured secret key opens it")
