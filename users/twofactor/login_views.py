"""Sign-in (password, then second factor), re-authentication, sign-out and the lock-out page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import django_otp
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.models import Device

from users import lockouts
from users.audit import Actor, record
from users.models import User

from . import app_or_recovery_code, recovery, session, totp, webauthn_keys
from .decorators import enrolment_allowed
from .errors import FactorRefused
from .forms import CodeForm, LoginForm, PasswordCheckForm
from .policy import has_second_factor, needs_enrolment
from .signals import report_failure


def safe_next(request: HttpRequest, default: str = "") -> str:
    """The ``next`` parameter when it points into this site, else ``default``."""
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default or settings.LOGIN_REDIRECT_URL


@never_cache
@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
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
        record(Actor.from_request(request, user), "user_logout", f"{user.label} signed out", target=user)
    auth.logout(request)
    messages.success(request, "You have signed out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None):
    """django-axes' lock-out answer (AXES_LOCKOUT_CALLABLE), also for a paused account or
    address (``users.lockouts``): 429 with Retry-After, a page or JSON for the key scripts."""
    session.clear_pending(request)
    retry_after = getattr(request, "signin_retry_after", None) or lockouts.cooloff_seconds()
    minutes = max(1, math.ceil(retry_after / 60))
    message = f"Too many failed sign-in attempts. Signing in is paused for {minutes} minutes; try again later."
    if request.content_type == "application/json":
        response = JsonResponse({"error": message, "redirect": reverse("login")}, status=429)
    else:
        response = render(request, "twofactor/locked_out.html", {"message": message, "minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@dataclass(frozen=True)
class Step:
    """A second-factor check: the second step of sign-in, or a re-authentication."""

    purpose: str
    template: str

    def subject(self, request: HttpRequest) -> User | None:
        if self.purpose == "login":
            return session.pending_user(request)
        return request.user if request.user.is_authenticated else None

    def missing(self, request: HttpRequest) -> HttpResponse:
        if self.purpose == "login":
            messages.error(request, "Your sign-in timed out. Please sign in again.")
        return redirect("login")

    def succeed(self, request: HttpRequest, user: User, method: str, device: Device | None = None) -> str:
        """Finish the step; returns where to go next."""
        if self.purpose == "login":
            next_url = session.pending_next(request)
            session.complete_login(request, user, method, device)
            return next_url
        if device is not None:
            django_otp.login(request, device)
        if method != "password":
            session.mark_verified(request, method)
        session.mark_checked(request)
        return safe_next(request, reverse("security"))

    def actor(self, request: HttpRequest, user: User) -> Actor:
        return Actor.from_request(request, user)

    def lockout(self, request: HttpRequest, user: User) -> HttpResponse | None:
        """The lock-out answer while signing in is paused for this user from here, else None."""
        retry_after = lockouts.signin_pause(request, user.username)
        if retry_after is None:
            return None
        request.signin_retry_after = retry_after
        return locked_out(request)

    def context(self, request: HttpRequest, user: User, **forms: Any) -> dict:
        has_totp = totp.confirmed_device(user) is not None
        return {
            "step": self,
            "subject": user,
            "has_totp": has_totp,
            "has_keys": user.webauthn_credentials.exists(),
            "has_recovery": recovery.has_codes(user),
            "next": safe_next(request, ""),
            "options_url": reverse(f"{self.purpose}_webauthn_options"),
            "verify_url": reverse(f"{self.purpose}_webauthn_verify"),
            **forms,
        }


LOGIN = Step("login", "twofactor/verify.html")
REAUTH = Step("reauth", "twofactor/reauth.html")


def _factor_page(request: HttpRequest, step: Step) -> HttpResponse:
    user = step.subject(request)
    if user is None:
        return step.missing(request)
    if (locked := step.lockout(request, user)) is not None:
        return locked
    code_form = CodeForm(request.POST if request.POST.get("action") == "code" else None)
    password_form = PasswordCheckForm(request, request.POST if request.POST.get("action") == "password" else None)
    if request.method == "POST" and step.purpose == "reauth" and password_form.is_bound and password_form.is_valid():
        return redirect(step.succeed(request, user, "password"))
    if request.method == "POST" and code_form.is_valid():
        try:
            passed = app_or_recovery_code.check(step.actor(request, user), user, code_form.cleaned_data["code"])
        except FactorRefused as exc:
            code_form.add_error("code", exc.message)
        else:
            if passed is not None:
                return redirect(step.succeed(request, user, *passed))
            report_failure(request, user, "second factor")
            code_form.add_error("code", "That code is not valid, or it was already used.")
    return render(request, step.template, step.context(request, user, code_form=code_form, password_form=password_form))


@never_cache
@sensitive_post_parameters("code")
def login_verify(request: HttpRequest) -> HttpResponse:
    return _factor_page(request, LOGIN)


@never_cache
@sensitive_post_parameters("password", "code")
@login_required
@enrolment_allowed
def reauth(request: HttpRequest) -> HttpResponse:
    return _factor_page(request, REAUTH)


def _key_options(request: HttpRequest, step: Step) -> HttpResponse:
    user = step.subject(request)
    if user is None:
        return JsonResponse({"error": "Please sign in again.", "redirect": reverse("login")}, status=401)
    if (locked := step.lockout(request, user)) is not None:
        return locked
    try:
        options = webauthn_keys.authentication_options(request, step.purpose, user)
    except FactorRefused as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return HttpResponse(options, content_type="application/json")


def _key_verify(request: HttpRequest, step: Step) -> HttpResponse:
    user = step.subject(request)
    if user is None:
        return JsonResponse({"error": "Please sign in again.", "redirect": reverse("login")}, status=401)
    if (locked := step.lockout(request, user)) is not None:
        return locked
    try:
        credential = webauthn_keys.parse_body(request).get("credential")
        if not isinstance(credential, dict):
            raise FactorRefused("The security key's answer is missing.")
        key = webauthn_keys.authenticate(request, step.purpose, user, credential)
    except FactorRefused as exc:
        report_failure(request, user, "security key")
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse({"redirect": step.succeed(request, user, f"security key “{key.name}”")})


@never_cache
@require_POST
def login_webauthn_options(request: HttpRequest) -> HttpResponse:
    return _key_options(request, LOGIN)


@never_cache
@require_POST
def login_webauthn_verify(request: HttpRequest) -> HttpResponse:
    return _key_verify(request, LOGIN)


@never_cache
@require_POST
@enrolment_allowed
def reauth_webauthn_options(request: HttpRequest) -> HttpResponse:
    return _key_options(request, REAUTH)


@never_cache
@require_POST
@enrolment_allowed
def reauth_webauthn_verify(request: HttpRequest) -> HttpResponse:
    return _key_verify(request, REAUTH)
