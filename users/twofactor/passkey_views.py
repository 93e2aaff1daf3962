"""Sign-in with a passkey and no password: the sign-in page's passwordless ceremony.

A passkey answers for both factors, so everything the password and the second step uphold is
checked here too: the sign-in budgets (the address before the passkey names its account, then
the account's own), disabled accounts, the challenge spent on first use and bound to this
session, origin and RP ID, the user handle, user verification and the signature counter (a
counter that does not move forward means a copied key: refused and audited). Every refusal
counts as a failed sign-in, as a wrong password does, and changes nothing else. Challenges
are budgeted per address on their own (each gives a visitor a session row).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import pluralize
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.client_ip import client_ip
from users import lockouts

from . import factor_step, session, webauthn_keys
from .errors import FactorRefused

# The backend whose get_user() reloads the user on every request (and refuses a disabled one).
BACKEND = "django.contrib.auth.backends.ModelBackend"
STAGE = "passkey"
CLONED_STAGE = "passkey: its signature counter went backwards, possibly a copied key"
# The same answer for a key that is not (or no longer) registered and for a disabled account,
# given before any signature is checked, as the password step answers both alike.
NOT_ACCEPTED = "This passkey is not registered here, or its account is disabled."


def _refused(request: HttpRequest, name: str, stage: str, message: str) -> JsonResponse:
    """A failed passwordless sign-in: audited and counted like a wrong password for ``name``."""
    user_login_failed.send(
        sender=__name__, credentials={"username": name}, request=request, stage=stage
    )
    return JsonResponse({"error": message}, status=400)


def _address_paused(request: HttpRequest) -> HttpResponse | None:
    wait = lockouts.address_pause(request)
    if wait is None:
        return None
    request.signin_wait = wait
    return factor_step.locked_out(request)


class ChallengeBudget(lockouts.Budget):
    """Passwordless challenges per address, counted apart from failed sign-ins: each one
    gives a visitor a session row, so an address cannot make them without end."""

    prefix = "passkeychallenge"

    def window_seconds(self) -> int:
        return settings.PASSKEY_CHALLENGE_WINDOW

    def address_limit(self) -> int:
        return settings.PASSKEY_CHALLENGE_LIMIT


def _challenges_spent(request: HttpRequest) -> HttpResponse | None:
    """429 with Retry-After once this address asked for more challenges than its budget."""
    budget = ChallengeBudget(client_ip(request), None)
    if budget.note_failure():
        return None
    wait = budget.seconds_left()
    minutes = max(1, math.ceil(wait / 60))
    response = JsonResponse(
        {
            "error": "Too many passkey sign-in requests from your network address; "
            f"try again in about {minutes} minute{pluralize(minutes)}."
        },
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


def _unknown(credential_id: object) -> str:
    """How a passkey that names no account is counted and audited: masked, like a name."""
    return lockouts.masked(f"passkey:{credential_id}")


@never_cache
@require_POST
def passkey_options(request: HttpRequest) -> HttpResponse:
    """The passwordless challenge (JSON): no account named, user verification required."""
    if (paused := _address_paused(request) or _challenges_spent(request)) is not None:
        return paused
    if not request.user.is_authenticated:
        # Every sign-in page view whose browser offers passkeys in autofill asks for one, so a
        # visitor's session holding it lives only as long as a half-finished sign-in (signing
        # in gives the session its full age: ``session.complete_login``).
        request.session.set_expiry(settings.TWOFACTOR_PENDING_SECONDS)
    return HttpResponse(webauthn_keys.passkey_options(request), content_type="application/json")


@never_cache
@require_POST
def passkey_verify(request: HttpRequest) -> HttpResponse:
    """Sign in whoever the passkey's verified answer belongs to; {"redirect": url} or
    {"error": message}."""
    if (paused := _address_paused(request)) is not None:
        return paused
    try:
        challenge = webauthn_keys.take_passkey_challenge(request)
        credential = webauthn_keys.parse_body(request).get("credential")
        if not isinstance(credential, dict):
            raise FactorRefused("The passkey's answer is missing.")
    except FactorRefused as exc:
        return _refused(request, _unknown(""), STAGE, exc.message)
    key = webauthn_keys.passkey_owner(credential)
    if key is None:
        return _refused(request, _unknown(credential.get("id")), STAGE, NOT_ACCEPTED)
    user = key.user
    if (paused := factor_step.paused_answer(request, user, account_wide=True)) is not None:
        return paused
    if not user.is_active:
        return _refused(request, user.username, STAGE, NOT_ACCEPTED)
    try:
        webauthn_keys.check_passkey(key, credential, challenge)
    except webauthn_keys.SignCountWentBack as exc:
        return _refused(request, user.username, CLONED_STAGE, exc.message)
    except FactorRefused as exc:
        return _refused(request, user.username, STAGE, exc.message)
    user.backend = BACKEND
    session.complete_login(request, user, f"passkey “{key.name}”", passwordless=True)
    return JsonResponse({"redirect": factor_step.safe_next(request)})
