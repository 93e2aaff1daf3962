"""OpenAPI descriptions shared by both API versions (drf-spectacular).

The v1 endpoints are viewset actions whose parameters are read by ``Params``, so
drf-spectacular cannot see them: each action lists its ``V1Param``s and its
success body in ``v1_action``, and ``v1_schema`` turns them into query
parameters (GET, DELETE) or a form body (POST), the shared error replies and the
token security. Every schema here is what the views really send: the schemathesis
run in the tests checks replies against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from flocks.models import FlockRole
from users.models import AccessLevel

V1_ERROR = {
    "type": "object",
    "properties": {"result": {"type": "string", "enum": ["error"]}, "message": {"type": "string"}},
    "required": ["result", "message"],
}
V2_ERROR = {
    "type": "object",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}

# Every API call may be refused this way, whatever its parameters.
COMMON_ERRORS = {
    400: "a missing or invalid parameter (named in the message), or a malformed body",
    401: "missing or wrong credentials (a disabled user's too, and the password alone of a user "
    "who has a second factor or is required to have one: they use their API token)",
    403: "the credentials' owner is not an active admin, or must enrol a second factor before "
    "using the API",
    405: "method not allowed",
    413: "request body over the documented limit (PORTAL_MAX_BODY_BYTES, 1 MiB by default)",
    415: "a body in a media type the operation does not read (v2: any state-changing request "
    "whose Content-Type is not application/json, even with no body)",
    429: "too many failed authentication attempts from this address or for this account "
    "(Retry-After says how long to wait)",
}
V1_ERRORS = {
    404: "unknown user or flock",
    409: "duplicate user, or the last active admin would be lost",
}


def error_responses(
    error: dict, codes: Sequence[int], descriptions: dict[int, str] = V1_ERRORS
) -> dict:
    described = COMMON_ERRORS | descriptions
    return {code: OpenApiResponse(error, description=described[code]) for code in codes}


@dataclass(frozen=True)
class V1Param:
    """One v1 parameter. ``kind``: string, email, integer, boolean, or list (comma-separated
    strings)."""

    name: str
    description: str
    required: bool = False
    kind: str = "string"
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def schema(self) -> dict:
        if self.kind == "email":
            return {"type": "string", "format": "email"}
        if self.kind == "boolean":
            return {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]}
        if self.kind == "integer":
            schema: dict = {"type": "integer"}
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
            return schema
        schema = {"type": "string"}
        if self.enum:
            schema["enum"] = list(self.enum)
        elif self.required and self.kind == "string":
            schema["minLength"] = 1
        return schema

    def describe(self) -> str:
        extra = " Comma-separated." if self.kind == "list" else ""
        return self.description + extra

    def query(self) -> OpenApiParameter:
        return OpenApiParameter(
            self.name,
            location=OpenApiParameter.QUERY,
            required=self.required,
            description=self.describe(),
            type=self.schema(),
        )


def v1_schema(
    methods: Sequence[str],
    params: Sequence[V1Param],
    success: dict,
    errors: Sequence[int],
    optional: Sequence[str] = (),
) -> dict:
    """``extend_schema`` arguments for a v1 endpoint; ``optional`` names the success properties
    a reply carries only sometimes."""
    success_body = {
        "type": "object",
        "properties": {"result": {"type": "string", "enum": ["success"]}, **success},
        "required": ["result", *(name for name in success if name not in optional)],
    }
    arguments: dict = {
        "tags": ["v1"],
        "responses": {200: success_body, **error_responses(V1_ERROR, [*COMMON_ERRORS, *errors])},
    }
    if "POST" in methods:
        form = {
            "type": "object",
            "properties": {p.name: {**p.schema(), "description": p.describe()} for p in params},
        }
        required = [p.name for p in params if p.required]
        if required:
            form["required"] = required
        arguments["request"] = {
            "application/x-www-form-urlencoded": form,
            "multipart/form-data": form,
        }
    else:
        arguments["parameters"] = [p.query() for p in params]
    return arguments


# Parameters several v1 endpoints share.
EMAIL = V1Param("email", "E-mail address of the user.", required=True, kind="email")
NOTE = V1Param("note", "Free text.", required=True)
ACCESS_LEVEL = V1Param(
    "access_level", "New access level.", required=True, enum=tuple(AccessLevel.values)
)
FLOCK_ID = V1Param("flock_id", "Id of the flock (flock:…).", required=True)
FLOCK_ID_LIST = V1Param("flock_id_list", "Flock ids.", required=True, kind="list")
FLOCK_ROLE = V1Param(
    "flock_access_level", "Role in the flocks.", required=True, enum=tuple(FlockRole.values)
)
FILTER = V1Param("filter_str", "Case-insensitive text to look for.", required=True)
LIMIT = V1Param("limit", "Page size.", kind="integer", minimum=1, maximum=1000)
CURSOR = V1Param("cursor", "cursor.next or cursor.prev of the previous page.")
PAGE_PARAMS = (LIMIT, CURSOR)

# Success bodies (besides "result").
MSG = {"msg": {"type": "string"}}
NOTHING: dict = {}
STRINGS = {"type": "array", "items": {"type": "string"}}
NULLABLE_STRING = {"type": "string", "nullable": True}
USER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "email": NULLABLE_STRING,
        "username": {"type": "string"},
        "access_level": {"type": "string", "enum": list(AccessLevel.values)},
        "disabled": {"type": "boolean"},
        "note": {"type": "string"},
        "totp_enabled": {"type": "boolean"},
        "webauthn_enabled": {"type": "boolean"},
        "require_2fa": {"type": "boolean"},
        "summary_email_enabled": {"type": "boolean"},
        "managed_flocks": STRINGS,
        "watched_flocks": STRINGS,
        "created": {"type": "string", "format": "date-time"},
    },
    "required": [
        "id",
        "email",
        "username",
        "access_level",
        "disabled",
        "note",
        "totp_enabled",
        "webauthn_enabled",
        "require_2fa",
        "summary_email_enabled",
        "managed_flocks",
        "watched_flocks",
        "created",
    ],
}
CURSORS = {
    "type": "object",
    "properties": {"next": NULLABLE_STRING, "prev": NULLABLE_STRING},
    "required": ["next", "prev"],
}
ESTIMATED_ABOVE = (
    "Exact up to 10,000; above that the database planner's estimate (the set is never "
    "counted whole)."
)
PAGE = {
    "cursor": CURSORS,
    "page_count": {"type": "integer", "description": ESTIMATED_ABOVE},
    "page_number": {
        "type": "integer",
        "description": "Exact while at most 10,000 rows precede the page, else an estimate.",
    },
}
USER_PAGE = {
    "users": {"type": "array", "items": USER},
    **PAGE,
    "total": {"type": "integer", "description": ESTIMATED_ABOVE},
}
AUDIT_ENTRY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "action_type": {"type": "string"},
        "message": {"type": "string"},
        "timestamp": {"type": "string"},
        "user": NULLABLE_STRING,
        "target": NULLABLE_STRING,
        "user_ip": NULLABLE_STRING,
        "user_browser_agent": {"type": "string"},
        "flock_id": NULLABLE_STRING,
        "additional_information": {"type": "object", "nullable": True},
    },
    "required": ["id", "action_type", "message", "timestamp", "user", "target", "flock_id"],
}


class ActionSchema(AutoSchema):
    """An operation is described by its action's own docstring: the first line is its summary
    (the one line Swagger UI shows beside the path), the rest its description. A viewset's
    docstring (or its base class's) says what the code does, not what each operation does."""

    def _action_doc(self) -> str:
        return get_doc(
            getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        )

    def get_summary(self) -> str | None:
        return self._action_doc().partition("\n")[0].strip() or None

    def get_description(self) -> str:
        return self._action_doc().partition("\n")[2].strip()

    def _is_list_view(self, serializer=None) -> bool:
        """No reply of these APIs is a bare JSON array: v2's ``list`` action answers
        ``{"users": […]}``, which drf-spectacular would otherwise wrap in one."""
        return False


class V1TokenScheme(OpenApiAuthenticationExtension):
    """The v1 token: X-Canary-Auth-Token header or auth_token (query string or form body)."""

    target_class = "portal.api.authentication.V1TokenAuthentication"
    name = ["v1TokenHeader", "v1TokenQuery"]

    def get_security_requirement(self, auto_schema) -> list[dict]:
        return [{name: []} for name in self.name]  # either one

    def get_security_definition(self, auto_schema) -> list[dict]:
        return [
            {"type": "apiKey", "in": "header", "name": "X-Canary-Auth-Token"},
            {
                "type": "apiKey",
                "in": "query",
                "name": "auth_token",
                "description": "May also be sent as auth_token in the form body.",
            },
        ]


class V2Scheme(OpenApiAuthenticationExtension):
    """v2: HTTP Basic (user name and password, or user name and API token) or a Bearer API token."""

    target_class = "portal.api.authentication.V2Authentication"
    name = ["v2Basic", "v2Bearer"]

    def get_security_requirement(self, auto_schema) -> list[dict]:
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema) -> list[dict]:
        return [
            {
                "type": "http",
                "scheme": "basic",
                "description": "User name (or e-mail) and API token; or password, for users no "
                "second factor protects (a user with a second factor, or required to have one, "
                "must use the token).",
            },
            {"type": "http", "scheme": "bearer"},
        ]


