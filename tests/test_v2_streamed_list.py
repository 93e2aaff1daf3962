"""v2 GET /users streams its reply (``portal/api/streaming.py``): the same bytes and headers as
the JSON DRF would render, over several cursor chunks, and a clean error when the database
fails before the first byte."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError, connection
from django.test import Client
from helpers import PASSWORD, basic, call, read_whole
from rest_framework.renderers import JSONRenderer

from portal.api.streaming import CHUNK_ROWS, StreamedJSONList
from users.models import User

pytestmark = pytest.mark.django_db

ODD_NAMES = ["zoë", "łukasz", "日本", "o'neill", 'quote"d', "back\\slash", "line\u2028sep"]


def test_the_streamed_list_is_byte_for_byte_what_drf_renders(as_admin, admin):
    # More names than one chunk, so the reply crosses chunk boundaries.
    User.objects.bulk_create(
        User(username=f"user{n:05d}", email=f"user{n:05d}@example.com")
        for n in range(CHUNK_ROWS + 500)
    )
    response = as_admin("GET", "users")
    names = list(User.objects.order_by("username").values_list("username", flat=True))
    assert response.status_code == 200 and response.streaming
    assert response.streamed_body == JSONRenderer().render({"users": names})
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert len(response.json()["users"]) == CHUNK_ROWS + 501


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 7])
def test_chunks_join_into_the_rendered_list_at_every_boundary(admin, count):
    """Names JSON must escape, in chunks of 2: empty, partial and exact last chunks."""
    User.objects.exclude(pk=admin.pk).delete()
    if not count:
        User.objects.all().delete()
    User.objects.bulk_create(User(username=name) for name in ODD_NAMES[:count])
    values = User.objects.order_by("username").values_list("username", flat=True)
    body = StreamedJSONList("users", values, chunk_rows=2)
    streamed = b"".join(body)
    body.close()
    assert streamed == JSONRenderer().render({"users": list(values)})
    assert json.loads(streamed)["users"] == list(values)


@pytest.mark.django_db(transaction=True)  # autocommit, as a request in production
def test_a_database_failure_before_the_first_byte_is_a_clean_503(admin):
    def fail_the_list(execute, sql, params, many, context):
        if "username" in sql and "ORDER BY" in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(fail_the_list):
        response = read_whole(call(client, "GET", "users", auth=basic("admin", PASSWORD)))
    assert not response.streaming
    assert response.status_code == 503
    assert response.json() == {"message": "Service temporarily unavailable. Try again shortly."}
    assert response["Retry-After"] == "5"
    # Nothing was left open: the next request streams the list.
    assert call(client, "GET", "users", auth=basic("admin", PASSWORD)).json() == {
        "users": ["admin"]
    }
