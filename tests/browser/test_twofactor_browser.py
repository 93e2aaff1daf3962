"""Sign-in, enrolment, enforcement and reset in real headless Chromium."""

from __future__ import annotations

import pytest
import requests
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD, save_recovery_codes, totp_code
from playwright.sync_api import Page, expect

from users import services
from users.models import User, WebAuthnCredential
from users.twofactor.totp_device import EncryptedTOTPDevice

# The live server needs committed data; serialized_rollback restores the migrations' rows (and keeps
# later serialized_rollback tests from meeting the content types a plain flush re-creates).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def enrol_totp_in_page(page: Page, user: User, shot) -> None:
    page.click("text=Set up authenticator app")
    expect(page.locator(".qr svg")).to_be_visible()
    shot("totp-setup")
    device = EncryptedTOTPDevice.objects.get(user=user, confirmed=False)
    assert page.get_by_test_id("totp-secret").inner_text().replace(" ", "") in device.config_url
    page.fill("#id_code", totp_code(device))
    page.click("text=Confirm")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("ol.codes li")).to_have_count(10)
    shot("recovery-codes")
    save_recovery_codes(page)
    expect(page.locator("#totp .badge")).to_have_text("On")


def test_sign_in_with_password_and_totp(page, shot, ann):
    device = TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    page.goto("/login/?next=/account/security/")
    shot("login")
    page.fill("#id_login", "ann@example.com")
    page.fill("#id_password", "wrong")
    page.click("form button[type=submit]")
    expect(page.locator(".msg-error")).to_contain_text("Wrong user name or password")
    shot("wrong-password")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/login/verify/")
    page.fill("#id_code", "000000" if totp_code(device) != "000000" else "111111")
    page.click("text=Verify")
    expect(page.locator(".errorlist")).to_contain_text("not valid")
    shot("verify-wrong-code")
    clear_code_delay(device)
    page.fill("#id_code", totp_code(device))
    page.click("text=Verify")
    page.wait_for_url("**/account/security/")
    expect(page.get_by_role("heading", name="Security", exact=True)).to_be_visible()
    shot("security-page")


def clear_code_delay(device: TOTPDevice) -> None:
    """Clear django-otp's delay after the wrong code, as waiting it out would time the test."""
    device.refresh_from_db()
    device.throttle_reset()


def test_enrol_a_security_key_and_sign_in_with_it(page, shot, login, ann, virtual_authenticator):
    login(page, ann, PASSWORD, next_url="/account/security/")
    page.fill("#id_name", "Laptop passkey")
    page.click("text=Add security key")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    save_recovery_codes(page)
    expect(page.locator("#keys table")).to_contain_text("Laptop passkey")
    shot("key-registered")
    key = WebAuthnCredential.objects.get(user=ann)
    assert key.last_used is None

    page.click("text=Sign out")
    expect(page.locator(".msg-success")).to_contain_text("You have signed out")
    login(page, ann, PASSWORD, next_url="/account/security/")
    page.wait_for_url("**/login/verify/")
    shot("verify-with-key")
    page.click("text=Use security key")
    page.wait_for_url("**/account/security/")
    key.refresh_from_db()
    assert key.last_used is not None and key.sign_count >= 1
    expect(page.locator("#keys table")).not_to_contain_text("Never")
    shot("signed-in-with-key")


def test_forced_enrolment_when_enforcement_is_on(page, shot, login, ann, system):
    services.set_global_2fa(system, True)
    login(page, ann, PASSWORD)
    page.wait_for_url("**/account/security/")
    expect(page.locator(".msg-warning")).to_contain_text("Two-factor sign-in is required")
    shot("forced-enrolment")
    page.goto("/account/security/password/")
    page.wait_for_url("**/account/security/")
    enrol_totp_in_page(page, ann, shot)
    page.goto("/account/security/password/")
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()


def test_admin_reset_then_re_enrolment(page, shot, login, ann, admin, system, live_server):
    services.set_global_2fa(system, True)
    TOTPDevice.objects.create(
        user=admin, name="phone", confirmed=True
    )  # under enforcement a token needs a factor
    TOTPDevice.objects.create(user=ann, name="lost phone", confirmed=True)
    token = services.issue_api_token(system, admin)
    response = requests.post(
        f"{live_server.url}/api/v1/user/2fa/disable",
        data={"auth_token": token, "email": "ann@example.com"},
        timeout=10,
    )
    assert response.json() == {
        "msg": "Successfully disabled two-factor authentication for user ann@example.com",
        "result": "success",
    }
    login(page, ann, PASSWORD)  # no factor left: the password alone, then enrolment
    page.wait_for_url("**/account/security/")
    expect(page.locator(".msg-warning")).to_be_visible()
    shot("after-reset")
    enrol_totp_in_page(page, ann, shot)
    assert TOTPDevice.objects.filter(user=ann, confirmed=True).count() == 1
