"""Sessions really end (F17): disabling a user, resetting their factors and a new password end
every session they have, for good, through a session generation checked against the row on
every request; the user's own password change keeps the session it was made from."""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urlparse

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client, TestCase
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import NEW_PASSWORD, PASSWORD, assert_sent_to_login, fresh_totp_code, signed_in

from users.models import WebAuthnCredential

pytestmark = pytest.mark.django_db

SECURITY = "/account/security/"
CACHED = "default"  # a cache that keeps the session (the sessions alias keeps none on SQLite)


@pytest.fixture
def ann_totp(ann) -> TOTPDevice:
    return TOTPDevice.objects.create(user=ann, name="app", confirmed=True)


def session_of(login: str, password: str = PASSWORD, device: TOTPDevice | None = None) -> Client:
    """A browser signed in through the sign-in page (and the code step when there is a device)."""
    browser = Client()
    response = browser.post("/login/", {"login": login, "password": password})
    if device is not None:
        assert response.url == "/login/verify/"
        response = browser.post(
            "/login/verify/", {"action": "code", "code": fresh_totp_code(device)}
        )
    assert (response.status_code, response.url) == (302, "/")
    assert browser.get(SECURITY).status_code == 200
    return browser


def assert_signed_out(browser: Client) -> None:
    assert_sent_to_login(browser.get(SECURITY), SECURITY)
    assert SESSION_KEY not in browser.session


def ok(response, msg: str | None = None) -> None:
    body = {"result": "success"} | ({"msg": msg} if msg else {})
    assert (response.status_code, response.json()) == (200, body)


@pytest.mark.parametrize("alias", ["sessions", CACHED])
def test_disable_then_enable_brings_no_old_session_back(settings, v1, ann, alias):
    settings.SESSION_CACHE_ALIAS = alias
    a = session_of("ann@example.com")
    ok(
        v1.post("user/disable", email="ann@example.com"),
        "User (ann@example.com) successfully disabled.",
    )
    ok(
        v1.post("user/enable", email="ann@example.com"),
        "User (ann@example.com) successfully enabled.",
    )
    if alias == CACHED:  # the cached copy is still there, signed in: the row refuses it
        assert a.session[SESSION_KEY] == str(ann.pk)
    assert_signed_out(a)
    assert session_of("ann@example.com").get(SECURITY).status_code == 200  # a new sign-in works


def test_disable_from_the_page_ends_the_sessions_too(admin, ann):
    a = session_of("ann@example.com")
    staff = signed_in(admin, checked_now=True)
    for active in ("0", "1"):
        response = staff.post(reverse("user_active", args=[ann.pk]), {"active": active})
        assert (response.status_code, response.url) == (302, reverse("user_detail", args=[ann.pk]))
    assert_signed_out(a)
    assert (
        staff.get(reverse("user_detail", args=[ann.pk])).status_code == 200
    )  # the admin's own session stays


def test_enabling_an_enabled_user_ends_nothing(v1, ann):
    a = session_of("ann@example.com")
    ok(
        v1.post("user/enable", email="ann@example.com"),
        "User (ann@example.com) successfully enabled.",
    )
    assert a.get(SECURITY).status_code == 200


FACTORS_RESET_MAIL = """Hello ann@example.com,

An administrator reset the second factors of your portal account, removing {removed}.

You were signed out everywhere. Sign in at http://testserver/login/ with your password \
and set up a second factor again.

If you did not ask for this, tell your administrators at once.
"""


@pytest.mark.parametrize(
    ("endpoint", "msg", "removed"),
    [
        (
            "user/2fa/disable",
            "Successfully disabled two-factor authentication for user ann@example.com",
            "the authenticator app",
        ),
        ("user/webauthn/disable", None, 'the security key "Blue & <Red>"'),
    ],
)
def test_an_admin_factor_reset_ends_every_session_and_tells_the_user(
    settings, v1, ann, ann_totp, endpoint, msg, removed, sent_mail
):
    settings.PORTAL_BASE_URL = "http://testserver"
    WebAuthnCredential.objects.create(
        user=ann, name="Blue & <Red>", credential_id="c", public_key=b"k"
    )
    a, b = (
        session_of("ann@example.com", device=ann_totp),
        session_of("ann@example.com", device=ann_totp),
    )
    ok(v1.post(endpoint, email="ann@example.com"), msg)
    assert_signed_out(a)
    assert_signed_out(b)
    assert [(m.to, m.subject, m.body) for m in sent_mail()] == [
        (
            ["ann@example.com"],
            "Your portal second factors were reset",
            FACTORS_RESET_MAIL.format(removed=removed),
        )
    ]


