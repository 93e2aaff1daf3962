"""Shared fixtures: real users with real (cheap-cost) bcrypt hashes and real API tokens."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, TestCase
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from flocks.models import Flock, FlockMembership
from users import services
from users.audit import Actor
from users.models import AccessLevel, AuditEntry, OrgSetting, OutboxMail, User, WebAuthnCredential

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
    return User.objects.create_superuser(username="admin", email="admin@example.com", password=ADMIN_PASSWORD)


@pytest.fixture
def admin_token(admin, system) -> str:
    return services.issue_api_token(system, admin)


@pytest.fixture
def make_user(db, system):
    def make(email: str, access_level: str = AccessLevel.USER, **kwargs) -> User:
        return services.add_user(system, email=email, access_level=access_level, send_welcome_mail=False, **kwargs)

    return make


USER_AGENT = "python-requests/2.32.3"


class V1Client:
    """Sends v1 requests the way canarytools does: auth_token in the query string, form bodies."""

    def __init__(self, client: Client, token: str) -> None:
        self.client, self.token = client, token
        self.headers = {"User-Agent": USER_AGENT}

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1/{path}", {"auth_token": self.token, **params}, headers=self.headers)

    def post(self, path: str, **params):
        with TestCase.captureOnCommitCallbacks(execute=True):  # on-commit work runs as after a real commit
            return self.client.post(f"/api/v1/{path}?auth_token={self.token}", params, headers=self.headers)

    def delete(self, path: str, **params):
        return self.client.delete(
            f"/api/v1/{path}?auth_token={self.token}",
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers=self.headers,
        )

    def send(self, method: str, path: str, **params):
        return getattr(self, method.lower())(path, **params)


@pytest.fixture
def v1(client, admin_token) -> V1Client:
    return V1Client(client, admin_token)


USER_FIELDS = [f.attname for f in User._meta.concrete_fields if f.name != "api_token_last_used"]


def db_state() -> dict:
    """Everything an API call may change, to prove a refused call changed nothing.

    Failed-authentication audit entries are left out: recording them is the point.
    """
    return {
        "users": list(User.objects.order_by("pk").values(*USER_FIELDS)),
        "flocks": list(Flock.objects.order_by("pk").values()),
        "memberships": list(FlockMembership.objects.order_by("pk").values()),
        "org": list(OrgSetting.objects.values()),
        "totp": list(TOTPDevice.objects.values_list("pk", flat=True)),
        "static": list(StaticDevice.objects.values_list("pk", flat=True)),
        "webauthn": list(WebAuthnCredential.objects.values_list("pk", flat=True)),
        "audit": list(AuditEntry.objects.exclude(action_type__startswith="api_auth_").values_list("pk", flat=True)),
        "mails": list(OutboxMail.objects.values_list("pk", flat=True)),
    }


@pytest.fixture
def refused(db) -> Callable[[Callable[[], HttpResponse], int, str], HttpResponse]:
    """``refused(send, status, message)``: the call fails with exactly that v1 error and changes nothing."""

    def check(send: Callable[[], HttpResponse], status: int, message: str) -> HttpResponse:
        before = db_state()
        response = send()
        assert (response.status_code, response.json()) == (status, {"result": "error", "message": message})
        assert db_state() == before
        return response

    return check


@pytest.fixture
def flock(db) -> Flock:
    return Flock.objects.create(name="Cape Town", note="Office")
