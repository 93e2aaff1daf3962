"""Which actions of a user's page cannot apply to that user, and why.

The profile disables or hides them and shows the reason; the actions refuse them with the same
words (``users.access``: ``refuse=``), so a crafted request changes nothing.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User, WebAuthnCredential

OWN_DISABLE = "You cannot disable your own account: another admin can."
OWN_REMOVE = "You cannot remove your own account: another admin can."
OWN_FACTORS = "Your own second factors are changed on your Security page."


def _own(request: HttpRequest, user: User) -> bool:
    return request.user.pk == user.pk


def disable(request: HttpRequest, user: User) -> str | None:
    return OWN_DISABLE if _own(request, user) else None


def remove(request: HttpRequest, user: User) -> str | None:
    return OWN_REMOVE if _own(request, user) else None


def own_factors(request: HttpRequest, user: User) -> str | None:
    return OWN_FACTORS if _own(request, user) else None


def reset_app(request: HttpRequest, user: User, has_app: bool | None = None) -> str | None:
    """``has_app`` when the caller knows it already (the profile), else one query."""
    if _own(request, user):
        return OWN_FACTORS
    if has_app is None:
        has_app = TOTPDevice.objects.filter(user=user).exists()
    return None if has_app else f"{user.label} has no authenticator app to reset."


def reset_keys(request: HttpRequest, user: User, has_keys: bool | None = None) -> str | None:
    """``has_keys`` when the caller knows it already (the profile), else one query."""
    if _own(request, user):
        return OWN_FACTORS
    if has_keys is None:
        has_keys = WebAuthnCredential.objects.filter(user=user).exists()
    return None if has_keys else f"{user.label} has no security keys to reset."


def on_profile(request: HttpRequest, user: User) -> dict[str, str | None]:
    """The reasons for the profile's buttons, from the factors it loaded already (no query)."""
    return {
        "disable": disable(request, user),
        "remove": remove(request, user),
        "reset_app": reset_app(request, user, bool(user.has_totp)),
        "reset_keys": reset_keys(request, user, bool(user.keys)),
    }