V2_USER = {
    "type": "object",
    "properties": {
        "user_name": {"type": "string"},
        "password": {**NULLABLE_STRING, "description": "bcrypt hash ($2b$…), null when unset"},
        "token": {
            **NULLABLE_STRING,
            "description": "bcrypt hash of the API token, null when unset",
        },
    },
    "required": ["user_name", "password", "token"],
}
V2_REFUSED = {
    "oneOf": [
        {
            "type": "object",
            "properties": {"user_exists": {"type": "boolean"}},
            "required": ["user_exists"],
        },
        V2_ERROR,
    ]
}
V2_DESCRIPTION = 'Admin-only JSON view that answers the contract\'s 403 ``{"user_exists": …}``.'
V2_ERRORS = {
    403: "{user_exists: true} for a taken user name, {user_exists: false} for an unknown one, or "
    "{message} when the credentials' owner is not an active admin, must enrol a second factor "
    "first, or asks to set or refresh another admin's credentials",
    404: "no such path (a user name cannot contain '/')",
    409: "the token is already another user's",
}
USER_NAME = OpenApiParameter(
    "user_name",
    location=OpenApiParameter.PATH,
    description="User name (letters, digits and @ . + - _).",
)


def v2_schema(success: dict, errors: Sequence[int] = (), request: dict | None = None) -> dict:
    """``extend_schema`` arguments for a v2 user operation (JSON in, JSON out)."""
    responses = {
        200: success,
        **error_responses(V2_ERROR, [*COMMON_ERRORS, 404, *errors], V2_ERRORS),
    }
    responses[403] = OpenApiResponse(V2_REFUSED, description=V2_ERRORS[403])
    arguments = {"tags": ["v2"], "description": V2_DESCRIPTION, "responses": responses}
    if request is not None:
        arguments["request"] = {"application/json": request}
    return arguments


# A token the client chooses must be at least this long (the portal's own have 43 characters).
CLIENT_TOKEN_MIN_LENGTH = 20


def v2_credentials(*required: str) -> dict:
    """A JSON body of credential fields (strings; no other field allowed)."""
    secret = {"type": "string", "minLength": 1, "maxLength": 72}
    token = {
        **secret,
        "minLength": CLIENT_TOKEN_MIN_LENGTH,
        "description": f"API token of the client's choice: at least {CLIENT_TOKEN_MIN_LENGTH} "
        "characters, "
        "at most 72 bytes in UTF-8.",
    }
    body = {
        "type": "object",
        "properties": {"password": secret, "token": token},
        "additionalProperties": False,
    }
    if required:
        body["required"] = list(required)
    return body
