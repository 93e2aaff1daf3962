"""v2 API: the Nebula users contract (JSON, HTTP Basic or Bearer token, users by user name).

Replies are exactly the contract's: the user document carries bare ``$2b$…`` bcrypt
hashes (``null`` for a password or token the user does not have), a taken or missing
user name answers 403 ``{"user_exists": …}``, every other refusal ``{"message": …}``.
"""

from __future__ import annotations

import unicodedata

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from portal.lib.errors import Conflict, Forbidden, InvalidInput, NotFound
from users import services
from users.audit import record
from users.hashers import plain_bcrypt
from users.models import User

from .authentication import V2Authentication, actor
from .key_policy import CallerMayAct
from .openapi import CLIENT_TOKEN_MIN_LENGTH, USER_NAME, V2_USER, v2_credentials, v2_schema
from .parsers import StrictJSONParser
from .streaming import streamed_json_list
from .viewsets import ApiViewSet

CREDENTIAL_FIELDS = ("password", "token")
STATE_CHANGING = frozenset({"POST", "PUT", "DELETE"})
JSON = "application/json"
DOCUMENT_FIELDS = ("username", "password", "api_token_hash")  # what user_document reads


def user_document(user: User) -> dict:
    return {
        "user_name": user.username,
        "password": plain_bcrypt(user.password) or None,
        "token": user.api_token_hash or None,
    }


