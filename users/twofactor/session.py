"""What the session remembers between the password, the second factor and later checks.

Between the password and the second factor the user is *not* logged in: the
session only holds a short-lived pending marker, so no other page sees a user.
"""

from __future__ import annotations

import time

import django_otp
from django.conf import settings
from django.contrib import auth
from django.db import transaction
from django.http import HttpRequest

from users.audit import Actor, record
from users.models import User

PENDING = "twofactor_pending"
VERIFIED = "twofactor_verified"
CHECKED_AT = "twofactor_checked_at"


def begin_pending(request: HttpRequest, user: User, next_url: str) -> None:
    """Password accepted; the second factor is still to come."""
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "since": time.time(),
        "next": next_url,
    }


def pending_user(request: HttpRequest) -> User | None:
    """The user between password and second factor, or None when absent or expired."""
    data = request.session.get(PENDING)
    if not data:
        return None
    if time.time() - data["since"] > settings.TWOFACTOR_PENDING_SECONDS:
        clear_pending(request)
        return None
    user = User.objects.filter(pk=data["user"], is_active=True).first()
    if user is not None:
        user.backend = data["backend"]
    return user


def pending_next(request: HttpRequest) -> str:
    return (request.session.get(PENDING) or {}).get("next") or settings.LOGIN_REDIRECT_URL


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)


def complete_login(
    request: HttpRequest, user: User, method: str = "", device=None, *, passwordless: bool = False
) -> None:
    """Log the user in (new session key), remembering which second factor they passed; audited.
    ``passwordless``: ``method`` (a passkey) stood for both the password and the second factor."""
    clear_pending(request)
    how = method if passwordless else (f"password and {method}" if method else "password")
    with transaction.atomic():
        auth.login(request, user, backend=getattr(user, "backend", None))
        request.session.set_expiry(None)  # the full age, also after a visitor's short one
        record(
            Actor.from_request(request, user),
            "user_login",
            f"{user.label} signed in ({how})",
            target=user,
            method=how,
        )
    if device is not None:
        django_otp.login(request, device)
    if method:
        mark_verified(request, method)
    mark_checked(request)


def mark_verified(request: HttpRequest, method: str) -> None:
    """This session has passed a second factor (used by the Django admin check)."""
    request.session[VERIFIED] = method


def is_verified(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and request.session.get(VERIFIED))


def mark_checked(request: HttpRequest) -> None:
    """The user just proved who they are (password or factor): sensitive changes may follow."""
    request.session[CHECKED_AT] = time.time()


def checked_recently(request: HttpRequest) -> bool:
    checked = request.session.get(CHECKED_AT)
    return checked is not None and time.time() - checked <= settings.TWOFACTOR_REAUTH_SECONDS
