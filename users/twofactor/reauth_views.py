"""Re-authentication: a signed-in user confirms it is them (password, app or recovery code, or a
security key) before a sensitive change; sign-in's second step is ``login_views.py``."""

from __future__ import annotations

import django_otp
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.models import Device

from users.models import User

from . import factor_step, session
from .decorators import enrolment_allowed
from .forms import PasswordCheckForm

PURPOSE = "reauth"  # binds the security-key challenge to this step (webauthn_keys)
# A signed-in session is not paused by the account-wide budget: strangers guessing from many
# addresses must not stop a signed-in admin from confirming it is them (and lifting the pause).
ACCOUNT_WIDE = False


def _signed_in(request: HttpRequest) -> User | None:
    return request.user if request.user.is_authenticated else None


def _finish_reauth(
    request: HttpRequest, user: User, method: str, device: Device | None = None
) -> str:
    """Mark the session checked now (and verified, by a factor); returns where to go back to."""
    if device is not None:
        django_otp.login(request, device)
    if method != "password":
        session.mark_verified(request, method)
    session.mark_checked(request)
    return factor_step.safe_next(request, reverse("security"))


@never_cache
@sensitive_post_parameters("password", "code")
@login_required
@enrolment_allowed
def reauth(request: HttpRequest) -> HttpResponse:
    user = request.user
    if (paused := factor_step.paused_answer(request, user, account_wide=ACCOUNT_WIDE)) is not None:
        return paused
    code_form = factor_step.posted_code_form(request)
    password_form = PasswordCheckForm(
        request, request.POST if request.POST.get("action") == "password" else None
    )
    if request.method == "POST" and password_form.is_bound and password_form.is_valid():
        return redirect(_finish_reauth(request, user, "password"))
    if (passed := factor_step.code_passes(request, user, code_form)) is not None:
        return redirect(_finish_reauth(request, user, *passed))
    context = factor_step.page_context(
        request, user, PURPOSE, code_form=code_form, password_form=password_form
    )
    return render(request, "twofactor/reauth.html", context)


@never_cache
@require_POST
@enrolment_allowed
def reauth_webauthn_options(request: HttpRequest) -> HttpResponse:
    return factor_step.key_options(request, PURPOSE, _signed_in(request), account_wide=ACCOUNT_WIDE)


@never_cache
@require_POST
@enrolment_allowed
def reauth_webauthn_verify(request: HttpRequest) -> HttpResponse:
    return factor_step.key_verify(
        request, PURPOSE, _signed_in(request), _finish_reauth, account_wide=ACCOUNT_WIDE
    )
