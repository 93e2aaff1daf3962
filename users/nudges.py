"""Nudges where they help (an admin's dashboard and Security page).

- The first admin, still signing in with the password ``ensure_admin`` generated and printed,
  is asked to change it and to add a second factor, until both are done or they dismiss it.
  What is kept is a keyed digest of the password's hash at that moment, so any change of the
  password, on any face, ends that half of the nudge without a hook in each of them.
- An admin whose only second factor is one device (one app and no key, or one key and no app)
  is told to add a second one, as healthchecks does: losing it leaves only recovery codes.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .tokens import keyed_digest


class PrintedPassword(models.Model):
    """The first admin's generated password, as a keyed digest of its hash, and when they
    dismissed the nudge about it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="printed_password",
    )
    password_digest = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    dismissed = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"printed password of user {self.user_id}"


def _digest(user) -> str:
    return keyed_digest("printed-password", user.password)


def remember_printed_password(user) -> None:
    """``ensure_admin`` printed ``user``'s generated password: nudge them until it is changed."""
    PrintedPassword.objects.create(user=user, password_digest=_digest(user))


def dismiss_first_admin_nudge(user) -> None:
    PrintedPassword.objects.filter(user=user, dismissed__isnull=True).update(
        dismissed=timezone.now()
    )


@dataclass(frozen=True)
class FirstAdminNudge:
    change_password: bool
    add_factor: bool


def _devices(user) -> tuple[int, int]:
    """How many confirmed authenticator apps and security keys ``user`` has (two queries)."""
    apps = TOTPDevice.objects.filter(user=user, confirmed=True).count()
    return apps, user.webauthn_credentials.count()


def _only_device(apps: int, keys: int) -> str | None:
    if apps + keys != 1:
        return None
    return "app" if apps else "key"


def single_device(user) -> str | None:
    """``"app"`` or ``"key"`` when the user's only second factor is that one device, else None
    (two queries)."""
    return _only_device(*_devices(user))


def admin_nudges(user) -> dict:
    """The dashboard's nudges for ``user`` (an admin): ``first_admin_nudge`` and
    ``single_device``, in three queries."""
    apps, keys = _devices(user)
    printed = PrintedPassword.objects.filter(user=user, dismissed__isnull=True).first()
    first = None
    if printed is not None:
        first = FirstAdminNudge(
            change_password=hmac.compare_digest(printed.password_digest, _digest(user)),
            add_factor=apps + keys == 0,
        )
        if not (first.change_password or first.add_factor):
            first = None
    return {"first_admin_nudge": first, "single_device": _only_device(apps, keys)}
