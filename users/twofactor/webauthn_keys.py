"""Security keys and passkeys with py_webauthn: options, verification, sign counts, naming.

Each ceremony's challenge lives in the session, bound to its purpose and user,
and is removed as soon as a response is checked, so a response cannot be
replayed. Origin and RP ID come from settings (WEBAUTHN_ORIGIN, WEBAUTHN_RP_ID).

A *passkey* is a key registered as a discoverable credential with user verification
(``residentKey`` and ``userVerification`` required) whose browser reported it discoverable
(``credProps``). It alone signs a user in (``passkey_options``, ``passkey_owner``,
``check_passkey``): the key is something they have, its PIN or biometric something they know
or are. Keys registered otherwise stay second steps after the password; that is fixed at
registration, as discoverability is.
"""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from users import services
from users.audit import Actor, record
from users.models import User, WebAuthnCredential
from users.tokens import keyed_digest

from .errors import FactorRefused
from .policy import ensure_not_last_factor

CHALLENGE = "twofactor_webauthn_challenge"
NAME_MAX_LENGTH = WebAuthnCredential._meta.get_field("name").max_length
UV = UserVerificationRequirement.PREFERRED
PASSKEY = "passkey"  # the purpose of a passwordless sign-in's challenge (no user known yet)
_TRANSPORTS = {t.value for t in AuthenticatorTransport}


def _user_handle(user: User) -> bytes:
    """An opaque, stable handle for the user (not their name or e-mail)."""
    return keyed_digest("webauthn-user-handle", str(user.pk))[:32].encode()


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(key.credential_id),
            transports=[AuthenticatorTransport(t) for t in key.transports if t in _TRANSPORTS],
        )
        for key in user.webauthn_credentials.all()
    ]


def _remember(request: HttpRequest, purpose: str, user: User | None, challenge: bytes) -> None:
    request.session[CHALLENGE] = {
        "purpose": purpose,
        "user": user.pk if user is not None else None,
        "challenge": bytes_to_base64url(challenge),
    }


def _take_challenge(request: HttpRequest, purpose: str, user: User | None) -> bytes:
    """The ceremony's challenge, removed from the session: each is good for one answer."""
    data = request.session.pop(CHALLENGE, None)
    expected_user = user.pk if user is not None else None
    if not data or data["purpose"] != purpose or data["user"] != expected_user:
        raise FactorRefused("No security key request is in progress. Start again.")
    return base64url_to_bytes(data["challenge"])


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise FactorRefused("Give the key a name, e.g. “Blue YubiKey”.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise FactorRefused(f"The name can be at most {NAME_MAX_LENGTH} characters.", field="name")
    return name


def _registration_purpose(passkey: bool) -> str:
    return "register-passkey" if passkey else "register"


def registration_options(request: HttpRequest, user: User, *, passkey: bool = False) -> str:
    """Options for navigator.credentials.create(), as JSON; existing keys are excluded. A
    passkey must be discoverable and verify the user, and the browser is asked to say whether
    it is (``credProps``)."""
    if passkey:
        selection = AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
    else:
        selection = AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED, user_verification=UV
        )
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=_user_handle(user),
        user_name=user.username,
        user_display_name=user.label,
        exclude_credentials=_descriptors(user),
        authenticator_selection=selection,
    )
    _remember(request, _registration_purpose(passkey), user, options.challenge)
    if not passkey:
        return options_to_json(options)
    # py_webauthn has no extensions parameter; the script passes the options on as they are.
    return json.dumps({**json.loads(options_to_json(options)), "extensions": {"credProps": True}})


def reported_discoverable(credential: dict) -> bool:
    """The browser's ``credProps`` result says the authenticator stored a discoverable
    credential. Absent (a browser without the extension) counts as not discoverable."""
    results = credential.get("clientExtensionResults")
    props = results.get("credProps") if isinstance(results, dict) else None
    return isinstance(props, dict) and props.get("rk") is True


def register(
    request: HttpRequest,
    actor: Actor,
    user: User,
    name: str,
    credential: dict,
    *,
    passkey: bool = False,
) -> WebAuthnCredential:
    """Check a new key's attestation against this session's challenge and save it; a passkey
    registration must have verified the user, and is kept as a passkey only when the browser
    reported it discoverable."""
    challenge = _take_challenge(request, _registration_purpose(passkey), user)
    name = clean_name(name)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=settings.WEBAUTHN_ORIGIN,
            require_user_verification=passkey,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise FactorRefused(f"The security key's answer was not accepted: {exc}") from None
    transports = credential.get("response", {}).get("transports") or []
    discoverable = passkey and reported_discoverable(credential)
    try:
        with transaction.atomic():
            key = WebAuthnCredential.objects.create(
                user=user,
                name=name,
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=[t for t in transports if t in _TRANSPORTS],
                discoverable=discoverable,
            )
            record(
                actor,
                "user_webauthn_add",
                f"Added {key.kind} “{name}” for {user.label}",
                target=user,
                key=name,
                passkey=discoverable,
            )
    except IntegrityError:
        raise FactorRefused("This security key is already registered.") from None
    return key


