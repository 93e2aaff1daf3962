"""'Forgot your password?': the same answer for every name, a mail only for an account that
may have one, a link that works once and sets the password only, budgets, the org switch."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from helpers import NEW_PASSWORD, PASSWORD, link_path, set_password_through, signed_in

from users import services
from users.lockouts import masked
from users.models import AuditEntry, OrgSetting
from users.outbox import OutboxMail
from users.reset_requests import ACTION, REFUSED
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db
SENT = "/accounts/forgot/sent/"


def ask(client: Client, name: str, remote_addr: str = "127.0.0.1"):
    return client.post("/accounts/forgot/", {"login": name}, REMOTE_ADDR=remote_addr)


def answer(client: Client, name: str, remote_addr: str = "127.0.0.1") -> tuple:
    """Everything the asker sees: the redirect, and the page it leads to."""
    response = ask(client, name, remote_addr)
    page = client.get(response.url)
    return response.status_code, response.url, page.status_code, page.content


def reasons() -> list[str]:
    return [
        entry.additional_information.get("reason", "queued")
        for entry in AuditEntry.objects.filter(action_type__in=[ACTION, REFUSED]).order_by("id")
    ]


def test_the_sign_in_page_links_to_it(client, db):
    page = client.get("/login/")
    assert b'<a href="/accounts/forgot/">Forgot your password?</a>' in page.content
    form = client.get("/accounts/forgot/")
    assert form.status_code == 200 and b"Send reset link" in form.content


def test_same_answer_for_existing_unknown_and_disabled_names(client, ann, bob, system, sent_mail):
    services.set_active(system, bob, False)
    answers = {
        name: answer(Client(), name)
        for name in ["ann", "ANN@example.com", "nobody", "bob@example.com"]
    }
    assert len(set(answers.values())) == 1
    status, url, page_status, content = answers["nobody"]
    assert (status, url, page_status) == (302, SENT, 200)
    assert b"If that is the user name or e-mail of an account" in content
    # Only ann (asked for twice, by name and by e-mail in another case) gets mail.
    assert [m.to for m in sent_mail()] == [["ann@example.com"], ["ann@example.com"]]
    assert reasons() == ["queued", "queued", "no such user", "disabled"]


def test_unknown_names_are_audited_masked(client, db):
    ask(client, "my secret password")
    entry = AuditEntry.objects.get(action_type=REFUSED)
    assert entry.target_label == masked("my secret password")
    assert "my secret password" not in entry.message
    assert entry.user_ip == "127.0.0.1" and entry.actor_label == "Forgot password page"


def test_a_user_without_an_address_gets_nothing(client, named, sent_mail):
    named("carol")  # made through v2: a user name and no e-mail
    assert answer(client, "carol")[:3] == (302, SENT, 200)
    assert sent_mail() == [] and reasons() == ["no e-mail address"]


def test_the_link_works_once(client, ann, sent_mail):
    ask(client, "ann")
    path = link_path(sent_mail()[0])
    set_password_through(Client(), path, NEW_PASSWORD)
    again = Client().get(path, follow=True)
    assert again.context["validlink"] is False
    assert b"This link is no longer valid" in again.content
    assert b'<a href="/accounts/forgot/">Ask for a new link</a>' in again.content
    ann.refresh_from_db()
    assert ann.check_password(NEW_PASSWORD)
    mail = OutboxMail.objects.get()
    assert (mail.kind, mail.requested_by) == ("password_reset", "Forgot password page")


def test_the_link_sets_the_password_only_the_factor_is_still_asked(client, ann, sent_mail):
    EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    ask(client, "ann")
    browser = Client()
    set_password_through(browser, link_path(sent_mail()[0]), NEW_PASSWORD)
    assert SESSION_KEY not in browser.session  # not signed in by the link
    response = browser.post("/login/", {"login": "ann", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.url == "/login/verify/"
    assert SESSION_KEY not in browser.session
    assert EncryptedTOTPDevice.objects.filter(user=ann).count() == 1


def test_throttled_per_account_whatever_the_address_or_spelling(client, ann, settings, sent_mail):
    settings.PASSWORD_RESET_ACCOUNT_LIMIT = 2
    first = answer(client, "ann", "10.0.0.1")
    second = answer(client, "ANN@EXAMPLE.COM", "10.0.0.2")
    third = answer(client, "ann@example.com", "10.0.0.3")
    assert first == second == third
    assert len(sent_mail()) == 2
    assert reasons() == ["queued", "queued", "throttled"]


def test_throttled_per_address_for_any_name(client, ann, bob, settings, sent_mail):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 2
    results = [answer(client, name, "10.0.0.9") for name in ["nobody", "ann", "bob@example.com"]]
    assert len(set(results)) == 1
    assert [m.to for m in sent_mail()] == [["ann@example.com"]]
    assert reasons() == ["no such user", "queued", "throttled"]
    # Another address still gets bob his mail.
    ask(client, "bob@example.com", "10.0.0.10")
    assert [m.to for m in sent_mail()][-1] == ["bob@example.com"]


def test_reset_asks_do_not_spend_the_sign_in_budgets(client, ann, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 100
    for _ in range(settings.AUTH_ADDRESS_FAILURE_LIMIT + 1):
        ask(client, "nobody")
    response = client.post("/login/", {"login": "ann", "password": PASSWORD})
    assert response.status_code == 302 and client.session[SESSION_KEY] == str(ann.pk)


def test_an_empty_name_is_a_form_error(client, db):
    response = ask(client, "   ")
    assert response.status_code == 200 and b"This field is required." in response.content
    assert not AuditEntry.objects.exists()


def test_signed_in_people_change_their_password_instead(ann):
    response = signed_in(ann).get("/accounts/forgot/")
    assert response.status_code == 302 and response.url == "/account/security/password/"


def test_the_org_switch_turns_it_off(rechecked_admin, client, ann, sent_mail):
    page = rechecked_admin.get("/org/")
    assert b"Self-service password reset is <strong>on</strong>" in page.content
    response = rechecked_admin.post("/org/password-reset/", {})  # the box unticked
    assert response.status_code == 302 and response.url == "/org/"
    assert OrgSetting.load().self_service_password_reset is False
    entry = AuditEntry.objects.get(action_type="self_service_password_reset_disable")
    assert entry.actor_label == "admin@example.com"

    form = client.get("/accounts/forgot/")
    assert b"Ask your administrator" in form.content and b"Send reset link" not in form.content
    refused = ask(client, "ann")
    assert refused.status_code == 200 and b"Ask your administrator" in refused.content
    assert sent_mail() == [] and not OutboxMail.objects.exists()

    rechecked_admin.post("/org/password-reset/", {"self_service_password_reset": "on"})
    assert OrgSetting.load().self_service_password_reset is True
    assert AuditEntry.objects.filter(action_type="self_service_password_reset_enable").exists()
    ask(client, "ann")
    assert len(sent_mail()) == 1


def test_switched_off_between_page_and_post_sends_nothing(client, ann, system, sent_mail):
    from users import reset_requests
    from users.audit import Actor

    services.set_self_service_reset(system, False)
    outcome = reset_requests.ask_for_reset(Actor(ip="127.0.0.1"), "ann")
    assert outcome == "self-service reset is off" and sent_mail() == []


def test_only_admins_switch_it(ann, db):
    response = signed_in(ann).post("/org/password-reset/", {})
    assert response.status_code == 403
    assert OrgSetting.load().self_service_password_reset is True


def test_the_django_admin_switches_it_through_the_service(rechecked_admin):
    OrgSetting.load()
    response = rechecked_admin.post(
        "/django-admin/users/orgsetting/1/change/", {"grace_period_hours": "0"}
    )
    assert response.status_code == 302 and response.url == "/django-admin/users/orgsetting/"
    assert OrgSetting.load().self_service_password_reset is False
    assert AuditEntry.objects.filter(action_type="self_service_password_reset_disable").exists()


def test_a_flood_of_asks_audits_one_throttled_ask_per_budget(client, ann, settings, sent_mail):
    """Past a budget every ask still counts and gets the same answer, but only the first one
    past it in the window is audited: sixty asks cannot write sixty rows."""
    first = answer(client, "x0", "203.0.113.7")
    answers = {answer(client, f"x{n}", "203.0.113.7") for n in range(1, 60)}
    assert answers == {first}
    limit = settings.PASSWORD_RESET_ADDRESS_LIMIT
    assert reasons() == ["no such user"] * limit + ["throttled"]
    # the address stays throttled: even ann's ask sends nothing, and its budget is audited
    assert answer(client, "ann", "203.0.113.7") == first
    assert reasons() == ["no such user"] * limit + ["throttled"]
    assert sent_mail() == []
    # from another address ann's own budget still has room
    assert answer(client, "ann", "198.51.100.5") == first
    assert reasons()[-1] == "queued" and len(reasons()) == limit + 2


def test_one_throttled_ask_audited_per_account_and_window(client, ann, settings, sent_mail):
    """An account asked for from many addresses: the first ask past its budget is audited,
    the rest count silently, and the answer never changes."""
    settings.PASSWORD_RESET_ACCOUNT_LIMIT = 2
    answers = {answer(client, "ann", f"203.0.113.{n}") for n in range(1, 21)}
    assert len(answers) == 1
    assert reasons() == ["queued", "queued", "throttled"]
    assert len(sent_mail()) == 2
