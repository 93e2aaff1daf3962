""" "Mail everyone without a factor now" (issue 14.1): the request queues one audited job row and
nothing else, whatever the number of users; the real mail worker (``send_queued_mail``) fans it
out through the real outbox in batches, each user once, and sends the mails."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail as outbox
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from servers import BASE_DIR, LIVE_DB
from servers import test_database_url as live_database_url  # (not collected as a test)

from users import mail, services
from users.models import MailJob, OrgSetting, OutboxMail, User
from users.outbox import MailKind, MailStatus

pytestmark = pytest.mark.django_db


def worker_pass() -> str:
    """One pass of the mail worker, as cron or a test runs it."""
    out = StringIO()
    call_command("send_queued_mail", "--once", stdout=out)
    return out.getvalue()


@pytest.fixture
def people(admin, make_user, named, system):
    """Seven active users without a factor (one of them without an e-mail address), one with a
    factor, one disabled."""
    TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    users = [make_user(f"u{n}@example.com") for n in range(6)]
    users.append(named("no-mail"))
    TOTPDevice.objects.create(user=make_user("enrolled@example.com"), name="app", confirmed=True)
    services.set_active(system, make_user("gone@example.com"), False)
    return users


def test_the_worker_fans_the_job_out_in_batches_each_user_once(settings, people, system):
    settings.PORTAL_MAIL_FANOUT_BATCH = 3
    services.set_global_2fa(system, True, grace_period_hours=48)
    job = mail.queue_enrol_reminders(system)
    assert OutboxMail.objects.count() == 0  # the request queued the job, no mail
    later = services.add_user(
        system, email="later@example.com", access_level="user", send_welcome_mail=False
    )
    passes = []
    for _ in range(4):
        text = worker_pass()
        job.refresh_from_db()
        passes.append(
            (len(outbox.outbox), job.queued_mails, job.without_email, bool(job.finished_at))
        )
        assert "Mail jobs:" in text or job.finished_at
    # 3 users a pass (by id): u0-u2, u3-u5, then no-mail (no address) and the end of the job.
    assert passes[:3] == [(3, 3, 0, False), (6, 6, 0, False), (6, 6, 1, True)]
    assert passes[3] == passes[2]  # a finished job is not fanned out again
    addresses = sorted(message.to[0] for message in outbox.outbox)
    assert addresses == [f"u{n}@example.com" for n in range(6)]
    assert later.email not in addresses  # added after the job was asked for
    ends = OrgSetting.load().grace_period_ends()
    first = outbox.outbox[0]
    assert first.subject == "Set up a second factor for the portal"
    assert f"from {ends:%-d %b %Y, %H:%M} UTC" in first.body
    assert "Until then you can sign in as usual" in first.body
    assert f"{settings.PORTAL_BASE_URL}/account/security/" in first.body
    rows = OutboxMail.objects.filter(kind=MailKind.ENROL_REMINDER)
    assert rows.count() == 6 and set(rows.values_list("status", flat=True)) == {MailStatus.SENT}
    assert set(rows.values_list("reason", flat=True)) == {f"mail job {job.pk}"}
    assert len(set(rows.values_list("message_id", flat=True))) == 6


def test_a_user_who_enrolled_meanwhile_is_not_mailed(settings, people, system):
    settings.PORTAL_MAIL_FANOUT_BATCH = 100
    mail.queue_enrol_reminders(system)
    mail.fan_out()
    TOTPDevice.objects.create(user=people[0], name="app", confirmed=True)
    worker_pass()
    assert sorted(m.to[0] for m in outbox.outbox) == [f"u{n}@example.com" for n in range(1, 6)]
    skipped = OutboxMail.objects.get(user=people[0])
    assert (skipped.status, skipped.last_error) == (
        MailStatus.FAILED,
        "Not needed any more: the user has set up a second factor.",
    )
    assert "Your administrators ask you to add a second factor" in outbox.outbox[0].body


def test_one_job_at_a_time(people, system):
    mail.queue_enrol_reminders(system)
    with pytest.raises(services.Conflict, match="Reminder mails are going out already"):
        mail.queue_enrol_reminders(system)
    while mail.fan_out():
        pass
    assert MailJob.objects.get().finished_at is not None
    mail.queue_enrol_reminders(system)  # once it is done, another may be asked for
    assert MailJob.objects.count() == 2


def test_the_request_costs_the_same_for_ten_users_or_a_hundred(rechecked_admin, make_user):
    def asked() -> int:
        MailJob.objects.update(finished_at=OrgSetting.load().updated)
        with CaptureQueriesContext(connection) as queries:
            assert rechecked_admin.post(reverse("org_remind")).status_code == 302
        return len(queries)

    for n in range(10):
        make_user(f"a{n}@example.com")
    few = asked()
    for n in range(90):
        make_user(f"b{n}@example.com")
    assert asked() == few
    assert OutboxMail.objects.count() == 0 and MailJob.objects.count() == 2


def test_a_deadline_already_past_is_said_so(settings, people, system):
    services.set_global_2fa(system, True, grace_period_hours=1)
    OrgSetting.objects.update(enforced_since=OrgSetting.load().enforced_since - timedelta(days=2))
    User.objects.filter(pk=people[0].pk).update(
        date_joined=OrgSetting.load().enforced_since - timedelta(days=1)
    )
    mail.queue_enrol_reminders(system)
    worker_pass()
    body = next(m.body for m in outbox.outbox if m.to == ["u0@example.com"])
    assert "That time has passed" in body


@LIVE_DB
def test_the_running_worker_sends_a_backlog_without_pausing_between_passes(system):
    """250 users at 100 a batch and 100 mails a pass: several passes, which a worker told to
    wait 600 s between passes finishes long before the first wait would end, because it only
    waits when a pass found less than a full batch to do."""
    User.objects.bulk_create(
        User(username=f"bulk{n}", email=f"bulk{n}@example.com") for n in range(250)
    )
    job = mail.queue_enrol_reminders(system)
    env = os.environ | {
        "DATABASE_URL": live_database_url(),
        "PORTAL_MAIL_FANOUT_BATCH": "100",
        "EMAIL_URL": "dummymail://",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "send_queued_mail", "--interval", "600"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):  # at most 60 s, far below one 600 s pause
            job.refresh_from_db()
            sent = OutboxMail.objects.filter(status=MailStatus.SENT).count()
            if job.finished_at and sent == 250:
                break
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert (job.queued_mails, sent) == (250, 250)
