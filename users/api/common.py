"""What both API versions share: authentication, the admin-only permission,
parameter parsing and the JSON error format.

v1 errors are ``{"result": "error", "message": …}``; v2 errors ``{"message": …}``.
"""

from __future__ import annotations

import base64
import binascii

from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import set_rollback

from portal.encoding import is_strict_utf8_urlencoded
from portal.lib.errors import InvalidInput, PortalError
from users.audit import Actor
from users.models import User

from .credentials import Client, MustEnrol, TooManyFailures, check_basic, check_token

V1_INVALID_TOKEN = "Invalid auth_token"
V1_BAD_HEADER_TOKEN = "Unauthorized"
V1_TOKEN_HEADER = "HTTP_X_CANARY_AUTH_TOKEN"
V2_REALM = 'Basic realm="portal"'
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}


def is_v1(path: str) -> bool:
    return path == "/api/v1" or path.startswith("/api/v1/")


def _throttled(exc: TooManyFailures) -> exceptions.Throttled:
    return exceptions.Throttled(
        wait=exc.retry_after, detail="Too many failed authentication attempts. Try again later."
    )


class V1TokenAuthentication(BaseAuthentication):
    """``auth_token`` from the query string, the body or the X-Canary-Auth-Token header."""

    def authenticate(self, request) -> tuple[User, None]:
        header_token = request.META.get(V1_TOKEN_HEADER)
        token = header_token or request.query_params.get("auth_token") or _body(request).get("auth_token")
        if not token:
            raise exceptions.AuthenticationFailed(V1_INVALID_TOKEN)
        try:
            user = check_token(token, Client.from_request(request))
        except TooManyFailures as exc:
            raise _throttled(exc) from None
        except MustEnrol as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        if user is None:
            raise exceptions.AuthenticationFailed(V1_BAD_HEADER_TOKEN if header_token else V1_INVALID_TOKEN)
        return user, None

    def authenticate_header(self, request) -> str:
        return "auth_token"


class V2Authentication(BaseAuthentication):
    """HTTP Basic (user name + password, or user name + API token) or ``Authorization: Bearer <token>``.

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


class IsActiveAdmin(BasePermission):
    message = "Only an active admin may use this API."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return user is not None and user.is_active and user.is_admin


def _body(request) -> dict:
    """The parsed body, or {} when it is absent or unparseable (reported by the view)."""
    try:
        data = request.data
    except exceptions.ParseError:
        return {}
    return data if hasattr(data, "get") else {}


class Params:
    """v1 parameters, read from the query string and the body alike (DELETE too)."""

    def __init__(self, request) -> None:
        self._query = request.query_params
        if not is_strict_utf8_urlencoded(request.META.get("QUERY_STRING", "")):
            raise InvalidInput("Malformed query string: not valid UTF-8")
        try:
            self._body = request.data
        except exceptions.ParseError as exc:
            raise InvalidInput(f"Malformed request body: {exc.detail}") from None

    def get(self, name: str) -> str | None:
        value = self._body.get(name) if hasattr(self._body, "get") else None
        if value is None:
            value = self._query.get(name)
        if value is not None and not isinstance(value, str):
            value = str(value)
        if value is not None and "\x00" in value:  # PostgreSQL refuses NUL even in a lookup
            raise InvalidInput(f"Invalid {name}: must not contain NUL characters", field=name)
        return value

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise InvalidInput(f"Missing parameter: {name}", field=name)
        return value

    def optional(self, name: str, default: str = "") -> str:
        value = self.get(name)
        return default if value is None else value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None or value == "":
            return default
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise InvalidInput(f"Invalid boolean for {name}: use true or false", field=name)

    def integer(self, name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise InvalidInput(f"Invalid integer for {name}", field=name) from None
        if number < minimum or (maximum is not None and number > maximum):
            raise InvalidInput(f"{name} out of range", field=name)
        return number


def actor(request) -> Actor:
    return Actor.from_request(request, user=request.user)


def error_body(path: str, message: str) -> dict:
    return {"result": "error", "message": message} if is_v1(path) else {"message": message}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: every API error in its version's JSON shape."""
    request = context["request"]
    headers = {}
    if isinstance(exc, PortalError):
        status, message = exc.status, exc.message
    elif isinstance(exc, Http404):
        status, message = 404, "Not found."
    elif isinstance(exc, exceptions.APIException):
        status, message = exc.status_code, _detail_text(exc.detail)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    else:
        return None
    set_rollback()
    return Response(error_body(request.path, message), status=status, headers=headers)


def _detail_text(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_detail_text(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_detail_text(value)}" for key, value in detail.items())
    return str(detail)


def json_error(request, status: int, message: str) -> JsonResponse:
    """A plain Django JSON error for paths no DRF view handles (404, 500 …)."""
    return JsonResponse(error_body(request.path, message), status=status)
