"""Nudges where they help: the first admin's printed password (ensure_admin), the one-device
warning, the second step's focus and code fields, and the otpauth:// link of TOTP setup."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from helpers import PASSWORD, signed_in, totp_code

from users import services
from users.models import PrintedPassword, User, WebAuthnCredential
from users.twofactor import recovery
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a new and long passphrase"


def ensure_admin(monkeypatch, password: str | None = None) -> str:
    """Run ``ensure_admin`` as bin/serve does; returns the password it printed (or None)."""
    for name in ("PORTAL_ADMIN_USERNAME", "PORTAL_ADMIN_EMAIL", "PORTAL_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    if password is not None:
        monkeypatch.setenv("PORTAL_ADMIN_PASSWORD", password)
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    printed = re.search(r"password:  (\S+)   \(shown once", out.getvalue())
    return printed.group(1) if printed else None


def sign_in(password: str, login: str = "admin") -> Client:
    client = Client()
    assert client.post("/login/", {"login": login, "password": password}).status_code == 302
    return client


def nudge(client: Client, kind: str, url: str = "/") -> str | None:
    body = client.get(url).content.decode()
    found = re.search(rf'<(section|div) [^>]*data-nudge="{kind}">(.*?)</\1>', body, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split()) if found else None


def test_the_first_admin_is_asked_to_change_the_printed_password_and_add_a_factor(
    monkeypatch, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client = sign_in(ensure_admin(monkeypatch))
    text = nudge(client, "first-admin")
    assert text.startswith(
        "Secure this first admin account Dismiss You signed in with the password"
    )
    assert "Change the printed password" in text and "Add a second factor" in text
    body = client.get("/").content.decode()
    assert f'href="{reverse("password_change")}"' in body

    # Changing the password (any face) ends that half: only the digest of the old hash is kept.
    assert client.post(
        reverse("password_change"),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ).url == reverse("security")
    text = nudge(client, "first-admin")
    assert "Change the printed password" not in text and "Add a second factor" in text
    stored = PrintedPassword.objects.get().password_digest
    assert "$2b$" not in stored and User.objects.get().password not in stored

    # A second factor, set up in the page with a real code, ends the rest: the banner is gone.
    client.get(reverse("totp_setup"))
    device = EncryptedTOTPDevice.objects.get(confirmed=False)
    client.post(reverse("totp_setup"), {"code": totp_code(device)})
    assert nudge(client, "first-admin") is None


def test_another_face_changing_the_password_counts_too(monkeypatch, system):
    printed = ensure_admin(monkeypatch)
    services.update_credentials(system, User.objects.get(), password=NEW_PASSWORD)
    client = sign_in(NEW_PASSWORD)
    assert "Change the printed password" not in nudge(client, "first-admin")
    assert printed != NEW_PASSWORD


def test_dismissal_is_remembered_for_that_admin_only(monkeypatch, ann):
    printed = ensure_admin(monkeypatch)
    client = sign_in(printed)
    dismiss = reverse("first_admin_nudge_dismiss")
    assert client.get(dismiss).status_code == 405
    assert signed_in(ann).post(dismiss).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(User.objects.get(username="admin"))
    assert strict.post(dismiss).status_code == 403
    assert nudge(client, "first-admin") is not None

    assert client.post(dismiss).url == "/"
    assert nudge(client, "first-admin") is None
    assert nudge(sign_in(printed), "first-admin") is None  # a new session: still dismissed


@pytest.mark.parametrize("password", ["a chosen long passphrase", ""])
def test_only_a_generated_password_is_nudged_about(monkeypatch, password):
    printed = ensure_admin(monkeypatch, password)
    if password:  # chosen by the operator: nothing printed, nothing to nudge about
        assert printed is None and not PrintedPassword.objects.exists()
        assert nudge(sign_in(password), "first-admin") is None
    else:  # empty counts as unset: a generated password, printed, and the nudge
        assert printed and nudge(sign_in(printed), "first-admin") is not None


def test_an_admin_with_one_device_is_told_to_add_a_second(admin, ann):
    client = signed_in(admin)
    assert nudge(client, "single-device") is None  # no factor at all: enforcement's business
    EncryptedTOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    for url in ("/", reverse("security")):
        text = nudge(client, "single-device", url)
        assert text.startswith("Add a second factor. Your only second factor is one authenticator")
        assert "We recommend a security key as well." in text
    key = WebAuthnCredential.objects.create(
        user=admin, name="YubiKey", credential_id="k1", public_key=b"x"
    )
    assert nudge(client, "single-device") is None  # app and key: two devices
    EncryptedTOTPDevice.objects.filter(user=admin).delete()
    assert "one security key" in nudge(client, "single-device", reverse("security"))
    WebAuthnCredential.objects.create(user=admin, name="Spare", credential_id="k2", public_key=b"y")
    assert nudge(client, "single-device") is None and key.pk
    # Plain users are not nudged (an admin can reset their factors).
    EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    assert nudge(signed_in(ann), "single-device", reverse("security")) is None


def test_the_nudges_cost_the_dashboard_three_queries(monkeypatch):
    client = sign_in(ensure_admin(monkeypatch))
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    tables = ("users_printedpassword", "otp_totp_totpdevice", "users_webauthncredential")
    read_from = [re.match(r'SELECT .*? FROM "(\w+)"', q["sql"]) for q in queries.captured_queries]
    assert [[m.group(1) for m in read_from if m].count(table) for table in tables] == [1, 1, 1]


# --- the second step: focus and code fields -------------------------------------------------


def second_step(user: User) -> tuple[Client, str]:
    client = Client()
    assert client.post("/login/", {"login": user.username, "password": PASSWORD}).url == (
        "/login/verify/"
    )
    return client, client.get("/login/verify/").content.decode()


def tag(html: str, element_id: str) -> str:
    return re.search(rf'<input [^>]*id="{element_id}"[^>]*>', html).group(0)


def test_the_app_code_field_is_numeric_and_the_recovery_code_field_takes_letters(
    ann, system, settings
):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    codes = recovery.generate(system, ann)
    client, html = second_step(ann)
    app = tag(html, "id_code")
    assert 'inputmode="numeric"' in app and 'autocomplete="one-time-code"' in app
    assert "autofocus" in app  # no key: the app's code is the primary action
    typed = tag(html, "id_recovery-code")
    assert "inputmode" not in typed and 'autocomplete="off"' in typed and "autofocus" not in typed
    assert "<summary>Use a recovery code</summary>" in html
    assert all(re.search("[a-z]", code) for code in codes)  # letters: no number pad for these

    # A wrong one is refused in its own form, opened and focused.
    response = client.post("/login/verify/", {"action": "recovery", "recovery-code": "abcde-fghjk"})
    html = response.content.decode()
    assert '<details class="factor recovery-entry" id="recovery-entry" open>' in html
    assert "autofocus" in tag(html, "id_recovery-code") and "autofocus" not in tag(html, "id_code")
    assert "That code is not valid" in html
    response = client.post(
        "/login/verify/", {"action": "recovery", "recovery-code": codes[0].upper()}
    )
    assert response.status_code == 302 and recovery.remaining(ann) == 9


def test_with_a_key_the_key_button_has_the_focus(ann, system):
    WebAuthnCredential.objects.create(user=ann, name="YubiKey", credential_id="k1", public_key=b"x")
    recovery.generate(system, ann)
    _, html = second_step(ann)
    button = re.search(r"<button [^>]*data-webauthn-start[^>]*>", html).group(0)
    assert "autofocus" in button
    assert 'id="id_code"' not in html  # no app: no app code field
    assert "autofocus" not in tag(html, "id_recovery-code") and "Use a recovery code" not in html


def test_totp_setup_offers_an_otpauth_link_and_the_key(ann):
    client = signed_in(ann, checked_now=True)
    html = client.get(reverse("totp_setup")).content.decode()
    device = EncryptedTOTPDevice.objects.get(user=ann)
    link = re.search(r'<a [^>]*href="(otpauth://[^"]+)"[^>]*data-otpauth>', html).group(1)
    assert link.replace("&amp;", "&") == device.config_url
    secret = re.search(r'data-testid="totp-secret">([^<]+)<', html).group(1).replace(" ", "")
    assert f"secret={secret}" in device.config_url
    assert 'inputmode="numeric"' in tag(html, "id_code")
