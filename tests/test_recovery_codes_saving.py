"""Recovery codes that can be saved: the page that shows them once offers copy, download and print
(all in the browser: tests/browser/test_recovery_browser.py), and a sign-in with a recovery code
says how many are left."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from helpers import PASSWORD, shown_codes, totp_code

from users.twofactor import recovery
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db

PAGE = "/account/security/recovery-codes/"


@pytest.fixture
def enrolled(client, ann, settings):
    """Ann signs in, sets up her app in the page and is sent to her new codes."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client.post("/login/", {"login": "ann", "password": PASSWORD})
    client.get("/account/security/totp/")
    device = EncryptedTOTPDevice.objects.get(user=ann, confirmed=False)
    response = client.post("/account/security/totp/", {"code": totp_code(device)})
    assert response.url == PAGE
    return client


def attribute(html: str, name: str) -> str:
    return re.search(rf'{name}="([^"]*)"', html).group(1)


def test_the_codes_page_offers_copy_download_and_print_and_names_the_file(enrolled, settings):
    response = enrolled.get(PAGE)
    html = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    codes = shown_codes(response)
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    assert attribute(html, "data-filename") == "portal-recovery-codes-ann.txt"
    title = attribute(html, "data-title")
    assert title.startswith(
        f"Portal ({settings.PORTAL_BASE_URL}): recovery codes of ann@example.com"
    )
    for button in ('data-copy="recovery-codes"', "data-download", "data-print"):
        assert button in html
    assert 'id="recovery-codes"' in html and "I have saved them" in html
    # The buttons and the wait for them come from static files (CSP: no inline script or style).
    scripts = re.findall(r"<script[^>]*>", html)
    assert all(re.fullmatch(r'<script src="/static/js/[\w.]+">', tag) for tag in scripts)
    assert scripts[-2:] == [
        '<script src="/static/js/copy.js">',
        '<script src="/static/js/recovery_codes.js">',
    ]
    assert "<style" not in html and " style=" not in html
    assert '<link rel="stylesheet" href="/static/css/recovery_codes.css">' in html
    # Shown once: the plain codes left the session with this page, and they are real codes.
    assert enrolled.get(PAGE).url == "/account/security/"
    assert not any(code in str(dict(enrolled.session)) for code in codes)
    other = Client()
    other.post("/login/", {"login": "ann", "password": PASSWORD})
    assert other.post("/login/verify/", {"action": "code", "code": codes[3]}).status_code == 302


def test_the_file_is_named_after_the_portal_and_the_user(client, system, make_user, settings):
    settings.OTP_TOTP_ISSUER = "Acme SOC"
    bob = make_user("bob.lee+soc@example.com")
    client.force_login(bob)
    session = client.session
    session["twofactor_new_recovery_codes"] = recovery.generate(system, bob)
    session.save()
    html = client.get(PAGE).content.decode()
    assert attribute(html, "data-filename") == "acme-soc-recovery-codes-bob.lee+soc@example.com.txt"
    assert attribute(html, "data-title").startswith("Acme SOC (")


def sign_in_with(client: Client, code: str):
    client.post("/login/", {"login": "ann", "password": PASSWORD})
    return client.post("/login/verify/", {"action": "code", "code": code}, follow=True)


def notice(response) -> str:
    return re.search(r'<li class="msg msg-(\w+)">(.*?)</li>', response.content.decode()).groups()


def test_a_sign_in_with_a_recovery_code_says_how_many_are_left_and_offers_new_ones(ann, system):
    EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    codes = recovery.generate(system, ann)
    response = sign_in_with(Client(), codes[0])
    assert response.redirect_chain[-1][0] == f"/users/{ann.pk}/"
    level, text = notice(response)
    assert level == "warning"
    assert text == (
        'You signed in with a recovery code. 9 codes left. <a href="'
        '/account/security/recovery-codes/new/">Make new codes</a>'
    )
    # The offer leads to new codes at once: the sign-in was a fresh check.
    client = Client()
    sign_in_with(client, codes[1])
    page = client.post("/account/security/recovery-codes/new/", follow=True)
    assert len(shown_codes(page)) == 10 and recovery.remaining(ann) == 10


def test_the_last_codes_are_an_error_and_the_app_code_says_nothing(ann, system, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    codes = recovery.generate(system, ann)
    for code in codes[:8]:
        recovery.use(system, ann, code)
    assert notice(sign_in_with(Client(), codes[8])) == (
        "error",
        'You signed in with a recovery code. 1 code left. <a href="'
        '/account/security/recovery-codes/new/">Make new codes</a>',
    )
    assert "No codes left" in notice(sign_in_with(Client(), codes[9]))[1]
    response = sign_in_with(Client(), totp_code(device))
    assert "recovery code" not in response.content.decode()
