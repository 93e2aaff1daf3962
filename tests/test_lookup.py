"""Every face resolves "user name or e-mail" to the same user."""

import pytest
from django.test import RequestFactory
from helpers import PASSWORD

from portal.api.credentials import Client, check_basic
from portal.lib.errors import NotFound
from users.lookup import get_user_by_name_or_email, user_by_name_or_email
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def clash(db) -> tuple[User, User]:
    """One user's e-mail is another user's user name (possible: v2 names are free-form)."""
    by_email = User.objects.create_user("aaa", "zed@example.com", PASSWORD)
    by_name = User.objects.create_user("zed@example.com", None, PASSWORD)
    return by_email, by_name


def test_a_user_name_wins_over_another_users_email(clash):
    _, by_name = clash
    assert user_by_name_or_email("zed@example.com") == by_name
    assert get_user_by_name_or_email(" zed@example.com ") == by_name
    assert (
        check_basic("zed@example.com", PASSWORD, Client.from_request(RequestFactory().get("/")))
        == by_name
    )


def test_an_email_finds_its_user_in_any_case(clash):
    by_email, by_name = clash
    by_name.delete()
    assert user_by_name_or_email("ZED@example.com") == by_email


def test_names_no_user_can_have_find_nobody(db):
    assert user_by_name_or_email("") is None
    assert user_by_name_or_email("a\x00b") is None
    with pytest.raises(NotFound):
        get_user_by_name_or_email("nobody")
