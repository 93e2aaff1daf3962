"""Shared fixtures: real users with real (cheap-cost) bcrypt hashes and real API tokens."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client, TestCase

from users import services
from users.audit import Actor
from users.models import AccessLevel, User

ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _cheap_bcrypt_and_clean_cache(settings):
    """bcrypt at cost 4 keeps the suite fast; the hashes are still real bcrypt."""
    settings.BCRYPT_ROUNDS = 4
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def system() -> Actor:
    return Actor.system("tests")


@pytest.fixture
def admin(db) -> User:
    return User.objects.create_superuser(username="admin", email="admin@example.com", password=ADMIN_PASSWORD)


@pytest.fixture
def admin_token(admin, system) -> str:
    return services.issue_api_token(system, admin)


@pytest.fixture
def make_user(db, system):
    def make(email: str, access_level: str = AccessLevel.USER, **kwargs) -> User:
        return services.add_user(system, email=email, access_level=access_level, send_welcome_mail=False, **kwargs)

    return make


class V1Client:
    """Sends v1 requests the way canarytools does: auth_token in the query string, form bodies."""

    def __init__(self, client: Client, token: str) -> None:
        self.client, self.token = client, token

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1/{path}", {"auth_token": self.token, **params})

    def post(self, path: str, **params):
        with TestCase.captureOnCommitCallbacks(execute=True):  # mails go out on commit
            return self.client.post(f"/api/v1/{path}?auth_token={self.token}", params)

    def delete(self, path: str, **params):
        return self.client.delete(
            f"/api/v1/{path}?auth_token={self.token}",
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
        )


@pytest.fixture
def v1(client, admin_token) -> V1Client:
    return V1Client(client, admin_token)
