"""v1 contract, every refusal of the user endpoints: status, exact message, nothing changed."""

import pytest
from helpers import ok

from users.models import AccessLevel

pytestmark = pytest.mark.django_db


ADMIN = "admin@example.com"
LONG_EMAIL = (
    "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + ".com"
)  # valid, but longer than a user name may be
X = {"email": "x@example.com", "access_level": "user"}
UNKNOWN = "User (ghost@example.com) does not exist."
BAD_EMAIL = "Invalid email address in email: 'not-an-email'"
BAD_BOOL = "Invalid boolean for {}: use true or false"
LAST_ADMIN = "Cannot {} the last active admin."
BAD_LEVEL = "Invalid access_level: must be 'admin' or 'user'"

USER_ENDPOINTS = [
    ("post", "user/note/add", {"note": "x"}),
    ("delete", "user/note/delete", {}),
    ("post", "user/edit", {"note": "x"}),
    ("post", "user/edit/access_level", {"access_level": "admin"}),
    ("post", "user/disable", {}),
    ("post", "user/enable", {}),
    ("post", "user/remove", {}),
    ("post", "user/2fa/disable", {}),
    ("post", "user/webauthn/disable", {}),
    ("post", "user/password/reset", {}),
    ("post", "user/summary_email/enable", {}),
    ("post", "user/summary_email/disable", {}),
    ("get", "user/get", {}),
    ("get", "user/auth", {}),
]
ENDPOINT_IDS = [path for _, path, _ in USER_ENDPOINTS]


@pytest.mark.parametrize(("method", "path", "params"), USER_ENDPOINTS, ids=ENDPOINT_IDS)
def test_user_endpoints_refuse_unknown_missing_and_invalid_emails(
    v1, ann, refused, method, path, params
):
    refused(lambda: v1.send(method, path, email="ghost@example.com", **params), 404, UNKNOWN)
    refused(lambda: v1.send(method, path, **params), 400, "Missing parameter: email")
    refused(lambda: v1.send(method, path, email="", **params), 400, "Missing parameter: email")
    refused(lambda: v1.send(method, path, email="not-an-email", **params), 400, BAD_EMAIL)


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "message"),
    [
        ("post", "user/add", {"access_level": "user"}, 400, "Missing parameter: email"),
        ("post", "user/add", {"email": "x@example.com"}, 400, "Missing parameter: access_level"),
        ("post", "user/add", {"email": "not-an-email", "access_level": "user"}, 400, BAD_EMAIL),
        (
            "post",
            "user/add",
            {**X, "email": "a@b@x.com"},
            400,
            "Invalid email address in email: 'a@b@x.com'",
        ),
        ("post", "user/add", {"email": "x@example.com", "access_level": "root"}, 400, BAD_LEVEL),
        ("post", "user/add", {"email": "x@example.com", "access_level": "Admin"}, 400, BAD_LEVEL),
        (
            "post",
            "user/add",
            {**X, "send_welcome_mail": "maybe"},
            400,
            BAD_BOOL.format("send_welcome_mail"),
        ),
        ("post", "user/add", {**X, "totp_enabled": "2"}, 400, BAD_BOOL.format("totp_enabled")),
        (
            "post",
            "user/add",
            {**X, "note": "a\x00b"},
            400,
            "Invalid note: must not contain NUL characters",
        ),
        (
            "post",
            "user/add",
            {**X, "email": LONG_EMAIL},
            400,
            "email longer than maximum (150 characters).",
        ),
        (
            "post",
            "user/add",
            {**X, "email": "ANN@example.com"},
            409,
            "User (ann@example.com) already exists.",
        ),
        ("post", "user/note/add", {"email": "ann@example.com"}, 400, "Missing parameter: note"),
        (
            "post",
            "user/edit/access_level",
            {"email": "ann@example.com"},
            400,
            "Missing parameter: access_level",
        ),
        (
            "post",
            "user/edit/access_level",
            {"email": "ann@example.com", "access_level": "superuser"},
            400,
            BAD_LEVEL,
        ),
        ("post", "user/remove", {"email": ADMIN}, 409, LAST_ADMIN.format("remove")),
        ("post", "user/disable", {"email": ADMIN}, 409, LAST_ADMIN.format("disable")),
        (
            "post",
            "user/edit/access_level",
            {"email": ADMIN, "access_level": "user"},
            409,
            LAST_ADMIN.format("demote"),
        ),
        ("get", "users/filter", {}, 400, "Missing parameter: filter_str"),
        ("get", "users/list", {"limit": "0"}, 400, "limit out of range"),
        ("get", "users/list", {"limit": "many"}, 400, "Invalid integer for limit"),
        ("get", "users/list", {"cursor": "garbage"}, 400, "Invalid cursor"),
    ],
)
def test_user_refusals(v1, ann, refused, method, path, params, status, message):
    refused(lambda: v1.send(method, path, **params), status, message)


def test_last_admin_rule_counts_only_active_admins(v1, make_user, refused):
    other = make_user("boss@example.com", access_level=AccessLevel.ADMIN)
    ok(
        v1.post("user/disable", email=other.email),
        {"msg": f"User ({other.email}) successfully disabled.", "result": "success"},
    )
    refused(
        lambda: v1.post("user/remove", email=ADMIN), 409, "Cannot remove the last active admin."
    )
    ok(
        v1.post("user/remove", email=other.email),
        {"msg": f"User ({other.email}) successfully removed.", "result": "success"},
    )
