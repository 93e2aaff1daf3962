"""What the second step of sign-in and a re-authentication share: the lock-out check and page
(django-axes' too), the code and security-key checks and the page's context. Each has its own small
views over these
(``login_views.py``, ``reauth_views.py``), as allauth has per stage."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.models import Device

from users import lockouts
from users.audit import Actor
from users.models import User

from . import app_or_recovery_code, recovery, session, totp, webauthn_keys
from .errors import FactorRefused
from .forms import CodeForm, RecoveryCodeForm
from .signals import report_failure

# Finishes a passed check and returns where to go next: (request, user, method, device).
Finish = Callable[[HttpRequest, User, str, Device | None], str]


def safe_next(request: HttpRequest, default: str = "") -> str:
    """The ``next`` parameter when it points into this site, else ``default``."""
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default or settings.LOGIN_REDIRECT_URL


def paused_answer(request: HttpRequest, user: User, *, account_wide: bool) -> HttpResponse | None:
    """The lock-out answer while signing in is paused for this user from here, else None.
    ``account_wide`` counts the account's budget too (sign-in; see ``lockouts.signin_pause``)."""
    wait = lockouts.signin_pause(request, user.username, account_wide=account_wide)
    if wait is None:
        return None
    request.signin_wait = wait
    return locked_out(request)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
):
    """django-axes' lock-out answer (AXES_LOCKOUT_CALLABLE), also for a paused account or
    address (``users.lockouts``): 429 with Retry-After, a page or JSON for the key scripts.

    It says until when and whether an admin can lift it, and nothing else: a name that matches
    no user is counted and paused exactly like one that does, so the answer is the same."""
    session.clear_pending(request)
    wait = getattr(request, "signin_wait", None) or lockouts.pair_wait(
        request, (credentials or {}).get("username") or ""
    )
    until = timezone.now() + timedelta(seconds=wait.seconds)
    minutes = max(1, math.ceil(wait.seconds / 60))
    message = (
        f"Too many failed sign-in attempts{' from your network address' if wait.address else ''}. "
        f"Signing in is paused until {until:%H:%M} UTC (about {minutes} "
        f"minute{pluralize(minutes)}); try again then"
        f"{'.' if wait.address else ', or ask an admin to lift the pause.'}"
    )
    if request.content_type == "application/json":
        response = JsonResponse({"error": message, "redirect": reverse("login")}, status=429)
    else:
        response = render(
            request,
            "twofactor/locked_out.html",
            {"message": message, "minutes": minutes, "until": until, "wait": wait},
            status=429,
        )
    response["Retry-After"] = str(wait.seconds)
    return response


def posted_code_form(request: HttpRequest) -> CodeForm | RecoveryCodeForm:
    """The code form this POST sent, bound (the app's or the recovery code's); else the app's."""
    action = request.POST.get("action")
    if action == RecoveryCodeForm.action:
        return RecoveryCodeForm(request.POST)
    return CodeForm(request.POST if action == CodeForm.action else None)


def code_passes(
    request: HttpRequest, user: User, code_form: CodeForm | RecoveryCodeForm
) -> tuple[str, Device] | None:
    """(method, device) when the posted code passes; else None with the reason on the form
    (a wrong code also counts as a failed sign-in)."""
    if not (request.method == "POST" and code_form.is_valid()):
        return None
    try:
        passed = app_or_recovery_code.check(
            Actor.from_request(request, user), user, code_form.cleaned_data["code"]
        )
    except FactorRefused as exc:
        code_form.add_error("code", exc.message)
        return None
    if passed is None:
        report_failure(request, user, "second factor")
        code_form.add_error("code", "That code is not valid, or it was already used.")
    return passed


def page_context(
    request: HttpRequest, user: User, purpose: str, code_form: CodeForm | RecoveryCodeForm, **forms
) -> dict:
    """The factor page's context; ``purpose`` names its security-key URLs
    (``<purpose>_webauthn_*``). The primary action has the focus: the key button when the user
    has a key, else the app's code field, else the recovery code's (or the form just refused)."""
    has_totp = totp.confirmed_device(user) is not None
    has_keys = user.webauthn_credentials.exists()
    app_form = code_form if isinstance(code_form, CodeForm) else CodeForm()
    recovery_form = code_form if isinstance(code_form, RecoveryCodeForm) else RecoveryCodeForm()
    if code_form.is_bound:
        focus = "recovery" if code_form is recovery_form else "code"
    else:
        focus = "key" if has_keys else "code" if has_totp else "recovery"
    app_form.fields["code"].widget.attrs["autofocus"] = focus == "code"
    recovery_form.fields["code"].widget.attrs["autofocus"] = focus == "recovery"
    return {
        "subject": user,
        "has_totp": has_totp,
        "has_keys": has_keys,
        "has_recovery": recovery.has_codes(user),
        "focus": focus,
        "next": safe_next(request, ""),
        "options_url": reverse(f"{purpose}_webauthn_options"),
        "verify_url": reverse(f"{purpose}_webauthn_verify"),
        "code_form": app_form,
        "recovery_form": recovery_form,
        **forms,
    }


def signed_out_answer() -> JsonResponse:
    return JsonResponse(
        {"error": "Please sign in again.", "redirect": reverse("login")}, status=401
    )


def key_options(
    request: HttpRequest, purpose: str, user: User | None, *, account_wide: bool
) -> HttpResponse:
    """The security-key challenge for ``user`` (JSON), bound to ``purpose`` in the session."""
    if user is None:
        return signed_out_answer()
    if (paused := paused_answer(request, user, account_wide=account_wide)) is not None:
        return paused
    try:
        options = webauthn_keys.authentication_options(request, purpose, user)
    except FactorRefused as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return HttpResponse(options, content_type="application/json")


def key_verify(
    request: HttpRequest, purpose: str, user: User | None, finish: Finish, *, account_wide: bool
) -> HttpResponse:
    """Check the security key's answer to the ``purpose`` challenge; ``finish`` on success."""
    if user is None:
        return signed_out_answer()
    if (paused := paused_answer(request, user, account_wide=account_wide)) is not None:
        return paused
    try:
        credential = webauthn_keys.parse_body(request).get("credential")
        if not isinstance(credential, dict):
            raise FactorRefused("The security key's answer is missing.")
        key = webauthn_keys.authenticate(request, purpose, user, credential)
    except FactorRefused as exc:
        report_failure(request, user, "security key")
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse({"redirect": finish(request, user, f"security key “{key.name}”", None)})
