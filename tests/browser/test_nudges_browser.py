"""Nudges in headless Chromium at desktop and phone size: the first admin's banner (printed
password, no factor) and its dismissal, the one-device warning, the second step's focus and code
fields, and TOTP setup's otpauth:// link on a phone."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from helpers import PASSWORD, save_recovery_codes, totp_code
from playwright.sync_api import Page, expect

from users.models import User
from users.twofactor import recovery
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.textContent")


def test_the_first_admin_is_nudged_then_warned_about_one_device(
    page, shot, login, monkeypatch, sized
):
    for name in ("PORTAL_ADMIN_USERNAME", "PORTAL_ADMIN_EMAIL", "PORTAL_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    printed = re.search(r"password:  (\S+)", out.getvalue()).group(1)
    admin = User.objects.get(username="admin")
    login(page, admin, printed)
    banner = page.locator("[data-nudge=first-admin]")
    expect(banner).to_contain_text("You signed in with the password printed")
    expect(banner.get_by_role("link", name="Change the printed password")).to_be_visible()
    expect(banner.get_by_role("link", name="Add a second factor")).to_be_visible()
    shot(f"first-admin-nudge-{sized}")

    # Set up the app from the banner: the banner's factor half is done, the password half stays.
    banner.get_by_role("link", name="Add a second factor").click()
    page.click("text=Set up authenticator app")
    page.fill("#id_code", totp_code(EncryptedTOTPDevice.objects.get(user=admin)))
    page.click("text=Confirm")
    save_recovery_codes(page)
    expect(page.locator("[data-nudge=single-device]")).to_contain_text("one authenticator app")
    shot(f"security-one-device-{sized}")
    page.goto("/")
    expect(banner.get_by_role("link", name="Add a second factor")).to_have_count(0)
    expect(banner.get_by_role("link", name="Change the printed password")).to_be_visible()
    expect(page.locator("[data-nudge=single-device]")).to_be_visible()
    page.click("[data-nudge=first-admin] button:text-is('Dismiss')")
    expect(page.locator("[data-nudge=first-admin]")).to_have_count(0)
    shot(f"dismissed-{sized}")
    page.reload()
    expect(page.locator("[data-nudge=first-admin]")).to_have_count(0)


def test_the_second_step_focuses_the_code_and_takes_a_typed_recovery_code(
    page, shot, ann, system, sized
):
    EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    codes = recovery.generate(system, ann)
    page.goto("/login/")
    page.fill("#id_login", "ann")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/login/verify/")
    assert focused(page) == "id_code"
    expect(page.locator("#id_code")).to_have_attribute("inputmode", "numeric")
    shot(f"verify-app-{sized}")
    page.click("text=Use a recovery code")
    page.locator("#id_recovery-code").press_sequentially(codes[0])
    expect(page.locator("#id_recovery-code")).to_have_value(codes[0])
    shot(f"verify-recovery-open-{sized}")
    page.click("#recovery-entry button[type=submit]")
    expect(page.locator(".msg-warning")).to_contain_text("9 codes left")


def test_the_key_button_is_the_focused_primary_action(
    page, shot, login, ann, virtual_authenticator, sized
):
    login(page, ann, PASSWORD, next_url="/account/security/")
    page.fill("#id_name", "Laptop passkey")
    page.click("text=Add security key")
    save_recovery_codes(page)
    page.click("text=Sign out")
    login(page, ann, PASSWORD)
    page.wait_for_url("**/login/verify/")
    expect(page.get_by_role("button", name="Use security key")).to_be_focused()
    shot(f"verify-key-focused-{sized}")


def test_totp_setup_on_a_phone_offers_a_link_to_tap(page, shot, login, ann, sized):
    login(page, ann, PASSWORD, next_url="/account/security/totp/")
    device = EncryptedTOTPDevice.objects.get(user=ann, confirmed=False)
    tap = page.locator("a[data-otpauth]")
    assert tap.get_attribute("href") == device.config_url
    expect(page.get_by_test_id("totp-secret")).to_be_visible()
    if sized == "phone":
        expect(tap).to_be_visible()
        qr_top = page.locator(".qr").bounding_box()["y"]
        assert tap.bounding_box()["y"] < qr_top  # the link and key come before the QR code
    else:
        expect(tap).to_be_hidden()
        expect(page.get_by_role("link", name="Open the key in it")).to_be_visible()
    expect(page.locator("#id_code")).to_have_attribute("inputmode", "numeric")
    shot(f"totp-setup-{sized}")
