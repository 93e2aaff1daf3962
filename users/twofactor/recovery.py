"""Recovery codes: ten single-use codes in django-otp's static device, stored as keyed hashes.

The codes are random (about 50 bits each), so a keyed HMAC (secret from
SECRET_KEY) is enough to keep a database copy useless; a slow hash would add
nothing. A code is spent by deleting its row: only one request can delete it.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from users.audit import Actor, record
from users.models import User
from users.tokens import keyed_digest

from .errors import TooManyAttempts

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
LENGTH = 10
DEVICE_NAME = "Recovery codes"


def _digest(code: str) -> str:
    """What is stored for a code: StaticToken.token holds 16 characters."""
    plain = "".join(code.split()).replace("-", "").lower()
    return keyed_digest("recovery-code", plain)[:16]


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def remaining(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def has_codes(user: User) -> bool:
    return StaticDevice.objects.filter(user=user).exists()


def generate(actor: Actor, user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones, returned in plain text only here."""
    codes = [_new_code() for _ in range(COUNT)]
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, defaults={"name": DEVICE_NAME})
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(
            StaticToken(device=device, token=_digest(code)) for code in codes
        )
        record(
            actor,
            "user_recovery_codes_generate",
            f"Generated new recovery codes for {user.label}",
            target=user,
        )
    return codes


def use(actor: Actor, user: User, code: str) -> StaticDevice | None:
    """Spend ``code`` if it is one of the user's unused recovery codes."""
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=user).first()
        if device is None:
            return None
        allowed, details = device.verify_is_allowed()
        if not allowed:
            raise TooManyAttempts(details["locked_until"])
        deleted, _ = StaticToken.objects.filter(device=device, token=_digest(code)).delete()
        if not deleted:
            device.throttle_increment()
            return None
        device.throttle_reset()
        left = device.token_set.count()
        record(
            actor,
            "user_recovery_code_use",
            f"{user.label} used a recovery code",
            target=user,
            remaining=left,
        )
    return device
