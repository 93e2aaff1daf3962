"""Flocks at scale in headless Chromium, at desktop and 390x844 phone size: the profile's
search-as-you-type flock picker (and what it says of a role change), the same as a plain search
form with JavaScript off, a manager's member picker and the audit log's flock filter.

Screenshots go to test-artifacts/flock-pickers/ (git-ignored) for people to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from helpers import PASSWORD
from playwright.sync_api import Browser, Page, expect

from flocks import services as flock_services
from flocks.models import Flock, FlockMembership
from users.audit import Actor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "flock-pickers"
SHOTS.mkdir(parents=True, exist_ok=True)
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}


def shot(page: Page, name: str) -> None:
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def flash(page: Page) -> str:
    return page.locator(".messages").inner_text()


@pytest.fixture
def flocks(db) -> list[Flock]:
    """300 flocks, 30 of them "Cape Town …": enough that a list of every flock would not do."""
    Flock.objects.bulk_create(
        [Flock(name=f"Cape Town {n:02}") for n in range(30)]
        + [Flock(name=f"Site {n:03}") for n in range(270)]
    )
    return list(Flock.objects.order_by("name"))


def picked(page: Page):
    """The picker's list of matches (not the page's <select> options)."""
    return page.locator(".picker-results:visible")


def sized(open_page, size: str) -> Page:
    page = open_page(width=SIZES[size]["width"])
    page.set_viewport_size(SIZES[size])
    return page


@pytest.mark.parametrize("size", SIZES)
def test_the_profile_picks_flocks_as_you_type_and_says_a_role_changes(
    open_page, login, admin, ann, flocks, size
):
    cape_05 = Flock.objects.get(name="Cape Town 05")
    FlockMembership.objects.create(user=ann, flock=cape_05, role="manager")
    page = sized(open_page, size)
    login(page, admin, PASSWORD, next_url=f"/users/{ann.pk}/")
    page.get_by_text("Assign to flocks").click()
    expect(page.locator("input[name=flocks][type=checkbox]")).to_have_count(1)  # ann's own
    search = page.get_by_label("Find flocks by name")
    search.fill("cape town 0")
    expect(picked(page).get_by_role("option")).to_have_count(10)
    expect(picked(page).get_by_role("option", name="Cape Town 05 manager now")).to_be_visible()
    shot(page, f"01-picker-open-{size}")
    search.press("ArrowDown")
    search.press("ArrowDown")
    search.press("Enter")  # Cape Town 01, by keyboard
    search.fill("town 05")
    picked(page).get_by_role("option", name="Cape Town 05 manager now").click()
    choices = page.locator("#assign-choices")
    expect(choices.get_by_label("Cape Town 01")).to_be_checked()
    expect(choices.get_by_label("Cape Town 05")).to_be_checked()
    page.get_by_label("Role", exact=True).select_option("watcher")
    note = page.locator("#role-change")
    expect(note).to_have_text(
        "This changes the role of ann@example.com in Cape Town 05 (now manager) to watcher."
    )
    shot(page, f"02-picked-role-change-{size}")
    page.get_by_role("button", name="Assign", exact=True).click()
    assert flash(page) == (
        "Assigned ann@example.com as watcher to Cape Town 01, Cape Town 05. "
        "This changed their role in Cape Town 05 (was manager)."
    )
    assert set(FlockMembership.objects.filter(user=ann).values_list("flock__name", "role")) == {
        ("Cape Town 01", "watcher"),
        ("Cape Town 05", "watcher"),
    }
    shot(page, f"03-assigned-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_without_javascript_the_picker_is_a_search_form(
    browser: Browser, live_server, login, admin, ann, flocks, size
):
    context = browser.new_context(
        base_url=live_server.url, viewport=SIZES[size], java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        login(page, admin, PASSWORD, next_url=f"/users/{ann.pk}/")
        page.get_by_text("Assign to flocks").click()
        page.get_by_label("Find flocks by name").fill("site 01")
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url("**flock_q=site+01**")
        choices = page.locator("#assign-choices input[type=checkbox]")
        expect(choices).to_have_count(10)  # Site 010 … Site 019, as choices
        page.get_by_label("Site 012").check()
        page.get_by_label("Site 017").check()
        shot(page, f"04-no-js-search-results-{size}")
        page.get_by_role("button", name="Assign", exact=True).click()
        assert "Assigned ann@example.com as watcher to Site 012, Site 017." in flash(page)
        shot(page, f"05-no-js-assigned-{size}")
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_manager_picks_a_colleague_or_types_an_address(
    open_page, login, make_user, ann, flocks, size
):
    cape, site = Flock.objects.get(name="Cape Town 00"), Flock.objects.get(name="Site 000")
    FlockMembership.objects.create(user=ann, flock=cape, role="manager")
    FlockMembership.objects.create(user=ann, flock=site, role="watcher")
    colleague = make_user("colleague@example.com")
    FlockMembership.objects.create(user=colleague, flock=site, role="watcher")
    make_user("stranger@example.com")
    page = sized(open_page, size)
    login(page, ann, PASSWORD, next_url=f"/flocks/{cape.flock_id}/")
    expect(page.locator("#flock-terms")).to_contain_text("A flock's managers may rename it")
    search = page.get_by_label("Find people from your flocks")
    search.fill("example")
    expect(picked(page).get_by_role("option")).to_have_count(2)  # ann herself and her colleague
    shot(page, f"06-member-picker-{size}")
    picked(page).get_by_role("option", name="colleague@example.com").click()
    expect(page.get_by_label("E-mail")).to_have_value("colleague@example.com")
    page.get_by_role("button", name="Add", exact=True).click()
    assert flash(page) == "colleague@example.com is now a watcher of Cape Town 00."
    page.get_by_label("E-mail").fill("nobody@example.com")
    page.get_by_role("button", name="Add", exact=True).click()
    assert flash(page) == (
        "If nobody@example.com has an account here, it is now a watcher of Cape Town 00."
    )
    shot(page, f"07-typed-address-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_the_audit_flock_filter_is_a_search_picker(open_page, login, admin, flocks, size):
    flock_services.create_flock(Actor.system("tests"), "Harbour office")
    page = sized(open_page, size)
    login(page, admin, PASSWORD, next_url="/audit/")
    field = page.get_by_label("Flock", exact=True)
    field.fill("harb")
    picked(page).get_by_role("option", name="Harbour office").click()
    expect(field).to_have_value("Harbour office")
    shot(page, f"08-audit-flock-picked-{size}")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table")).to_contain_text("Created flock Harbour office")
    field = page.get_by_label("Flock", exact=True)
    field.fill("town 1")
    field.press("Escape")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".msg-info")).to_contain_text("Flocks whose name has “town 1”")
    shot(page, f"09-audit-flock-suggestions-{size}")
    page.locator(".msg-info").get_by_role("link", name="Cape Town 12").click()
    expect(page.get_by_label("Flock", exact=True)).to_have_value("Cape Town 12")
