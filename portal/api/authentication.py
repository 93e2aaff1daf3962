"""Who is calling: the DRF authentication classes of both API versions and the audit actor
of an API request (what a caller may do: ``key_policy``)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from users.audit import Actor
from users.models import User

from .credentials import Client, MustEnrol, TooManyFailures, check_basic, check_token
from .key_auth import KeyCaller

V1_INVALID_TOKEN = "Invalid auth_token"
V1_BAD_HEADER_TOKEN = "Unauthorized"
V1_TOKEN_HEADER = "HTTP_X_CANARY_AUTH_TOKEN"
V2_REALM = 'Basic realm="portal"'


def _throttled(exc: TooManyFailures) -> exceptions.Throttled:
    return exceptions.Throttled(
        wait=exc.retry_after, detail="Too many failed authentication attempts. Try again later."
    )


class V1TokenAuthentication(BaseAuthentication):
    """``auth_token`` from the query string, the body or the X-Canary-Auth-Token header."""

    def authenticate(self, request) -> tuple[User, None]:
        header_token = request.META.get(V1_TOKEN_HEADER)
        token = (
            header_token
            or request.query_params.get("auth_token")
            or _body(request).get("auth_token")
        )
        if not token:
            raise exceptions.AuthenticationFailed(V1_INVALID_TOKEN)
        try:
            user = check_token(token, Client.from_request(request))
        except TooManyFailures as exc:
            raise _throttled(exc) from None
        except MustEnrol as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        if user is None:
            raise exceptions.AuthenticationFailed(
                V1_BAD_HEADER_TOKEN if header_token else V1_INVALID_TOKEN
            )
        return user, None

    def authenticate_header(self, request) -> str:
        return "auth_token"


class V2Authentication(BaseAuthentication):
    """HTTP Basic (user name + password, or user name + API token) or ``Authorization: Bearer
    <token>``.

    The password alone is refused (401, as a wrong one) for users a second factor protects:
    they use their token, minted on the pages after passing the factor. A disabled user's
    credentials answer 401 like wrong ones (as Django's own sign-in does), so they do not
    reveal that the secret was right; an active non-admin gets 403.
    """

    def authenticate(self, request) -> tuple[User, None]:
        scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        scheme, value = scheme.lower(), value.strip()
        client = Client.from_request(request)
        try:
            if scheme == "basic":
                name, secret = _decode_basic(value)
                user = check_basic(name, secret, client)
            elif scheme == "bearer" and value:
                user = check_token(value, client)
            else:
                raise exceptions.NotAuthenticated("Authentication credentials were not provided.")
        except TooManyFailures as exc:
            raise _throttled(exc) from None
        except MustEnrol as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Invalid credentials.")
        return user, None

    def authenticate_header(self, request) -> str:
        return V2_REALM


def _decode_basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise exceptions.AuthenticationFailed("Malformed Basic credentials.") from None
    name, sep, password = decoded.partition(":")
    if not sep:
        raise exceptions.AuthenticationFailed("Malformed Basic credentials.")
    return name, password


def _body(request) -> dict:
    """The parsed body, or {} when it is absent or unparseable (reported by the view)."""
    try:
        data = request.data
    except exceptions.ParseError:
        return {}
    return data if hasattr(data, "get") else {}


def actor(request) -> Actor:
    """Who the audit log names for an API call: the authenticated user, or ``API key <key_id>
    (<note>)``, at the client's address."""
    if isinstance(request.user, KeyCaller):
        return replace(Actor.from_request(request), user=None)
    return Actor.from_request(request, user=request.user)
