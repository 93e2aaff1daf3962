"""Lifting a sign-in lock-out: an audited service, a button on the user's page behind the recent
check, and ``manage.py reset_2fa`` (which also removes the factors)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD, basic, call, signed_in

from users import lockouts
from users.models import AuditEntry, User

pytestmark = pytest.mark.django_db

LOCKED_FROM = "10.0.9.1"


@pytest.fixture
def locked_ann(admin_ann, client, settings) -> User:
    """Ann's pair locked at one address, and her account over its budget everywhere."""
    settings.AXES_FAILURE_LIMIT, settings.AUTH_ACCOUNT_FAILURE_LIMIT = 2, 3
    for n in range(2):
        Client(REMOTE_ADDR=LOCKED_FROM).post(
            "/login/", {"login": "ann@example.com", "password": f"guess {n}"}
        )
    call(client, "GET", "users", auth=basic("ann@example.com", "guess 2"), remote_addr="10.0.9.2")
    assert signs_in(LOCKED_FROM) == 429 and signs_in("10.0.9.3") == 429
    return admin_ann


def signs_in(ip: str) -> int:
    return (
        Client(REMOTE_ADDR=ip)
        .post("/login/", {"login": "ann@example.com", "password": PASSWORD})
        .status_code
    )


def url(user: User) -> str:
    return reverse("user_lift_lockout", args=[user.pk])


def test_an_admin_lifts_a_lock_out_from_the_users_page(client, admin, locked_ann):
    browser = signed_in(admin, checked_now=True)
    detail = browser.get(reverse("user_detail", args=[locked_ann.pk])).content.decode()
    assert f'href="{url(locked_ann)}"' in detail and "Lift sign-in lock-out…" in detail
    confirm = browser.get(url(locked_ann))
    assert (
        confirm.status_code == 200
        and "Lift the sign-in lock-out of ann@example.com?" in confirm.content.decode()
    )
    response = browser.post(url(locked_ann), follow=True)
    assert response.redirect_chain == [(reverse("user_detail", args=[locked_ann.pk]), 302)]
    assert (
        "Lifted the sign-in lock-out of ann@example.com (2 records cleared)."
        in response.content.decode()
    )
    assert not AccessAttempt.objects.exists()
    assert signs_in(LOCKED_FROM) == 302  # the pair
    assert (
        call(
            client, "GET", "users", auth=basic("ann@example.com", PASSWORD), remote_addr="10.0.9.4"
        ).status_code
        == 200
    )
    entry = AuditEntry.objects.get(action_type="user_lockout_lift")
    assert (entry.actor_id, entry.target_label) == (admin.pk, "ann@example.com")
    assert entry.message == "Sign-in lock-out of ann@example.com lifted"
    assert entry.additional_information == {
        "removed_attempts": 2
    }  # one per address (pages and API)


def test_lifting_needs_a_recent_check(admin, locked_ann):
    browser = signed_in(admin)  # signed in, but not recently checked
    for response in (browser.get(url(locked_ann)), browser.post(url(locked_ann))):
        assert response.status_code == 302
        assert response.url == f"{reverse('reauth')}?next={url(locked_ann)}"
    assert (
        AccessAttempt.objects.exists()
        and not AuditEntry.objects.filter(action_type="user_lockout_lift").exists()
    )
    assert signs_in(LOCKED_FROM) == 429


def test_only_admins_lift_lock_outs(make_user, locked_ann, system):
    plain = make_user("plain@example.com")
    browser = signed_in(plain, checked_now=True)
    assert browser.post(url(locked_ann)).status_code == 403
    assert browser.get(url(plain)).status_code == 403  # not even their own
    assert (
        "Lift sign-in lock-out"
        not in browser.get(reverse("user_detail", args=[plain.pk])).content.decode()
    )
    assert signs_in(LOCKED_FROM) == 429


def test_lifting_keeps_factors_and_password(admin, locked_ann, system):
    TOTPDevice.objects.create(user=locked_ann, confirmed=True)
    lockouts.lift(system, locked_ann)
    assert TOTPDevice.objects.filter(user=locked_ann).exists()
    response = Client(REMOTE_ADDR=LOCKED_FROM).post(
        "/login/", {"login": "ann@example.com", "password": PASSWORD}
    )
    assert response.url == "/login/verify/"


def test_reset_2fa_still_lifts_the_lock_out(locked_ann):
    TOTPDevice.objects.create(user=locked_ann, confirmed=True)
    call_command("reset_2fa", "ann@example.com")
    assert not TOTPDevice.objects.filter(user=locked_ann).exists()
    assert signs_in(LOCKED_FROM) == 302 and signs_in("10.0.9.5") == 302
    entry = AuditEntry.objects.get(action_type="user_lockout_lift")
    assert entry.actor_label == "manage.py reset_2fa"