def authentication_options(request: HttpRequest, purpose: str, user: User) -> str:
    """Options for navigator.credentials.get() limited to the user's keys, as JSON."""
    if not user.webauthn_credentials.exists():
        raise FactorRefused("You have no security key.")
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID, allow_credentials=_descriptors(user), user_verification=UV
    )
    _remember(request, purpose, user, options.challenge)
    return options_to_json(options)


def authenticate(
    request: HttpRequest, purpose: str, user: User, credential: dict
) -> WebAuthnCredential:
    """Check an assertion from one of the user's keys; store its new sign count."""
    challenge = _take_challenge(request, purpose, user)
    key = user.webauthn_credentials.filter(credential_id=str(credential.get("id", ""))).first()
    if key is None:
        raise FactorRefused("This security key is not registered to your account.")
    _verify_assertion(key, credential, challenge, require_user_verification=False)
    return key


class SignCountWentBack(FactorRefused):
    """The key's signature counter did not move forward: the key may have been copied."""


def _verify_assertion(
    key: WebAuthnCredential, credential: dict, challenge: bytes, *, require_user_verification: bool
) -> None:
    """Check an assertion by ``key`` (origin, RP ID, signature, counter); store its new count.

    The counter is read and moved under the key's row lock: two answers with the same count
    (a key and its copy, used at once) cannot both pass."""
    with transaction.atomic():
        count = (
            WebAuthnCredential.objects.select_for_update()
            .filter(pk=key.pk)
            .values_list("sign_count", flat=True)
            .first()
        )
        if count is None:
            raise FactorRefused("This security key was removed.")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=settings.WEBAUTHN_RP_ID,
                expected_origin=settings.WEBAUTHN_ORIGIN,
                credential_public_key=bytes(key.public_key),
                credential_current_sign_count=count,
                require_user_verification=require_user_verification,
            )
        except InvalidAuthenticationResponse as exc:
            if "sign count" in str(exc):
                raise SignCountWentBack(
                    "This key's signature counter went backwards, so it may have been copied. "
                    "Ask an admin."
                ) from None
            raise FactorRefused(f"The security key's answer was not accepted: {exc}") from None
        except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
            raise FactorRefused(f"The security key's answer was not accepted: {exc}") from None
        WebAuthnCredential.objects.filter(pk=key.pk).update(
            sign_count=verified.new_sign_count, last_used=timezone.now()
        )


def passkey_options(request: HttpRequest) -> str:
    """Options for a passwordless navigator.credentials.get(), as JSON: no credentials listed
    (the authenticator offers its discoverable ones) and user verification required. The
    challenge is bound to this session."""
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _remember(request, PASSKEY, None, options.challenge)
    return options_to_json(options)


def take_passkey_challenge(request: HttpRequest) -> bytes:
    """This session's passwordless challenge, spent whatever the answer turns out to be."""
    return _take_challenge(request, PASSKEY, None)


def passkey_owner(credential: dict) -> WebAuthnCredential | None:
    """The registered key an answer names (with its user), before anything is verified."""
    return (
        WebAuthnCredential.objects.select_related("user")
        .filter(credential_id=str(credential.get("id", "")))
        .first()
    )


def check_passkey(key: WebAuthnCredential, credential: dict, challenge: bytes) -> None:
    """A passwordless answer by ``key`` holds: a passkey, answering for its own user (the user
    handle it stored at registration), with the user verified; else FactorRefused
    (SignCountWentBack for a possibly copied key)."""
    if not key.discoverable:
        raise FactorRefused(
            "This key was added as a security key for the second step, not as a passkey: sign in "
            "with your password, then use it. Add a passkey on your Security page to sign in "
            "without a password."
        )
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    try:
        answered = base64url_to_bytes(handle) if isinstance(handle, str) else b""
    except ValueError:
        answered = b""
    if not hmac.compare_digest(answered, _user_handle(key.user)):
        raise FactorRefused("The passkey's answer does not belong to its account.")
    _verify_assertion(key, credential, challenge, require_user_verification=True)


def rename(actor: Actor, key: WebAuthnCredential, name: str) -> WebAuthnCredential:
    name = clean_name(name)
    with transaction.atomic():
        before, key.name = key.name, name
        key.save(update_fields=["name"])
        record(
            actor,
            "user_webauthn_rename",
            f"Renamed {key.kind} “{before}” to “{name}” for {key.user.label}",
            target=key.user,
            before=before,
            after=name,
        )
    return key


def remove(actor: Actor, key: WebAuthnCredential) -> None:
    user = key.user
    ensure_not_last_factor(user, removing_keys=1)
    with transaction.atomic():
        key.delete()
        services.drop_recovery_codes_if_no_factor(user)
        record(
            actor,
            "user_webauthn_remove",
            f"Removed {key.kind} “{key.name}” of {user.label}",
            target=user,
        )


def parse_body(request: HttpRequest) -> dict:
    """The JSON body of a ceremony step; FactorRefused (400) when it is not a JSON object."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise FactorRefused("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise FactorRefused("The request body must be a JSON object.")
    return body
