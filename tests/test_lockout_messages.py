"""Lock-outs people understand: the sign-in page says until when and whether an admin can lift
the pause (the same for a name that matches no user), and the user's page shows the admin
"sign-in paused until …" beside "Lift sign-in lock-out"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from helpers import PASSWORD, basic, call, page_text, signed_in

from users import lockouts
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db


def sign_in(ip: str, login: str, password: str = PASSWORD):
    return Client(REMOTE_ADDR=ip).post("/login/", {"login": login, "password": password})


def alert(response) -> str:
    return re.search(r'role="alert">([^<]*)<', response.content.decode()).group(1)


def lock(ip: str, login: str, times: int = 2) -> None:
    for n in range(times):
        sign_in(ip, login, f"guess {n}")


def test_a_locked_pair_is_told_until_when_and_to_ask_an_admin(ann, settings):
    settings.AXES_FAILURE_LIMIT = 2
    lock("10.1.0.1", "ann")
    response = sign_in("10.1.0.1", "ann")
    assert response.status_code == 429 and response["Retry-After"] in ("899", "900")
    until = timezone.now() + timedelta(seconds=900)
    assert alert(response) in {
        f"Too many failed sign-in attempts. Signing in is paused until {t:%H:%M} UTC (about 15 "
        "minutes); try again then, or ask an admin to lift the pause."
        for t in (until - timedelta(seconds=2), until)
    }
    assert "An admin can lift the pause from your user page" in response.content.decode()
    # The wait is what is left of the lock, not a fresh cool-off.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))
    response = sign_in("10.1.0.1", "ann")
    assert 295 <= int(response["Retry-After"]) <= 300
    assert "(about 5 minutes)" in alert(response)


def test_the_api_waits_as_long_as_the_page(client, admin_ann, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for n in range(2):
        call(
            client,
            "GET",
            "users",
            auth=basic("ann@example.com", f"guess {n}"),
            remote_addr="10.1.7.1",
        )
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))
    api = call(
        client, "GET", "users", auth=basic("ann@example.com", PASSWORD), remote_addr="10.1.7.1"
    )
    page = sign_in("10.1.7.1", "ann@example.com")
    assert api.status_code == page.status_code == 429
    assert 295 <= int(api["Retry-After"]) <= 300 and 295 <= int(page["Retry-After"]) <= 300


def test_the_answer_is_the_same_for_a_name_that_matches_no_user(ann, settings):
    """The page already answers a wrong password and an unknown name alike; paused, too: the
    unknown name is counted and paused the same way, and the words are the same."""
    settings.AXES_FAILURE_LIMIT = 2
    lock("10.1.1.1", "ann")
    lock("10.1.1.2", "nobody-here")
    known, unknown = sign_in("10.1.1.1", "ann"), sign_in("10.1.1.2", "nobody-here")
    assert known.status_code == unknown.status_code == 429
    assert abs(int(known["Retry-After"]) - int(unknown["Retry-After"])) <= 2

    def words(response) -> str:
        text = re.sub(r"\d\d:\d\d UTC", "HH:MM UTC", response.content.decode())
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)

    assert words(known) == words(unknown)
    assert "ann" not in alert(known) and "nobody" not in words(unknown)


def test_the_address_budget_says_so_and_no_admin_can_lift_it(ann, settings):
    settings.AUTH_ADDRESS_FAILURE_LIMIT = 3
    for name in ("someone", "else", "entirely"):
        sign_in("10.1.2.1", name, "guess")
    response = sign_in("10.1.2.1", "ann")
    assert response.status_code == 429
    assert alert(response).startswith(
        "Too many failed sign-in attempts from your network address. Signing in is paused until "
    )
    assert alert(response).endswith("; try again then.")
    assert "ask an admin" not in response.content.decode()


def test_the_second_step_says_the_same(ann, settings):
    EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    settings.AXES_FAILURE_LIMIT, settings.OTP_TOTP_THROTTLE_FACTOR = 2, 0
    browser = Client(REMOTE_ADDR="10.1.3.1")
    browser.post("/login/", {"login": "ann", "password": PASSWORD})
    browser.post("/login/verify/", {"action": "code", "code": "abcde-fghij"})
    response = browser.post("/login/verify/", {"action": "code", "code": "abcde-fghij"})
    assert response.status_code == 429 and "ask an admin to lift the pause" in alert(response)


# --- the user's page -----------------------------------------------------------------------


def pause_note(client: Client, user) -> str | None:
    body = client.get(reverse("user_detail", args=[user.pk])).content.decode()
    found = re.search(r"<p [^>]*data-signin-pause>(.*?)</p>", body, re.S)
    return page_text(found.group(1)) if found else None


def test_the_users_page_shows_until_when_and_from_where(admin, admin_ann, client, settings):
    settings.AXES_FAILURE_LIMIT, settings.AUTH_ACCOUNT_FAILURE_LIMIT = 2, 5
    browser = signed_in(admin, checked_now=True)
    assert pause_note(browser, admin_ann) is None
    lock("10.1.4.1", "ann@example.com")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=5))
    lock("10.1.4.2", "ann@example.com")
    until = AccessAttempt.objects.get(ip_address="10.1.4.2").attempt_time + timedelta(minutes=15)
    assert pause_note(browser, admin_ann) == (
        f"Sign-in paused until {until:%Y-%m-%d %H:%M} UTC from 10.1.4.1, "
        "10.1.4.2 (too many failed sign-ins from those addresses; other addresses may still "
        "sign in)."
    )
    # Past the account's budget (the API's failures count too) it is every address.
    call(client, "GET", "users", auth=basic("ann@example.com", "guess"), remote_addr="10.1.4.3")
    note = pause_note(browser, admin_ann)
    assert note.endswith(
        "from every address: too many failed sign-ins for this account, and locked from "
        "10.1.4.1, 10.1.4.2."
    )
    assert sign_in("10.9.9.9", "ann@example.com").status_code == 429
    # Lifting ends it, and the note goes.
    browser.post(reverse("user_lift_lockout", args=[admin_ann.pk]))
    assert pause_note(browser, admin_ann) is None
    assert sign_in("10.1.4.1", "ann@example.com").status_code == 302


def test_an_expired_lock_is_not_shown_and_plain_users_see_no_note(admin, ann, settings):
    settings.AXES_FAILURE_LIMIT = 2
    lock("10.1.5.1", "ann")
    assert pause_note(signed_in(ann), ann) is None
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert pause_note(signed_in(admin, checked_now=True), ann) is None


def test_the_note_costs_the_page_one_query_paused_or_not(admin, ann, settings):
    settings.AXES_FAILURE_LIMIT = 2
    browser = signed_in(admin, checked_now=True)
    url = reverse("user_detail", args=[ann.pk])
    browser.get(url)
    with CaptureQueriesContext(connection) as calm:
        browser.get(url)
    lock("10.1.6.1", "ann")
    with CaptureQueriesContext(connection) as paused:
        body = browser.get(url).content.decode()
    assert "Sign-in paused until" in body and len(paused) == len(calm)
    assert sum("axes_accessattempt" in q["sql"] for q in paused.captured_queries) == 1


def test_the_lock_ends_when_enough_of_its_records_are_forgotten(settings):
    """Records of one pair from several browsers (axes keeps one per user agent) are summed, and
    each one is forgotten a cool-off after its time."""
    settings.AXES_FAILURE_LIMIT = 5
    now = timezone.now()
    minute = timedelta(minutes=1)
    ends = lockouts._pair_lock_ends
    assert ends([(now - 9 * minute, 3), (now - 2 * minute, 2)]) == now + 6 * minute
    assert ends([(now - 9 * minute, 1), (now - 2 * minute, 5)]) == now + 13 * minute
    assert ends([(now - 9 * minute, 2), (now - 2 * minute, 2)]) is None
