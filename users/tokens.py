"""API tokens: generation and the keyed index that finds a token's user."""

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
    key = hashlib.sha256(f"portal:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def token_index(token: str) -> str:
    """The unique, indexed column a token is looked up by."""
    return keyed_digest("api-token-index", token)
