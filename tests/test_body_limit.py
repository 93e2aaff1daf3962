"""Oversized or overstuffed API bodies get a JSON 4xx, never a 500, and change nothing."""

import pytest

from users.models import AuditEntry, User

pytestmark = pytest.mark.django_db


def _form(size: int) -> bytes:
    return b"email=big%40example.com&access_level=user&note=" + b"x" * size


def test_body_over_the_limit_is_413_json(client, admin_token, settings):
    settings.API_MAX_BODY_BYTES = 1000
    before = AuditEntry.objects.count()
    response = client.post(
        f"/api/v1/user/add?auth_token={admin_token}",
        _form(1000),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert response.json() == {
        "result": "error",
        "message": "Request body too large: at most 1000 bytes.",
    }
    assert not User.objects.filter(email="big@example.com").exists()
    assert AuditEntry.objects.count() == before


def test_v2_body_over_the_limit_is_413_in_v2_shape(client, settings):
    settings.API_MAX_BODY_BYTES = 10
    response = client.post(
        "/api/v2/users", b'{"user_name": "toolong"}', content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == {"message": "Request body too large: at most 10 bytes."}


def test_body_at_the_limit_is_accepted(client, admin_token, settings):
    body = _form(0)
    settings.API_MAX_BODY_BYTES = len(body)
    response = client.post(
        f"/api/v1/user/add?auth_token={admin_token}",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert User.objects.filter(email="big@example.com").exists()


def test_django_parser_limit_is_413_json_too(client, admin_token, settings):
    """Past the declared-length check, Django's own RequestDataTooBig still answers JSON 413."""
    settings.API_MAX_BODY_BYTES = 10_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post(
        f"/api/v1/user/add?auth_token={admin_token}",
        _form(200),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert response.json()["result"] == "error"
    assert not User.objects.filter(email="big@example.com").exists()


def test_too_many_fields_is_400_json(client, admin_token, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    body = "&".join(f"f{i}=1" for i in range(10)) + "&email=many%40example.com&access_level=user"
    response = client.post(
        f"/api/v1/user/add?auth_token={admin_token}",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.json() == {"result": "error", "message": "Too many parameters: at most 5."}
    assert not User.objects.filter(email="many@example.com").exists()
