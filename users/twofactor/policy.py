"""Who needs a second factor, and whether a signed-in session has passed one."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from users.models import OrgSetting, User, WebAuthnCredential

from .errors import FactorRefused


def has_second_factor(user: User) -> bool:
    """A confirmed TOTP device or a security key (recovery codes alone do not count)."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user).exists()
    )


def enforcement_applies(user: User) -> bool:
    """The org enforces 2FA for everyone, or this user was added with ``totp_enabled``.

    Runs on every signed-in request: one read, and never the insert of OrgSetting.load().
    """
    if user.must_enroll_2fa:
        return True
    return bool(
        OrgSetting.objects.filter(pk=1).values_list("globally_enforce_2fa", flat=True).first()
    )


def factor_required(user: User) -> bool:
    """The org switch or the user's own flag applies and their enrolment deadline has passed.

    There is no grace period yet, so the deadline is now; a grace period changes only this.
    """
    return enforcement_applies(user)


def needs_enrolment(user: User) -> bool:
    """True while a user required to have a factor has none: they may only enrol or sign out
    (and use no API credential)."""
    return factor_required(user) and not has_second_factor(user)


def ensure_not_last_factor(
    user: User, *, removing_totp: bool = False, removing_keys: int = 0
) -> None:
    """An enforced user may not remove their last factor themselves (an admin reset may)."""
    if not enforcement_applies(user):
        return
    left = user.webauthn_credentials.count() - removing_keys
    if not removing_totp:
        left += TOTPDevice.objects.filter(user=user, confirmed=True).count()
    if left <= 0:
        raise FactorRefused(
            "Two-factor sign-in is required for your account: add another factor before removing "
            "this one."
        )
