"""The audit log read by a person in Chromium, at desktop and phone size: labels, names that
open the user's page, why a sign-in failed, a reversed date range explained, a dated CSV."""

from __future__ import annotations

import pytest
from helpers import PASSWORD
from playwright.sync_api import expect

from users.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_an_admin_reads_the_audit_log(page, open_page, login, shot, width):
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    User.objects.create_user("ann", "ann@example.com", PASSWORD)
    stranger = open_page(width)
    stranger.goto("/login/")
    stranger.fill("#id_login", "ann")
    stranger.fill("#id_password", "not her password")
    stranger.click("form button[type=submit]")
    expect(stranger.get_by_text("Wrong user name or password")).to_be_visible()

    page.set_viewport_size({"width": width, "height": 844 if width < 500 else 860})
    login(page, admin, PASSWORD, next_url="/audit/")
    page.get_by_label("Action").select_option(label="Sign-in failed")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Failed sign-in for ann: wrong password")
    expect(rows.first).to_contain_text("Sign-in failed")
    shot(f"audit-failed-sign-in-{width}")

    page.get_by_role("link", name="ann@example.com").first.click()
    expect(page.get_by_role("heading", name="ann@example.com")).to_be_visible()

    page.goto("/audit/?start=2026-05-02&end=2026-05-01")
    expect(page.get_by_text("swap the two dates")).to_be_visible()
    shot(f"audit-reversed-dates-{width}")

    page.goto("/audit/?start=2026-01-01&end=2026-12-31")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "audit-log-2026-01-01-to-2026-12-31.csv"
