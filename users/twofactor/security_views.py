"""The user's own Security page: authenticator app, security keys, recovery codes, password."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from portal.lib.errors import InvalidInput, PortalError
from users import nudges, services, session_views
from users.audit import Actor
from users.models import User, WebAuthnCredential

from . import factor_step, recovery, session, totp, webauthn_keys
from .app_or_recovery_code import APP_CODE
from .decorators import enrolment_allowed, recent_auth_required
from .errors import FactorRefused
from .forms import CodeForm, KeyNameForm, PasskeyNameForm, PasswordChangeForm
from .middleware import enrolment_of
from .policy import has_second_factor

RECOVERY_CODES_TO_SHOW = "twofactor_new_recovery_codes"


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request)


@never_cache
@login_required
@enrolment_allowed
def security(request: HttpRequest) -> HttpResponse:
    """The user's factors; while a grace period runs, also where "skip for now" goes back to
    (the page whose reminder they followed)."""
    user = request.user
    return render(
        request,
        "twofactor/security.html",
        {
            "totp_device": totp.confirmed_device(user),
            "keys": user.webauthn_credentials.filter(discoverable=False),
            "passkeys": user.webauthn_credentials.filter(discoverable=True),
            "recovery_left": recovery.remaining(user),
            "has_recovery": recovery.has_codes(user),
            "must_enrol": enrolment_of(request).must_enrol,
            "skip_url": factor_step.safe_next(request),
            "key_form": KeyNameForm(),
            "passkey_form": PasskeyNameForm(auto_id="id_passkey_%s"),
            **session_views.sessions_context(request, user),
            "single_device": nudges.single_device(user) if user.is_admin else None,
        },
    )


def _keep_only_this_session(request: HttpRequest, change: Callable[[], User]) -> None:
    """Run ``change``, which ends every session of the user, and keep this one, unless
    something else (a disable, a factor reset) ended the sessions meanwhile: then this one
    ends too."""
    generation = request.user.session_generation
    user = change()
    if user.session_generation == generation + 1:
        update_session_auth_hash(request, user)


def _after_enrolment(request: HttpRequest, method: str) -> HttpResponse:
    """A new factor counts as a passed check and ends the user's other sessions (one opened
    with the password alone, by whoever knew it, must not outlive the factor); the first one
    also brings recovery codes."""
    _keep_only_this_session(request, lambda: services.end_sessions(request.user))
    session.mark_verified(request, method)
    session.mark_checked(request)
    if not recovery.has_codes(request.user):
        request.session[RECOVERY_CODES_TO_SHOW] = recovery.generate(_actor(request), request.user)
        return redirect("recovery_codes")
    return redirect("security")


@never_cache
@login_required
@enrolment_allowed
@recent_auth_required
def totp_setup(request: HttpRequest) -> HttpResponse:
    device = totp.pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            totp.confirm(_actor(request), request.user, device, form.cleaned_data["code"])
        except FactorRefused as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, "Your authenticator app is set up.")
            return _after_enrolment(request, APP_CODE)
    return render(
        request,
        "twofactor/totp_setup.html",
        {
            "form": form,
            "qr_svg": totp.qr_svg(device),
            "otpauth_url": device.config_url,  # what the QR code holds, to tap on a phone
            "secret": totp.secret_text(device),
            "replacing": totp.confirmed_device(request.user) is not None,
        },
    )


def _confirm_page(request: HttpRequest, title: str, text: str, button: str) -> HttpResponse:
    return render(
        request, "twofactor/confirm.html", {"title": title, "text": text, "button": button}
    )


@never_cache
@login_required
@recent_auth_required
def totp_remove(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            totp.remove(_actor(request), request.user)
        except FactorRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The authenticator app was removed.")
        return redirect("security")
    return _confirm_page(
        request,
        "Remove the authenticator app?",
        "Codes from the app will no longer work for signing in.",
        "Remove authenticator app",
    )


def _json_error(exc: InvalidInput) -> JsonResponse:
    return JsonResponse({"error": exc.message}, status=400)


@never_cache
@require_POST
@login_required
@enrolment_allowed
@recent_auth_required
def key_register_options(request: HttpRequest, passkey: bool = False) -> HttpResponse:
    """A security key's (or, with ``passkey``, a passkey's) registration options."""
    return HttpResponse(
        webauthn_keys.registration_options(request, request.user, passkey=passkey),
        content_type="application/json",
    )


@never_cache
@require_POST
@login_required
@enrolment_allowed
@recent_auth_required
def key_register(request: HttpRequest, passkey: bool = False) -> HttpResponse:
    try:
        body = webauthn_keys.parse_body(request)
        credential = body.get("credential")
        if not isinstance(credential, dict):
            raise FactorRefused("The security key's answer is missing.")
        key = webauthn_keys.register(
            request,
            _actor(request),
            request.user,
            str(body.get("name", "")),
            credential,
            passkey=passkey,
        )
    except FactorRefused as exc:
        return _json_error(exc)
    if key.discoverable:
        messages.success(
            request, f"Passkey “{key.name}” added: it signs you in without a password."
        )
    elif passkey:
        messages.warning(
            request,
            f"“{key.name}” was added as a security key for the second step only: your browser did "
            "not confirm that it can sign you in without a password.",
        )
    else:
        messages.success(request, f"Security key “{key.name}” added.")
    response = _after_enrolment(request, "passkey" if key.discoverable else "security key")
    return JsonResponse({"redirect": response.url})


def _own_key(request: HttpRequest, pk: int) -> WebAuthnCredential:
    return get_object_or_404(WebAuthnCredential, pk=pk, user=request.user)


@never_cache
@login_required
def key_rename(request: HttpRequest, pk: int) -> HttpResponse:
    key = _own_key(request, pk)
    form = KeyNameForm(request.POST or None, initial={"name": key.name})
    if request.method == "POST" and form.is_valid():
        try:
            webauthn_keys.rename(_actor(request), key, form.cleaned_data["name"])
        except FactorRefused as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, "Key renamed.")
            return redirect("security")
    return render(request, "twofactor/key_rename.html", {"form": form, "key": key})


@never_cache
@login_required
@recent_auth_required
def key_remove(request: HttpRequest, pk: int) -> HttpResponse:
    key = _own_key(request, pk)
    if request.method == "POST":
        try:
            webauthn_keys.remove(_actor(request), key)
        except FactorRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{key.kind.capitalize()} “{key.name}” removed.")
        return redirect("security")
    return _confirm_page(
        request,
        f"Remove the {key.kind} “{key.name}”?",
        "It will no longer work for signing in.",
        "Remove key",
    )


@never_cache
@login_required
@recent_auth_required
def recovery_regenerate(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not has_second_factor(request.user):
            messages.error(request, "Set up an authenticator app or a security key first.")
            return redirect("security")
        request.session[RECOVERY_CODES_TO_SHOW] = recovery.generate(_actor(request), request.user)
        return redirect("recovery_codes")
    return _confirm_page(
        request,
        "Make new recovery codes?",
        "Your current recovery codes will stop working. Keep the new ones somewhere safe.",
        "Make new codes",
    )


@never_cache
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New codes, shown once: they are gone from the session as soon as this page is drawn."""
    codes = request.session.pop(RECOVERY_CODES_TO_SHOW, None)
    if not codes:
        return redirect("security")
    return render(
        request, "twofactor/recovery_codes.html", {"codes": codes, **_sheet(request.user)}
    )


def _sheet(user: User) -> dict[str, str]:
    """What the downloaded or printed codes say about themselves: the portal (its name and
    address) and the user, and the file's name (``portal-recovery-codes-<user name>.txt``)."""
    portal = settings.OTP_TOTP_ISSUER
    return {
        "filename": f"{slugify(portal) or 'portal'}-recovery-codes-{user.username}.txt",
        "sheet_title": f"{portal} ({settings.PORTAL_BASE_URL}): recovery codes of {user.label}, "
        f"made {timezone.now():%Y-%m-%d %H:%M} UTC",
        "sheet_note": "Each code works once, in place of your authenticator app or security key. "
        "Making new codes replaces all of these.",
    }


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@login_required
@recent_auth_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["new_password1"]
        try:
            _keep_only_this_session(
                request,
                lambda: services.update_credentials(
                    _actor(request), request.user, password=password
                ),
            )
        except (
            PortalError
        ) as exc:  # a password the validators refuse, or the account removed meanwhile
            form.add_error("new_password1", exc.message.removeprefix("password: "))
        else:
            messages.success(
                request, "Your password was changed. Your other sessions were signed out."
            )
            return redirect("security")
    return render(request, "twofactor/password_change.html", {"form": form})
