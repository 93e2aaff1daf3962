"""Recovery codes that can be saved, in headless Chromium at desktop and phone size: copy (the
clipboard read back), download (Playwright's download event, the file read back), print (the print
stylesheet), "I have saved them" waiting for one of them; the notice after a recovery-code sign-in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PASSWORD, totp_code
from playwright.sync_api import Page, expect

from users.twofactor import recovery
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def enrol_to_the_codes(page: Page, login, ann) -> list[str]:
    login(page, ann, PASSWORD, next_url="/account/security/totp/")
    device = EncryptedTOTPDevice.objects.get(user=ann, confirmed=False)
    page.fill("#id_code", totp_code(device))
    page.click("text=Confirm")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator("[data-code]").all_inner_texts()
    assert len(codes) == 10
    return codes


def test_download_names_the_file_and_holds_the_codes(page, shot, login, ann, sized, tmp_path):
    codes = enrol_to_the_codes(page, login, ann)
    done = page.get_by_role("button", name="I have saved them")
    expect(done).to_be_disabled()
    expect(page.locator("[data-save-status]")).to_have_text("Copy, download or print them first.")
    shot(f"codes-{sized}")
    with page.expect_download() as info:
        page.click("text=Download .txt")
    download = info.value
    assert download.suggested_filename == "portal-recovery-codes-ann.txt"
    saved = Path(tmp_path / download.suggested_filename)
    download.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("Portal (") and "recovery codes of ann@example.com" in lines[0]
    assert lines[2:12] == codes and "works once" in lines[13]
    expect(done).to_be_enabled()
    shot(f"downloaded-{sized}")
    done.click()
    page.wait_for_url("**/account/security/*")
    expect(page.locator("#recovery .badge")).to_have_text("10 left")
    # The file was made in the browser: the codes sign in (one of them, once).
    assert recovery.remaining(ann) == 10


def test_copy_puts_the_codes_on_the_clipboard(page, shot, login, ann, sized):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    codes = enrol_to_the_codes(page, login, ann)
    page.click("button:text-is('Copy')")
    expect(page.locator("[data-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").split("\n") == codes
    expect(page.get_by_role("button", name="I have saved them")).to_be_enabled()
    shot(f"copied-{sized}")


def test_print_shows_only_the_sheet(page, shot, login, ann, sized):
    codes = enrol_to_the_codes(page, login, ann)
    page.emulate_media(media="print")
    for hidden in (".topbar", "[data-save-actions]", ".saved-form", ".screen-only"):
        expect(page.locator(hidden)).to_be_hidden()
    sheet_title = page.locator("p.print-only").first
    expect(sheet_title).to_be_visible()
    expect(sheet_title).to_contain_text("recovery codes of ann@example.com")
    assert page.locator("[data-code]").all_inner_texts() == codes
    shot(f"printed-{sized}")
    page.emulate_media(media="screen")
    page.click("button:text-is('Print')")  # window.print() returns at once in headless Chromium
    expect(page.get_by_role("button", name="I have saved them")).to_be_enabled()


def test_a_recovery_code_sign_in_offers_new_codes(page, shot, ann, system, sized):
    EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    codes = recovery.generate(system, ann)
    page.goto("/login/")
    page.fill("#id_login", "ann")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.fill("#id_code", codes[0])
    page.click("text=Verify")
    notice = page.locator(".msg-warning")
    expect(notice).to_have_text("You signed in with a recovery code. 9 codes left. Make new codes")
    shot(f"recovery-sign-in-{sized}")
    notice.get_by_role("link", name="Make new codes").click()
    page.click("button:text-is('Make new codes')")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert recovery.remaining(ann) == 10
