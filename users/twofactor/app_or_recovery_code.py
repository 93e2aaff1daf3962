"""Which check a typed code goes to: six digits are an authenticator-app code, anything else a
recovery code (one code field serves both on the second step and re-authentication)."""

from __future__ import annotations

from django_otp.models import Device

from users.audit import Actor
from users.models import User

from . import recovery, totp

APP_CODE = "authenticator app"  # how the audit log and the session name it
RECOVERY_CODE = "recovery code"  # the method a session remembers (session.mark_verified)


def check(actor: Actor, user: User, code: str) -> tuple[str, Device] | None:
    """(method, device) when ``code`` passes, else None; TooManyAttempts while throttled."""
    digits = totp.normalise(code)
    if digits.isdigit() and len(digits) == 6:
        device = totp.verify(user, digits)
        return (APP_CODE, device) if device else None
    device = recovery.use(actor, user, code)
    return (RECOVERY_CODE, device) if device else None
