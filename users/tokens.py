"""API tokens: generation and the keyed index that finds a token's user."""

import functools
import hashlib
import hmac
import secrets

from django.conf import settings

TOKEN_BYTES = 32


def generate_token() -> str:
    """32 random bytes, URL-safe base64 without padding (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def keyed_digest(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under a key derived from SECRET_KEY for ``purpose``."""
    return hmac.digest(_derived_key(purpose, settings.SECRET_KEY), value.encode(), "sha256").hex()


@functools.lru_cache(maxsize=64)
def _derived_key(purpose: str, secret_key: str) -> bytes:
    """Derived once per purpose (API requests compute several digests each); keyed on the
    secret too, so a changed SECRET_KEY derives new keys."""
    return hashlib.sha256(f"portal:{purpose}:{secret_key}".encode()).digest()


def token_index(token: str) -> str:
    """The unique, indexed column a token is looked up by."""
    return keyed_digest("api-token-index", token)
