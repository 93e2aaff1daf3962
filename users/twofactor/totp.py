"""Authenticator-app codes with django-otp's TOTP device: enrolment, QR code, checks.

Devices are read through ``EncryptedTOTPDevice`` (secrets encrypted at rest).
django-otp refuses replayed codes (``last_t``), allows one step of clock drift and
delays retries after wrong codes; checks run under a row lock so two requests
cannot both spend the same code.
"""

from __future__ import annotations

import base64

import segno
from django.db import transaction

from users import services
from users.audit import Actor, record
from users.models import User

from .errors import FactorRefused, TooManyAttempts
from .policy import ensure_not_last_factor
from .totp_device import EncryptedTOTPDevice

DEVICE_NAME = "Authenticator app"


def confirmed_device(user: User) -> EncryptedTOTPDevice | None:
    return EncryptedTOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: User) -> EncryptedTOTPDevice:
    """The unconfirmed device being set up (kept across reloads, so the QR code stays the same).

    One whose key no longer decrypts (SECRET_KEY changed) is replaced: nobody can have scanned it.
    """
    device = EncryptedTOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is not None and not device.has_readable_key():
        device.delete()
        device = None
    return device or EncryptedTOTPDevice.objects.create(
        user=user, name=DEVICE_NAME, confirmed=False
    )


def qr_svg(device: EncryptedTOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code, drawn on the server."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, dark="#101828", omitsize=False
    )


def secret_text(device: EncryptedTOTPDevice) -> str:
    """The base32 secret in groups of four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def _check(device: EncryptedTOTPDevice, code: str) -> bool:
    """Verify under a row lock; raise TooManyAttempts while django-otp's delay runs."""
    device = EncryptedTOTPDevice.objects.select_for_update().get(pk=device.pk)
    allowed, details = device.verify_is_allowed()
    if not allowed:
        raise TooManyAttempts(details["locked_until"])
    return device.verify_token(normalise(code))


def verify(user: User, code: str) -> EncryptedTOTPDevice | None:
    """The user's confirmed device if ``code`` is a fresh valid code from it, else None."""
    device = confirmed_device(user)
    if device is None:
        return None
    with transaction.atomic():
        return device if _check(device, code) else None


def confirm(
    actor: Actor, user: User, device: EncryptedTOTPDevice, code: str
) -> EncryptedTOTPDevice:
    """Confirm a new device with a code from it; only then does it replace the old one."""
    if device.user_id != user.pk or device.confirmed:
        raise FactorRefused("This setup is no longer valid. Start again.", field="code")
    with transaction.atomic():
        if not _check(device, code):
            raise FactorRefused(
                "That code is not valid. Check the app and your device's clock.", field="code"
            )
        replaced = EncryptedTOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()[0]
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(
            actor,
            "user_2fa_enable",
            f"Enabled two-factor authentication (authenticator app) for {user.label}",
            target=user,
            replaced_devices=replaced,
        )
    return device


def remove(actor: Actor, user: User) -> None:
    """The user removes their own app (the admin reset is services.disable_totp, without
    the guard)."""
    ensure_not_last_factor(user, removing_totp=True)
    services.disable_totp(actor, user)
