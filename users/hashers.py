"""bcrypt for passwords and API tokens.

The v2 contract returns plain ``$2b$12$…`` hashes that ``bcrypt.checkpw(plain, hash)``
accepts, so passwords use Django's unsalted-by-SHA bcrypt hasher (stored as
``bcrypt$<bcrypt string>``) and tokens the same bcrypt string without a prefix.
bcrypt only looks at 72 bytes; longer secrets are refused by the validator rather
than silently truncated.
"""

import bcrypt
from django.conf import settings
from django.contrib.auth.hashers import BCryptPasswordHasher
from django.core.exceptions import ValidationError

BCRYPT_MAX_BYTES = 72
HASHER_PREFIX = "bcrypt$"


class BCryptHasher(BCryptPasswordHasher):
    """Django's bcrypt hasher with the cost taken from ``settings.BCRYPT_ROUNDS``."""

    @property
    def rounds(self) -> int:  # type: ignore[override]
        return settings.BCRYPT_ROUNDS

    def encode(self, password: str, salt: bytes) -> str:
        if len(password.encode()) > BCRYPT_MAX_BYTES:
            raise ValueError("password longer than 72 bytes")
        return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        if len(password.encode()) > BCRYPT_MAX_BYTES:
            return False
        return super().verify(password, encoded)


class BcryptLengthValidator:
    """Password validator: bcrypt ignores everything after 72 bytes, so refuse it."""

    def validate(self, password: str, user=None) -> None:
        if len(password.encode()) > BCRYPT_MAX_BYTES:
            raise ValidationError(
                f"This password is too long (at most {BCRYPT_MAX_BYTES} bytes).",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password can be at most {BCRYPT_MAX_BYTES} bytes long."


def bcrypt_hash(secret: str) -> str:
    """A plain ``$2b$…`` bcrypt hash of ``secret`` at the configured cost."""
    return bcrypt.hashpw(secret.encode(), bcrypt.gensalt(settings.BCRYPT_ROUNDS)).decode("ascii")


def bcrypt_check(secret: str, hashed: str) -> bool:
    """True when ``secret`` matches the plain bcrypt ``hashed`` (constant time inside bcrypt)."""
    raw = secret.encode()
    if not hashed or len(raw) > BCRYPT_MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(raw, hashed.encode("ascii"))
    except ValueError:
        return False


def plain_bcrypt(encoded_password: str) -> str:
    """The bare bcrypt string inside a Django ``bcrypt$…`` password, or "" for others."""
    if encoded_password.startswith(HASHER_PREFIX):
        return encoded_password[len(HASHER_PREFIX) :]
    return ""
