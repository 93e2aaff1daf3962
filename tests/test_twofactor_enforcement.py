"""Enforcement (org-wide or per user), the admin reset through v1, and the Django admin's factor
check."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD, fresh_totp_code, totp_code

from users import services
from users.models import User

pytestmark = pytest.mark.django_db


def sign_in(client: Client, login: str, password: str = PASSWORD):
    return client.post("/login/", {"login": login, "password": password})


def enrol(client: Client, user: User) -> TOTPDevice:
    client.get("/account/security/totp/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/account/security/totp/", {"code": totp_code(device)}).status_code == 302
    return device


def test_org_enforcement_sends_users_without_a_factor_to_enrol(client, ann, system):
    services.set_global_2fa(system, True)
    assert sign_in(client, "ann").status_code == 302
    for path in (
        "/django-admin/",
        "/account/security/password/",
        "/account/security/recovery-codes/new/",
    ):
        assert client.get(path).url == "/account/security/", path
    page = client.get("/account/security/")
    assert page.status_code == 200 and "Two-factor sign-in is required" in page.content.decode()
    assert client.get("/account/security/totp/").status_code == 200
    enrol(client, ann)
    assert client.get("/account/security/password/").status_code == 200
    assert client.post("/logout/").url == "/login/"


def test_sign_out_works_while_enrolment_is_pending(client, ann, system):
    services.set_global_2fa(system, True)
    sign_in(client, "ann")
    assert client.post("/logout/").url == "/login/"
    assert client.get("/account/security/").url.startswith("/login/")


def test_user_added_with_totp_enabled_must_enrol(client, v1):
    v1.post("user/add", email="carl@example.com", access_level="user", totp_enabled="true")
    carl = User.objects.get(email="carl@example.com")
    carl.set_password(PASSWORD)
    carl.save()
    sign_in(client, "carl@example.com")
    assert client.get("/account/security/password/").url == "/account/security/"


def test_enforced_user_cannot_remove_their_last_factor(client, ann, system):
    services.set_global_2fa(system, True)
    sign_in(client, "ann")
    enrol(client, ann)
    response = client.post("/account/security/totp/remove/", follow=True)
    assert "add another factor before removing this one" in response.content.decode()
    assert TOTPDevice.objects.filter(user=ann, confirmed=True).exists()


def test_admin_reset_through_v1_then_enrol_again(ann, admin, v1, system):
    services.set_global_2fa(system, True)
    TOTPDevice.objects.create(
        user=admin, confirmed=True
    )  # under enforcement the admin's token needs a factor
    TOTPDevice.objects.create(user=ann, confirmed=True)
    assert v1.post("user/2fa/disable", email="ann@example.com").json() == {
        "msg": "Successfully disabled two-factor authentication for user ann@example.com",
        "result": "success",
    }
    assert not TOTPDevice.objects.filter(user=ann).exists()
    browser = Client()
    assert (
        sign_in(browser, "ann").url == "/account/security/"
    )  # no factor left: password, then enrolment
    assert browser.get("/account/security/password/").url == "/account/security/"
    enrol(browser, ann)
    assert TOTPDevice.objects.filter(user=ann, confirmed=True).count() == 1


def test_django_admin_needs_a_verified_factor_when_the_admin_has_one(client, admin):
    device = TOTPDevice.objects.create(user=admin, confirmed=True)
    # An admin without a factor (and no enforcement) may use the admin site after the password.
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    sign_in(client, "admin", PASSWORD)
    assert client.get("/django-admin/").status_code == 200
    # Once they have a factor, a session that never passed it is sent to confirm it.
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    response = client.get("/django-admin/")
    assert response.status_code == 302 and response.url.startswith("/django-admin/login/")
    response = client.get(response.url)
    assert response.url == "/account/reauth/?next=/django-admin/"
    client.post(
        response.url, {"action": "password", "password": PASSWORD, "next": "/django-admin/"}
    )
    assert client.get("/django-admin/").status_code == 302  # a password is not a second factor
    client.post(
        "/account/reauth/",
        {"action": "code", "code": fresh_totp_code(device), "next": "/django-admin/"},
    )
    assert client.get("/django-admin/").status_code == 200


def test_django_admin_login_goes_to_the_portal_login(client, ann):
    assert client.get("/django-admin/").url == "/django-admin/login/?next=/django-admin/"
    assert (
        client.get("/django-admin/login/?next=/django-admin/").url == "/login/?next=/django-admin/"
    )
    sign_in(client, "ann")
    assert client.get("/django-admin/login/?next=/django-admin/").status_code == 403


def test_django_admin_password_change_is_the_portals_own(client, admin):
    sign_in(client, "admin", PASSWORD)
    assert client.get("/django-admin/password_change/").url == "/account/security/password/"
