"""Shared fixtures: real users with real (cheap-cost) bcrypt hashes and real API tokens."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client
from helpers import NO_BODY, PASSWORD, TOKEN, V1Client, basic, call, db_state, signed_in

from flocks.models import Flock
from users import services
from users.audit import Actor
from users.models import AccessLevel, User


@pytest.fixture(autouse=True)
def _cheap_bcrypt_and_clean_cache(settings):
    """bcrypt at cost 4 keeps the suite fast; the hashes are still real bcrypt."""
    settings.BCRYPT_ROUNDS = 4
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sent_mail(db) -> Callable[[], list[EmailMessage]]:
    """``sent_mail()`` runs the mail worker once (``send_queued_mail --once``, as production
    does beside the app servers) and returns every mail sent so far in the test."""

    def deliver() -> list[EmailMessage]:
        call_command("send_queued_mail", "--once", stdout=StringIO())
        return mail.outbox

    return deliver


@pytest.fixture
def system() -> Actor:
    return Actor.system("tests")


@pytest.fixture
def admin(db) -> User:
    return User.objects.create_superuser(
        username="admin", email="admin@example.com", password=PASSWORD
    )


@pytest.fixture
def ann(db) -> User:
    """A plain user named ann, with the shared password, a note and no second factor."""
    return User.objects.create_user("ann", "ann@example.com", PASSWORD, note="night shift")


@pytest.fixture
def admin_ann(make_user, system) -> User:
    """An admin made through v1 (named by her e-mail) with the shared password and no second
    factor: both faces, pages and API, take her password."""
    user = make_user("ann@example.com", access_level=AccessLevel.ADMIN)
    return services.update_credentials(system, user, password=PASSWORD)  # as stored now


@pytest.fixture
def rechecked_admin(admin) -> Client:
    """The admin signed in to the pages, having just passed the recent check that sensitive
    changes and every POST in the Django admin ask for."""
    return signed_in(admin, checked_now=True)


@pytest.fixture
def bob(make_user) -> User:
    """A second plain user, made through v1 (named by his e-mail)."""
    return make_user("bob@example.com")


@pytest.fixture
def admin_token(admin, system) -> str:
    return services.issue_api_token(system, admin)


@pytest.fixture
def make_user(db, system):
    def make(email: str, access_level: str = AccessLevel.USER, **kwargs) -> User:
        return services.add_user(
            system, email=email, access_level=access_level, send_welcome_mail=False, **kwargs
        )

    return make


@pytest.fixture
def v1(client, admin_token) -> V1Client:
    return V1Client(client, admin_token)


@pytest.fixture
def refused(db) -> Callable[[Callable[[], HttpResponse], int, str], HttpResponse]:
    """``refused(send, status, message)``: the call fails with exactly that v1 error and changes
    nothing."""

    def check(send: Callable[[], HttpResponse], status: int, message: str) -> HttpResponse:
        before = db_state()
        response = send()
        assert (response.status_code, response.json()) == (
            status,
            {"result": "error", "message": message},
        )
        assert db_state() == before
        return response

    return check


@pytest.fixture
def flock(db) -> Flock:
    return Flock.objects.create(name="Cape Town", note="Office")


@pytest.fixture
def as_admin(client, admin):
    """Call the v2 API as the admin with HTTP Basic."""

    def send(method: str, path: str, body=NO_BODY, **headers):
        return call(client, method, path, body, auth=basic("admin", PASSWORD), **headers)

    return send


@pytest.fixture
def named(db, system):
    def make(name: str = "bob", password: str = PASSWORD, token: str | None = TOKEN) -> User:
        return services.create_named_user(system, username=name, password=password, token=token)

    return make


@pytest.fixture
def named_bob(system) -> User:
    """bob made through v2 by user name, with the shared password and a token of his choice."""
    return services.create_named_user(
        system, username="bob", password=PASSWORD, token="bobs-token-of-twenty-chars"
    )
