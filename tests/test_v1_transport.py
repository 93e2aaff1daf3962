"""v1 transport: where the token may travel, who may use it, and JSON for every reply
under /api/."""

from urllib.parse import urlencode

import pytest
from django.test import Client, RequestFactory

from portal.errors import server_error
from users import services
from users.models import AccessLevel, AuditEntry, User

pytestmark = pytest.mark.django_db

INVALID_TOKEN = {"result": "error", "message": "Invalid auth_token"}
NOT_ADMIN = "Only an active admin may use this API."


def test_token_in_query_string(client, admin_token):
    response = client.get("/api/v1/ping", {"auth_token": admin_token})
    assert (response.status_code, response.json()) == (200, {"result": "success"})


def test_token_in_form_body(client, admin_token):
    response = client.post(
        "/api/v1/user/add",
        {"auth_token": admin_token, "email": "body@example.com", "access_level": "user"},
    )
    assert response.json() == {
        "msg": "User (body@example.com) successfully created.",
        "result": "success",
    }


def test_token_in_header(client, admin_token):
    response = client.get("/api/v1/ping", headers={"X-Canary-Auth-Token": admin_token})
    assert (response.status_code, response.json()) == (200, {"result": "success"})


def test_token_in_delete_body(client, admin_token, make_user):
    make_user("n@example.com", note="old")
    response = client.delete(
        "/api/v1/user/note/delete",
        urlencode({"auth_token": admin_token, "email": "n@example.com"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.json() == {
        "msg": "User (n@example.com) note successfully removed.",
        "result": "success",
    }
    assert User.objects.get(email="n@example.com").note == ""


def test_delete_params_in_query_string(client, admin_token, make_user):
    make_user("n@example.com", note="old")
    response = client.delete(
        f"/api/v1/user/note/delete?auth_token={admin_token}&email=n@example.com"
    )
    assert response.status_code == 200
    assert User.objects.get(email="n@example.com").note == ""


def test_json_body_is_read_too(client, admin_token):
    response = client.post(
        f"/api/v1/user/add?auth_token={admin_token}",
        {"email": "json@example.com", "access_level": "user", "send_welcome_mail": False},
        content_type="application/json",
    )
    assert response.json() == {
        "msg": "User (json@example.com) successfully created.",
        "result": "success",
    }


@pytest.mark.parametrize(
    "query",
    [{}, {"auth_token": ""}, {"auth_token": "not-a-token"}],
    ids=["missing", "empty", "unknown"],
)
def test_missing_or_unknown_token_is_401(client, admin, refused, query):
    response = refused(lambda: client.get("/api/v1/ping", query), 401, "Invalid auth_token")
    assert response["WWW-Authenticate"] == "auth_token"


def test_unknown_token_in_body_is_401(client, admin, refused):
    refused(
        lambda: client.post(
            "/api/v1/user/add",
            {"auth_token": "nope", "email": "x@example.com", "access_level": "user"},
        ),
        401,
        "Invalid auth_token",
    )


def test_bad_header_token_is_unauthorized(client, admin, refused):
    refused(
        lambda: client.get("/api/v1/ping", headers={"X-Canary-Auth-Token": "nope"}),
        401,
        "Unauthorized",
    )


def test_failed_authentication_is_audited(client, admin):
    client.get("/api/v1/ping", {"auth_token": "nope"}, headers={"User-Agent": "probe"})
    entry = AuditEntry.objects.get()
    assert (entry.action_type, entry.user_ip, entry.user_agent) == (
        "api_auth_failed",
        "127.0.0.1",
        "probe",
    )


def test_repeated_failures_are_throttled(client, admin_token, settings):
    settings.AUTH_ADDRESS_FAILURE_LIMIT = 3
    for _ in range(3):
        assert client.get("/api/v1/ping", {"auth_token": "nope"}).status_code == 401
    response = client.get("/api/v1/ping", {"auth_token": "nope again"})
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 0 < wait <= settings.AUTH_FAILURE_WINDOW
    assert response.json() == {
        "result": "error",
        "message": "Too many failed authentication attempts. Try again later. Expected available "
        f"in {wait} seconds.",
    }
    # A token that is someone's costs no budget: a flood of wrong ones cannot lock out its holder.
    assert client.get("/api/v1/ping", {"auth_token": admin_token}).status_code == 200


@pytest.fixture
def user_token(make_user, system) -> str:
    return services.issue_api_token(system, make_user("plain@example.com"))


@pytest.fixture
def disabled_admin_token(make_user, system, admin) -> str:
    other = make_user("other-admin@example.com", access_level=AccessLevel.ADMIN)
    token = services.issue_api_token(system, other)
    services.set_active(system, other, False)
    return token


@pytest.mark.parametrize("token_fixture", ["user_token", "disabled_admin_token"])
def test_token_of_non_admin_or_disabled_admin_is_403(client, refused, request, token_fixture):
    token = request.getfixturevalue(token_fixture)
    refused(lambda: client.get("/api/v1/ping", {"auth_token": token}), 403, NOT_ADMIN)
    refused(
        lambda: client.post(
            f"/api/v1/user/add?auth_token={token}",
            {"email": "x@example.com", "access_level": "user"},
        ),
        403,
        NOT_ADMIN,
    )


def test_demoted_admin_is_refused_on_the_next_request(
    client, admin_token, admin, make_user, system
):
    make_user("second@example.com", access_level=AccessLevel.ADMIN)
    assert client.get("/api/v1/ping", {"auth_token": admin_token}).status_code == 200
    services.set_access_level(system, admin, AccessLevel.USER)
    assert client.get("/api/v1/ping", {"auth_token": admin_token}).status_code == 403


def test_no_csrf_on_token_calls(admin_token):
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(
        f"/api/v1/user/add?auth_token={admin_token}",
        {"email": "c@example.com", "access_level": "user"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/no/such/thing", "/api/v1/ping/", "/api/v1/user/add/"])
def test_unknown_paths_and_trailing_slashes_are_json_404(client, admin_token, path):
    response = client.get(path, {"auth_token": admin_token})
    assert (response.status_code, response.json()) == (
        404,
        {"result": "error", "message": "Not found."},
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("get", "user/add", "POST"), ("post", "ping", "GET"), ("post", "user/note/delete", "DELETE")],
)
def test_wrong_method_is_json_405(client, admin_token, method, path, allowed):
    response = getattr(client, method)(f"/api/v1/{path}?auth_token={admin_token}")
    assert response.status_code == 405
    assert response.json() == {
        "result": "error",
        "message": f'Method "{method.upper()}" not allowed.',
    }
    assert allowed in response["Allow"]


def test_malformed_json_body_is_400(client, admin_token, refused):
    refused(
        lambda: client.post(
            f"/api/v1/user/add?auth_token={admin_token}", "{oops", content_type="application/json"
        ),
        400,
        "Malformed request body: JSON parse error - Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)",
    )


def test_server_fault_under_api_is_json():
    response = server_error(RequestFactory().get("/api/v1/ping"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"result": "error", "message": "Internal server error."}'


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("get", "users/filter", "filter_str"),
        ("get", "flock/note", "flock_id"),
        ("post", "user/note/add", "note"),
    ],
)
def test_nul_characters_are_refused_in_any_parameter(v1, refused, method, path, name):
    params = {
        "filter_str": "x",
        "flock_id": "flock:default",
        "email": "admin@example.com",
        "note": "x",
    }
    params[name] = "a\x00b"
    refused(
        lambda: v1.send(method, path, **params),
        400,
        f"Invalid {name}: must not contain NUL characters",
    )


@pytest.mark.parametrize("debug", [True, False])
def test_a_fault_inside_a_view_is_json_even_with_debug(
    client, admin_token, settings, monkeypatch, debug
):
    settings.DEBUG = debug

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("users.services.set_global_2fa", broken)
    client.raise_request_exception = False
    response = client.post(
        f"/api/v1/settings/usermanagement/globally_enforce_2fa/enable?auth_token={admin_token}"
    )
    assert response.status_code == 500
    assert response.json() == {"result": "error", "message": "Internal server error."}


def test_bare_v1_prefix_answers_in_the_v1_shape(client):
    response = client.get("/api/v1")
    assert response.status_code == 404
    assert response.json() == {"result": "error", "message": "Not found."}
