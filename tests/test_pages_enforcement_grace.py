"""The pages during and after a grace period (issue 14.1): the reminder on every page with its
deadline and "set up now", "skip for now" on the Security page, the wall after the deadline, and
the org page that asks before switching on, says when the period ends and links the count to
exactly the users it counts."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import db_state, page_text, request_overhead, signed_in

from users import services
from users.models import AuditEntry, MailJob, OrgSetting, User, WebAuthnCredential
from users.selectors import users_without_second_factor

pytestmark = pytest.mark.django_db

BANNER = "data-grace-banner"


def grace(system, hours: int = 48, ago: float = 0) -> OrgSetting:
    services.set_global_2fa(system, True, grace_period_hours=hours)
    OrgSetting.objects.filter(pk=1).update(
        enforced_since=OrgSetting.load().enforced_since - timedelta(hours=ago)
    )
    return OrgSetting.load()


def old(user: User) -> User:
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=30))
    return User.objects.get(pk=user.pk)


def test_the_reminder_is_on_every_page_with_its_deadline_and_a_set_up_link(
    admin, ann, flock, system
):
    org = grace(system, hours=48)
    ends = org.grace_period_ends()
    deadline = f"Set up a second factor by {ends:%Y-%m-%d %H:%M} UTC (in 1 day)"
    pages = {
        ann: [reverse("user_detail", args=[ann.pk]), reverse("flock_list")],
        admin: [
            reverse("home"),
            reverse("user_list"),
            reverse("audit_log"),
            reverse("org_settings"),
            reverse("flock_detail", args=[flock.pk]),
        ],
    }
    for user, paths in pages.items():
        client = signed_in(user)
        for path in paths:
            page = client.get(path)
            assert page.status_code == 200, path
            html = page.content.decode()
            assert html.count(BANNER) == 1 and deadline in page_text(html), path
            assert f'href="{reverse("security")}?next={quote(path)}"' in html
            assert ">Set up now</a>" in html


def test_skip_for_now_goes_back_where_the_reminder_was(ann, system):
    grace(system)
    client = signed_in(ann)
    profile = reverse("user_detail", args=[ann.pk])
    page = client.get(reverse("security"), {"next": profile}).content.decode()
    assert page.count(BANNER) == 1  # the page's own, not the "set up now" one
    assert f'<a class="button secondary" href="{profile}">Skip for now</a>' in page
    assert "you may skip it and keep working" in page
    hostile = client.get(reverse("security"), {"next": "https://evil.example/"}).content.decode()
    assert 'href="https://evil.example/"' not in hostile
    assert '<a class="button secondary" href="/">Skip for now</a>' in hostile
    assert client.get(profile).status_code == 200  # skipping is allowed


def test_no_reminder_without_enforcement_or_with_a_factor(ann, system):
    client = signed_in(ann)
    profile = reverse("user_detail", args=[ann.pk])
    assert BANNER not in client.get(profile).content.decode()
    grace(system)
    assert BANNER in client.get(profile).content.decode()
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    assert BANNER not in client.get(profile).content.decode()


def test_after_the_deadline_only_the_security_page(ann, system):
    ann = old(ann)
    grace(system, hours=24, ago=25)
    client = signed_in(ann)
    assert client.get(reverse("user_detail", args=[ann.pk])).url == reverse("security")
    security = client.get(reverse("security")).content.decode()
    assert "Two-factor sign-in is required for your account." in security
    assert BANNER not in security and "Skip for now" not in security


def test_the_reminder_costs_no_query_of_its_own(ann, make_user, system):
    """The enrolment middleware reads the deadline and the factors once; the reminder uses
    that. So a reminded page costs what the same page costs an enrolled user, whatever the
    number of users and factors."""
    grace(system)
    enrolled = make_user("enrolled@example.com")  # a key: both factor queries run, as for ann
    WebAuthnCredential.objects.create(user=enrolled, name="k", credential_id="c", public_key=b"k")

    def queries(user: User) -> tuple[int, int, str]:
        client = signed_in(user)
        client.get(reverse("flock_list"))  # sessions and caches warm
        with CaptureQueriesContext(connection) as captured:
            html = client.get(reverse("flock_list")).content.decode()
        return len(captured), request_overhead(client), html

    reminded, overhead, html = queries(ann)
    assert BANNER in html
    plain, enrolled_overhead, html = queries(enrolled)
    assert BANNER not in html
    assert (reminded, overhead) == (plain, enrolled_overhead)
    for n in range(20):
        user = make_user(f"u{n}@example.com")
        TOTPDevice.objects.create(user=user, name="app", confirmed=n % 2 == 0)
    assert queries(ann)[:2] == (reminded, overhead)
    assert reminded == overhead + 1  # the flock list's own: its count (no flocks, no page)


# --- the org page ---------------------------------------------------------------------------


def test_turning_it_on_asks_first_and_tells_the_truth(rechecked_admin, admin, ann, system):
    TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    OrgSetting.load()
    before = db_state()
    asked = rechecked_admin.post(reverse("org_settings"), {"globally_enforce_2fa": "on"})
    html = asked.content.decode()
    assert asked.status_code == 200 and "Turn on enforced 2FA?" in html
    assert "at their next page, not their next sign-in" in html
    assert "It applies <strong>at once</strong>" in html
    assert "<strong>1</strong> active user has no second factor." in html  # ann
    assert db_state() == before
    asked = rechecked_admin.post(
        reverse("org_settings"), {"globally_enforce_2fa": "on", "grace_period_hours": "72"}
    )
    html = asked.content.decode()
    assert "They keep working for <strong>72 hours</strong>" in html
    assert "at their next page, not their next sign-in" in html
    assert '<input type="hidden" name="grace_period_hours" value="72">' in html
    assert db_state() == before
    done = rechecked_admin.post(
        reverse("org_settings"),
        {"globally_enforce_2fa": "on", "grace_period_hours": "72", "confirmed": "on"},
    )
    assert done.url == reverse("org_settings")
    org = OrgSetting.load()
    assert (org.globally_enforce_2fa, org.grace_period_hours) == (True, 72)
    page = rechecked_admin.get(reverse("org_settings")).content.decode()
    ends = org.grace_period_ends()
    assert f"ends {ends:%Y-%m-%d %H:%M} UTC for users who existed then" in page_text(page)
    assert f'<strong data-grace-ends><time datetime="{ends:%Y-%m-%dT%H:%M:%SZ}"' in page
    assert "Globally enforced 2FA is on. The grace period of 72 hours ends" in page


def test_shortening_needs_no_confirmation_and_applies_at_once(rechecked_admin, admin, system):
    TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    ann = old(User.objects.create_user("ann", "ann@example.com", "x" * 12))
    grace(system, hours=72, ago=30)
    assert not OrgSetting.load().grace_period_ends() < timezone.now()
    response = rechecked_admin.post(
        reverse("org_settings"), {"globally_enforce_2fa": "on", "grace_period_hours": "24"}
    )
    assert response.url == reverse("org_settings")
    page = rechecked_admin.get(reverse("org_settings")).content.decode()
    assert "Grace period: 24 hours, ended <strong data-grace-ends>" in page
    assert signed_in(ann).get(reverse("flock_list")).url == reverse("security")


def test_a_bad_period_on_the_page_is_a_form_error_that_changes_nothing(rechecked_admin, system):
    grace(system, hours=10)
    before = db_state()
    for bad in ("-1", "8761", "1.5", "soon"):
        response = rechecked_admin.post(
            reverse("org_settings"), {"globally_enforce_2fa": "on", "grace_period_hours": bad}
        )
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
    assert db_state() == before


def test_the_count_links_to_exactly_the_active_users_without_a_factor(admin, make_user, system):
    with_app, with_key = make_user("app@example.com"), make_user("key@example.com")
    TOTPDevice.objects.create(user=with_app, name="app", confirmed=True)
    WebAuthnCredential.objects.create(user=with_key, name="k", credential_id="c1", public_key=b"k")
    unconfirmed, codes_only = make_user("half@example.com"), make_user("codes@example.com")
    TOTPDevice.objects.create(user=unconfirmed, name="app", confirmed=False)
    StaticDevice.objects.create(user=codes_only, name="backup")
    services.set_active(system, make_user("gone@example.com"), False)
    make_user("plain@example.com")
    client = signed_in(admin)
    page = client.get(reverse("org_settings")).content.decode()
    link = re.search(r'<a href="([^"]+)" data-without-factor><strong>(\d+)</strong>', page)
    assert link is not None
    url, count = link.group(1).replace("&amp;", "&"), int(link.group(2))
    assert url == f"{reverse('user_list')}?disabled=no&two_factor=none"
    listed = client.get(url).context["page"].object_list
    expected = {"admin@example.com", "half@example.com", "codes@example.com", "plain@example.com"}
    assert {user.label for user in listed} == expected
    assert set(users_without_second_factor().values_list("email", flat=True)) == expected
    assert count == len(expected)


def test_mail_everyone_asks_then_queues_one_audited_job(rechecked_admin, admin, make_user):
    for n in range(3):
        make_user(f"u{n}@example.com")
    page = rechecked_admin.get(reverse("org_settings")).content.decode()
    assert f'href="{reverse("org_remind")}">Mail everyone without a factor now</a>' in page
    before = db_state()
    ask = rechecked_admin.get(reverse("org_remind"))
    assert "Mail everyone without a second factor?" in ask.content.decode()
    assert db_state() == before and not MailJob.objects.exists()  # asking changed nothing
    done = rechecked_admin.post(reverse("org_remind"))
    assert done.url == reverse("org_settings")
    entry = AuditEntry.objects.get(action_type="enrol_reminder_mail")
    assert entry.actor == admin
    page = rechecked_admin.get(reverse("org_settings")).content.decode()
    assert "in progress, 0 mails queued so far" in page
    again = rechecked_admin.post(reverse("org_remind"), follow=True).content.decode()
    assert "Reminder mails are going out already" in again
    assert AuditEntry.objects.filter(action_type="enrol_reminder_mail").count() == 1


def test_the_org_page_and_the_reminder_are_for_admins_only(ann):
    client = signed_in(ann)
    assert client.get(reverse("org_remind")).status_code == 403
    assert client.post(reverse("org_remind")).status_code == 403
    assert not AuditEntry.objects.filter(action_type="enrol_reminder_mail").exists()
