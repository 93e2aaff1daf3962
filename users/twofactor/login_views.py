"""Sign-in: the password, then the second factor of the pending user; and sign-out.

Re-authentication is ``reauth_views.py``; what both steps share is ``factor_step.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.models import Device

from users.audit import Actor, record
from users.models import User

from . import app_or_recovery_code, factor_step, recovery, session
from .decorators import enrolment_allowed
from .forms import LoginForm
from .policy import has_second_factor, needs_enrolment

PURPOSE = "login"  # binds the security-key challenge to this step (webauthn_keys)
# Signing in counts against the account's budget too (strangers guessing from many addresses).
ACCOUNT_WIDE = True


@never_cache
@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = factor_step.safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url)
    form = LoginForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.user
        if has_second_factor(user):
            session.begin_pending(request, user, next_url)
            return redirect("login_verify")
        session.complete_login(request, user)
        return redirect("security" if needs_enrolment(user) else next_url)
    return render(request, "registration/login.html", {"form": form, "next": next_url})


@require_POST
@enrolment_allowed
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        user = request.user
        record(
            Actor.from_request(request, user),
            "user_logout",
            f"{user.label} signed out",
            target=user,
        )
    auth.logout(request)
    messages.success(request, "You have signed out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _finish_login(
    request: HttpRequest, user: User, method: str, device: Device | None = None
) -> str:
    """Sign the pending user in; returns where they were going."""
    next_url = session.pending_next(request)
    session.complete_login(request, user, method, device)
    if method == app_or_recovery_code.RECOVERY_CODE:
        _recovery_codes_left_notice(request, user)
    return next_url


def _recovery_codes_left_notice(request: HttpRequest, user: User) -> None:
    """After a recovery code: how many are left, and a link to new ones (shown on any page)."""
    left = recovery.remaining(user)
    messages.add_message(
        request,
        messages.WARNING if left > 2 else messages.ERROR,
        format_html(
            'You signed in with a recovery code. {} left. <a href="{}">Make new codes</a>',
            f"{left} code{pluralize(left)}" if left else "No codes",
            reverse("recovery_regenerate"),
        ),
    )


@never_cache
@sensitive_post_parameters("code")
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step: an app code, a recovery code or (by script) a security key."""
    user = session.pending_user(request)
    if user is None:
        messages.error(request, "Your sign-in timed out. Please sign in again.")
        return redirect("login")
    if (paused := factor_step.paused_answer(request, user, account_wide=ACCOUNT_WIDE)) is not None:
        return paused
    code_form = factor_step.posted_code_form(request)
    if (passed := factor_step.code_passes(request, user, code_form)) is not None:
        return redirect(_finish_login(request, user, *passed))
    context = factor_step.page_context(request, user, PURPOSE, code_form=code_form)
    return render(request, "twofactor/verify.html", context)


@never_cache
@require_POST
def login_webauthn_options(request: HttpRequest) -> HttpResponse:
    return factor_step.key_options(
        request, PURPOSE, session.pending_user(request), account_wide=ACCOUNT_WIDE
    )


@never_cache
@require_POST
def login_webauthn_verify(request: HttpRequest) -> HttpResponse:
    return factor_step.key_verify(
        request, PURPOSE, session.pending_user(request), _finish_login, account_wide=ACCOUNT_WIDE
    )