def test_a_page_factor_reset_ends_sessions(admin, ann, ann_totp, sent_mail):
    a = session_of("ann@example.com", device=ann_totp)
    staff = signed_in(admin, checked_now=True)
    response = staff.post(reverse("user_reset_totp", args=[ann.pk]))
    assert (response.status_code, response.url) == (302, reverse("user_detail", args=[ann.pk]))
    assert_signed_out(a)
    assert [m.to for m in sent_mail()] == [["ann@example.com"]]


def test_the_reset_command_ends_sessions_and_sends_one_mail(ann, ann_totp, sent_mail):
    WebAuthnCredential.objects.create(user=ann, name="Blue key", credential_id="c", public_key=b"k")
    a = session_of("ann@example.com", device=ann_totp)
    call_command("reset_2fa", "ann@example.com", stdout=StringIO())
    assert_signed_out(a)
    [sent] = sent_mail()
    assert 'removing the authenticator app, the security key "Blue key".\n' in sent.body


def test_an_admin_reset_of_nothing_still_ends_sessions_but_sends_no_mail(v1, ann, sent_mail):
    a = session_of("ann@example.com")
    ok(
        v1.post("user/2fa/disable", email="ann@example.com"),
        "Successfully disabled two-factor authentication for user ann@example.com",
    )
    assert_signed_out(a)
    assert sent_mail() == []


def test_removing_your_own_factor_keeps_your_session(ann, ann_totp, sent_mail):
    a, b = (
        session_of("ann@example.com", device=ann_totp),
        session_of("ann@example.com", device=ann_totp),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = a.post("/account/security/totp/remove/")
    assert (response.status_code, response.url) == (302, SECURITY)
    assert not TOTPDevice.objects.filter(user=ann).exists()
    assert a.get(SECURITY).status_code == 200
    assert b.get(SECURITY).status_code == 200
    assert sent_mail() == []


def test_your_own_password_change_keeps_this_session_and_ends_the_others(ann):
    a, b = session_of("ann@example.com"), session_of("ann@example.com")
    response = a.post(
        SECURITY + "password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert (response.status_code, response.url) == (302, SECURITY)
    assert a.get(SECURITY).status_code == 200
    assert_signed_out(b)
    session_of("ann@example.com", NEW_PASSWORD)


def test_a_reset_mail_ends_nothing_the_new_password_ends_everything(v1, client, ann, sent_mail):
    a = session_of("ann@example.com")
    ok(
        v1.post("user/password/reset", email="ann@example.com"),
        "Password reset email sent to ann@example.com",
    )
    assert a.get(SECURITY).status_code == 200  # only a mail was sent
    link = urlparse(
        re.search(r"https?://\S+/accounts/reset/\S+/", sent_mail()[0].body).group(0)
    ).path
    form_path = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(
        form_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert (response.status_code, response.url) == (302, "/accounts/reset/done/")
    assert_signed_out(a)
    session_of("ann@example.com", NEW_PASSWORD)


def test_a_password_only_session_ends_when_the_user_sets_up_a_factor(ann, settings):
    """Whoever signed in with the password alone before the factor existed loses the session
    (and with it the page to mint a token or swap the app); the session that enrolled stays."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    intruder, owner = session_of("ann@example.com"), session_of("ann@example.com")
    owner.get(SECURITY + "totp/")
    device = TOTPDevice.objects.get(user=ann, confirmed=False)
    response = owner.post(SECURITY + "totp/", {"code": fresh_totp_code(device)})
    assert (response.status_code, response.url) == (302, SECURITY + "recovery-codes/")
    assert owner.get(SECURITY).status_code == 200
    assert_signed_out(intruder)
    assert_sent_to_login(intruder.post(f"/users/{ann.pk}/token/"), f"/users/{ann.pk}/token/")


def test_replacing_the_app_ends_the_other_sessions_too(ann, ann_totp, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    other, owner = (
        session_of("ann@example.com", device=ann_totp),
        session_of("ann@example.com", device=ann_totp),
    )
    owner.get(SECURITY + "totp/")
    device = TOTPDevice.objects.get(user=ann, confirmed=False)
    assert owner.post(SECURITY + "totp/", {"code": fresh_totp_code(device)}).status_code == 302
    assert owner.get(SECURITY).status_code == 200
    assert_signed_out(other)