def json_fields(
    request: Request, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> dict[str, str]:
    """The body as a JSON object of string fields; an absent body counts as ``{}``.

    Unknown or missing fields and non-string values are refused before anything changes.
    """
    data = request.data  # malformed JSON raises ParseError: 400
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(f"Unknown field(s): {', '.join(unknown)}", field=unknown[0])
    missing = [name for name in required if name not in data]
    if missing:
        raise InvalidInput(f"Missing field(s): {', '.join(missing)}", field=missing[0])
    for name, value in data.items():
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string", field=name)
    return data


def client_token(fields: dict[str, str]) -> str | None:
    """The token the client chose, if any: a secret bcrypt can hash, and long enough that
    it cannot be guessed (tokens the portal makes have 43 characters)."""
    if "token" not in fields:
        return None
    token = services.clean_secret(fields["token"], "token")
    if len(token) < CLIENT_TOKEN_MIN_LENGTH:
        raise InvalidInput(
            f"token must be at least {CLIENT_TOKEN_MIN_LENGTH} characters", field="token"
        )
    return token


def ensure_not_another_admin(request: Request, user: User, what: str) -> None:
    """Through the API an admin may set or refresh their own credentials and a plain user's,
    never another admin's: that would let one admin act as another, around their factor.
    An admin demoted within ``ADMIN_CREDENTIALS_COOLDOWN`` still counts, so demoting,
    setting the credentials and promoting again does not get around it. The refusal is
    audited and changes nothing else; the service checks again under the row lock."""
    try:
        services.refuse_another_admin(user, request.user)
    except Forbidden:
        message = f"Refused to {what} of admin {user.label}"
        record(actor(request), "api_credentials_refused", message, target=user)
        raise


def find_user(user_name: str, fields: tuple[str, ...] = ()) -> User:
    """The user named ``user_name`` (only ``fields`` loaded when given); a name no user
    could have is a 400, not a query."""
    if len(user_name) > services.USERNAME_MAX_LENGTH or any(
        unicodedata.category(char) == "Cc" for char in user_name
    ):
        raise InvalidInput("Invalid user_name", field="user_name")
    return services.get_user_by_username(user_name, fields)


class UserViewSet(ApiViewSet):
    """Admin-only JSON viewset of the contract's users (addressed by user name), answering
    the contract's 403 ``{"user_exists": …}`` for a taken or an unknown name."""

    authentication_classes = [V2Authentication]
    permission_classes = [CallerMayAct]
    parser_classes = [StrictJSONParser]
    lookup_url_kwarg = "user_name"

    def initial(self, request: Request, *args, **kwargs) -> None:
        """After credentials (401) and the admin check (403): a state-changing request must
        say it is JSON, even with no body (415), so a cross-site form cannot send one."""
        super().initial(request, *args, **kwargs)
        if not hasattr(self, request.method.lower()):
            return  # a method this URL does not answer: dispatch answers 405, whatever the type
        media_type = request.content_type.partition(";")[0].strip().lower()
        if request.method in STATE_CHANGING and media_type != JSON:
            raise UnsupportedMediaType(media_type or "none")

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        """Replies carry bcrypt hashes and new tokens: no cache along the way keeps one."""
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, NotFound):
            exists = False
        elif isinstance(exc, Conflict) and exc.field == "user_name":
            exists = True
        else:
            return super().handle_exception(exc)
        set_rollback()
        return Response({"user_exists": exists}, status=403)

    @extend_schema(
        operation_id="v2_users_list",
        **v2_schema(
            {
                "type": "object",
                "properties": {"users": {"type": "array", "items": {"type": "string"}}},
            }
        ),
    )
    def list(self, request: Request) -> StreamingHttpResponse:
        """List every user name.

        The reply is streamed from the database: a failure after its first byte cuts it
        short (invalid JSON), one before answers the usual error (see portal/api/streaming.py).
        """
        names = User.objects.order_by("username").values_list("username", flat=True)
        return streamed_json_list("users", names)

    @extend_schema(operation_id="v2_user_get", parameters=[USER_NAME], **v2_schema(V2_USER))
    def retrieve(self, request: Request, user_name: str) -> Response:
        """Get one user's credentials (bcrypt hashes)."""
        return Response(user_document(find_user(user_name, DOCUMENT_FIELDS)))

    @extend_schema(
        operation_id="v2_user_create",
        parameters=[USER_NAME],
        **v2_schema(V2_USER, [409], v2_credentials("password")),
    )
    def create(
        self, request: Request, user_name: str
    ) -> Response:  # POST on the detail URL, as the contract
        """Create a user with a password (and optionally an API token of the client's choice)."""
        username = services.clean_username(
            user_name
        )  # a name no user can have is a 400, not a query
        if services.name_taken(username):  # 403 before the body's 400
            raise Conflict(f"User ({username}) already exists.", field="user_name")
        fields = json_fields(request, CREDENTIAL_FIELDS, required=("password",))
        token = client_token(fields)
        user = services.create_named_user(
            actor(request), username=user_name, password=fields["password"], token=token
        )
        return Response(user_document(user))

    @extend_schema(
        operation_id="v2_user_delete",
        parameters=[USER_NAME],
        **v2_schema({"type": "object", "maxProperties": 0}, [409]),
    )
    def destroy(self, request: Request, user_name: str) -> Response:
        """Remove a user."""
        services.remove_user(actor(request), find_user(user_name))
        return Response({})

    @extend_schema(
        operation_id="v2_user_update",
        parameters=[USER_NAME],
        **v2_schema(V2_USER, [409], v2_credentials()),
    )
    @action(detail=True, methods=["put"], url_path="update", suffix="Update")
    def update_credentials(self, request: Request, user_name: str) -> Response:
        """Set a user's password and/or API token."""
        user = find_user(user_name)
        ensure_not_another_admin(request, user, "set the credentials")
        fields = json_fields(request, CREDENTIAL_FIELDS)
        token = client_token(fields)
        user = services.update_credentials(
            actor(request),
            user,
            password=fields.get("password"),
            token=token,
            unless_admin_other_than=request.user,
        )
        return Response(user_document(user))

    @extend_schema(
        operation_id="v2_user_refresh_token",
        parameters=[USER_NAME],
        **v2_schema(
            {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]},
            request={"type": "object", "maxProperties": 0},
        ),
    )
    @action(detail=True, methods=["post"], suffix="Refresh")
    def refresh(self, request: Request, user_name: str) -> Response:
        """Issue a new API token for a user (shown once)."""
        user = find_user(user_name)
        ensure_not_another_admin(request, user, "refresh the API token")
        json_fields(request, ())  # no body, or an empty object as in the contract
        token = services.issue_api_token(actor(request), user, unless_admin_other_than=request.user)
        return Response({"token": token})
