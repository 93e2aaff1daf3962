"""State-changing v2 requests must be JSON, answered in the documented order (F16)."""

from __future__ import annotations

import pytest
from helpers import INVALID, NO_BODY, PASSWORD, basic, call, db_state

from users import services

pytestmark = pytest.mark.django_db


STATE_CHANGING = [
    ("POST", "users/carol", {"password": PASSWORD}),
    ("DELETE", "users/bob", NO_BODY),
    ("PUT", "users/bob/update", {"password": "another long passphrase"}),
    ("POST", "users/bob/refresh", NO_BODY),
]
NOT_JSON = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
]


@pytest.mark.parametrize(("method", "path", "body"), STATE_CHANGING)
@pytest.mark.parametrize("content_type", NOT_JSON)
def test_a_state_changing_request_not_sent_as_json_is_415_even_without_a_body(
    client, admin, named_bob, method, path, body, content_type
):
    before = db_state()
    response = call(
        client, method, path, NO_BODY, auth=basic("admin", PASSWORD), content_type=content_type
    )
    media_type = content_type.partition(";")[0] or "none"
    assert (response.status_code, response.json()) == (
        415,
        {"message": f'Unsupported media type "{media_type}" in request.'},
    )
    assert db_state() == before


def test_a_cross_site_form_cannot_rotate_a_token(client, admin, named_bob):
    before = named_bob.api_token_hash
    response = call(
        client,
        "POST",
        "users/bob/refresh",
        b"",
        auth=basic("admin", PASSWORD),
        content_type="application/x-www-form-urlencoded",
        Origin="https://evil.example",
    )
    assert response.status_code == 415
    named_bob.refresh_from_db()
    assert named_bob.api_token_hash == before


def test_json_with_a_charset_is_json(client, admin, named_bob):
    response = call(
        client,
        "POST",
        "users/bob/refresh",
        auth=basic("admin", PASSWORD),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200


def test_the_order_of_v2_answers(client, admin, named_bob, make_user, system):
    services.update_credentials(system, make_user("plain@example.com"), password=PASSWORD)
    admin_auth, plain_auth = basic("admin", PASSWORD), basic("plain@example.com", PASSWORD)
    text = {"content_type": "text/plain"}
    # 401 credentials, before anything else
    response = call(
        client, "PUT", "users/ghost/update", b"not json", auth=basic("admin", "wrong"), **text
    )
    assert (response.status_code, response.json()) == (401, INVALID)
    # 403 not an admin, before the content type
    response = call(client, "PUT", "users/ghost/update", b"not json", auth=plain_auth, **text)
    assert (response.status_code, response.json()) == (
        403,
        {"message": "Only an active admin may use this API."},
    )
    # 415 content type, before whether the user exists
    response = call(client, "PUT", "users/ghost/update", b"not json", auth=admin_auth, **text)
    assert response.status_code == 415
    # 403 user_exists, before the body
    for method, path in (
        ("PUT", "users/ghost/update"),
        ("POST", "users/ghost/refresh"),
        ("POST", "users/bob"),
    ):
        response = call(client, method, path, {"bad": "field"}, auth=admin_auth)
        assert (response.status_code, response.json()) == (
            403,
            {"user_exists": path == "users/bob"},
        ), path
    # 400 body last
    response = call(client, "PUT", "users/bob/update", {"bad": "field"}, auth=admin_auth)
    assert (response.status_code, response.json()) == (400, {"message": "Unknown field(s): bad"})
