"""Enrolment on the Security page: TOTP with a QR code, recovery codes, removal behind a fresh
check."""

from __future__ import annotations

import time

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD, fresh_totp_code, shown_codes, totp_code

from users.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann_client(client, ann):
    assert client.post("/login/", {"login": "ann", "password": PASSWORD}).status_code == 302
    return client


def enrol_totp(client) -> TOTPDevice:
    page = client.get("/account/security/totp/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user__username="ann", confirmed=False)
    response = client.post("/account/security/totp/", {"code": totp_code(device)})
    assert response.status_code == 302, response.content
    device.refresh_from_db()
    return device


def make_stale(client) -> None:
    session = client.session
    session["twofactor_checked_at"] = time.time() - 3600
    session.save()


def test_security_page_needs_a_session(client):
    assert client.get("/account/security/").url == "/login/?next=/account/security/"


def test_totp_enrolment_shows_qr_and_secret_and_needs_a_valid_code(ann_client, ann):
    page = ann_client.get("/account/security/totp/").content.decode()
    device = TOTPDevice.objects.get(user=ann)
    assert "<svg" in page and "<script" not in page.split("</header>")[1].split("<main")[0]
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0]
    assert len(secret.replace(" ", "")) == 32
    # Reloading keeps the same secret until it is confirmed.
    ann_client.get("/account/security/totp/")
    assert TOTPDevice.objects.filter(user=ann).count() == 1

    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = ann_client.post("/account/security/totp/", {"code": wrong})
    assert response.status_code == 200 and "That code is not valid" in response.content.decode()
    assert not TOTPDevice.objects.get(user=ann).confirmed


def test_first_enrolment_confirms_and_shows_recovery_codes_once(ann_client, ann, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = enrol_totp(ann_client)
    assert device.confirmed
    response = ann_client.get("/account/security/recovery-codes/")
    assert len(shown_codes(response)) == 10
    assert ann_client.get("/account/security/recovery-codes/").url == "/account/security/"
    assert StaticDevice.objects.get(user=ann).token_set.count() == 10
    assert {"user_2fa_enable", "user_recovery_codes_generate"} <= set(
        AuditEntry.objects.values_list("action_type", flat=True)
    )
    assert ann_client.session["twofactor_verified"] == "authenticator app"


def test_re_enrolment_replaces_the_old_app_only_when_confirmed(ann_client, ann, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    old = enrol_totp(ann_client)
    ann_client.get("/account/security/totp/")
    new = TOTPDevice.objects.get(user=ann, confirmed=False)
    assert (
        TOTPDevice.objects.filter(user=ann, confirmed=True).get() == old
    )  # still the one that counts
    ann_client.post("/account/security/totp/", {"code": "123"})
    assert TOTPDevice.objects.filter(user=ann, confirmed=True).get() == old
    ann_client.post("/account/security/totp/", {"code": fresh_totp_code(new)})
    assert list(TOTPDevice.objects.filter(user=ann)) == [
        TOTPDevice.objects.get(pk=new.pk, confirmed=True)
    ]
    assert StaticDevice.objects.get(user=ann).token_set.count() == 10  # codes kept, not regenerated


def test_removal_asks_for_a_fresh_check_first(ann_client, ann, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = enrol_totp(ann_client)
    make_stale(ann_client)
    response = ann_client.get("/account/security/totp/remove/")
    assert response.url == "/account/reauth/?next=/account/security/totp/remove/"
    assert ann_client.post("/account/security/totp/remove/").url.startswith("/account/reauth/")
    assert TOTPDevice.objects.filter(user=ann).exists()

    page = ann_client.get(response.url)
    assert page.status_code == 200 and "Confirm with password" in page.content.decode()
    back = ann_client.post(
        response.url,
        {
            "action": "code",
            "code": fresh_totp_code(device),
            "next": "/account/security/totp/remove/",
        },
    )
    assert back.url == "/account/security/totp/remove/"
    assert ann_client.post("/account/security/totp/remove/").url == "/account/security/"
    assert not TOTPDevice.objects.filter(user=ann).exists()
    assert not StaticDevice.objects.filter(user=ann).exists()  # codes go with the last factor


def test_reauth_with_a_wrong_password_changes_nothing(ann_client, ann):
    make_stale(ann_client)
    response = ann_client.post("/account/reauth/", {"action": "password", "password": "nope"})
    assert response.status_code == 200 and "That password is not right" in response.content.decode()
    assert ann_client.get("/account/security/password/").status_code == 302
    ann_client.post("/account/reauth/", {"action": "password", "password": PASSWORD})
    assert ann_client.get("/account/security/password/").status_code == 200


def test_password_change_ends_other_sessions(ann_client, ann):
    other = Client()
    other.post("/login/", {"login": "ann", "password": PASSWORD})
    assert other.get("/account/security/").status_code == 200
    response = ann_client.post(
        "/account/security/password/", {"new_password1": "x", "new_password2": "x"}
    )
    assert response.status_code == 200 and "too short" in response.content.decode()
    response = ann_client.post(
        "/account/security/password/",
        {"new_password1": "another quiet river 42", "new_password2": "another quiet river 42"},
    )
    assert response.url == "/account/security/"
    assert ann_client.get("/account/security/").status_code == 200
    assert other.get("/account/security/").status_code == 302
    assert AuditEntry.objects.filter(action_type="user_credentials_change").exists()


def test_recovery_codes_can_be_regenerated(ann_client, ann, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    enrol_totp(ann_client)
    ann_client.get("/account/security/recovery-codes/")
    before = set(StaticDevice.objects.get(user=ann).token_set.values_list("token", flat=True))
    assert (
        ann_client.post("/account/security/recovery-codes/new/").url
        == "/account/security/recovery-codes/"
    )
    after = set(StaticDevice.objects.get(user=ann).token_set.values_list("token", flat=True))
    assert len(after) == 10 and not before & after


def test_reset_2fa_command_removes_factors_and_lockout(ann, settings, client):
    settings.AXES_FAILURE_LIMIT = 1
    TOTPDevice.objects.create(user=ann, confirmed=True)
    client.post("/login/", {"login": "ann", "password": "nope"})
    assert client.post("/login/", {"login": "ann", "password": PASSWORD}).status_code == 429
    call_command("reset_2fa", "ann@example.com")
    assert not TOTPDevice.objects.filter(user=ann).exists()
    assert AuditEntry.objects.filter(
        action_type="user_2fa_disable", actor_label="manage.py reset_2fa"
    ).exists()
    response = client.post("/login/", {"login": "ann", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    with pytest.raises(CommandError, match="No user"):
        call_command("reset_2fa", "nobody")
