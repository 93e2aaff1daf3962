"""Mail never fails a request and is never lost: the change queues the mail's intent in its
own transaction; the worker (``send_queued_mail``) sends it to a real SMTP server (aiosmtpd)
with retries, backoff and a stable Message-ID, making the one-time link only then."""

from __future__ import annotations

import re
import socket
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.urls import reverse
from helpers import signed_in
from servers import SmtpServer

from users import mail
from users.models import AuditEntry, OutboxMail, User

pytestmark = pytest.mark.django_db
CREATED = {"msg": "User (new@example.com) successfully created.", "result": "success"}


@pytest.fixture
def smtp(settings):
    """The portal mails through real SMTP to a server that is not started yet."""
    server = SmtpServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_TIMEOUT = 2
    yield server
    server.stop()


def run_worker() -> str:
    out = StringIO()
    call_command("send_queued_mail", "--once", stdout=out)
    return out.getvalue().strip()


def row_text(row: OutboxMail) -> str:
    return repr(list(OutboxMail.objects.filter(pk=row.pk).values()))


def test_smtp_down_costs_no_request_and_the_mail_goes_out_when_it_is_back(
    v1, smtp, settings, client
):
    settings.PORTAL_MAIL_RETRY_SECONDS = 0.5
    response = v1.post("user/add", email="new@example.com", access_level="user")
    assert (response.status_code, response.json()) == (200, CREATED)
    user = User.objects.get(email="new@example.com")
    row = OutboxMail.objects.get()
    assert (row.user, row.kind, row.status, row.requested_by) == (
        user,
        "welcome",
        "queued",
        "admin@example.com",
    )
    # The outbox holds the intent, never a usable link.
    assert default_token_generator.make_token(user) not in row_text(
        row
    ) and "/accounts/" not in row_text(row)

    assert run_worker() == "Mail: 1 retry."
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error.startswith("ConnectionRefusedError")
    assert row.next_attempt > row.updated - timedelta(seconds=1)
    assert run_worker() == "Mail: nothing due."  # backoff: not tried again at once
    assert v1.post("user/add", email="new@example.com", access_level="user").status_code == 409

    smtp.start()
    time.sleep(0.6)
    assert run_worker() == "Mail: 1 sent."
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    [message] = smtp.messages
    assert message["Message-ID"] == row.message_id and message["To"] == "new@example.com"
    link = re.search(r"https?://\S+(/accounts/reset/\S+/)", message.get_payload()).group(1)
    assert client.get(link, follow=True).context["validlink"]
    assert run_worker() == "Mail: nothing due."
    assert User.objects.filter(email="new@example.com").count() == 1


def test_a_hanging_smtp_server_costs_one_email_timeout_per_pass(system, smtp, settings):
    settings.EMAIL_TIMEOUT = 0.5
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", smtp.port))
        silent.listen(8)
        for name in ("ann", "bob", "cy"):
            mail.queue_password_reset(User.objects.create_user(name, f"{name}@example.com"), system)
        started = time.monotonic()
        assert run_worker() == "Mail: 1 retry."  # the others wait for the next pass
    assert time.monotonic() - started < 3
    first, *others = OutboxMail.objects.order_by("id")
    assert first.attempts == 1 and "timed out" in first.last_error
    assert [(m.attempts, m.status) for m in others] == [(0, "queued"), (0, "queued")]


def test_backoff_doubles_up_to_its_cap(settings):
    settings.PORTAL_MAIL_RETRY_SECONDS, settings.PORTAL_MAIL_RETRY_MAX_SECONDS = 30, 100
    assert [mail.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_failed_mails_show_their_reason_and_admins_send_them_again(
    v1, smtp, settings, admin, sent_mail
):
    settings.PORTAL_MAIL_RETRY_SECONDS, settings.PORTAL_MAIL_MAX_ATTEMPTS = 0, 2
    v1.post("user/add", email="new@example.com", access_level="user")
    user = User.objects.get(email="new@example.com")
    assert run_worker() == "Mail: 1 retry."
    assert run_worker() == "Mail: 1 failed."
    failed = OutboxMail.objects.get()
    assert failed.status == "failed" and failed.last_error.startswith("ConnectionRefusedError")

    page = signed_in(admin).get(reverse("user_detail", args=[user.pk])).content.decode()
    assert "failed" in page and "ConnectionRefusedError" in page and "Send again" in page
    own_page = signed_in(user).get(reverse("user_detail", args=[user.pk])).content.decode()
    assert "ConnectionRefusedError" in own_page and "Send again" not in own_page

    url = reverse("user_mail_send_again", args=[user.pk])
    assert signed_in(user).post(url, {"mail": failed.pk}).status_code == 403
    assert signed_in(admin).post(url, {"mail": "1" * 30}).status_code == 400
    assert (
        OutboxMail.objects.count() == 1
        and not AuditEntry.objects.filter(action_type="user_mail_resend").exists()
    )
    response = signed_in(admin).post(url, {"mail": failed.pk}, follow=True)
    assert "Queued the welcome mail to new@example.com again." in response.content.decode()
    again = OutboxMail.objects.exclude(pk=failed.pk).get()
    assert (again.status, again.kind, again.attempts) == ("queued", "welcome", 0)
    assert again.message_id != failed.message_id  # a new mail with a new link
    entry = AuditEntry.objects.get(action_type="user_mail_resend")
    assert (entry.actor, entry.target_label, entry.additional_information) == (
        admin,
        user.label,
        {"mail": failed.pk},
    )

    smtp.start()
    assert run_worker() == "Mail: 1 sent."
    assert [m["Message-ID"] for m in smtp.messages] == [again.message_id]


def test_a_disabled_user_gets_no_link(system, sent_mail):
    ann = User.objects.create_user("ann", "ann@example.com")
    mail.queue_password_reset(ann, system)
    ann.is_active = False
    ann.save()
    assert sent_mail() == []
    assert OutboxMail.objects.values_list("status", "last_error").get() == (
        "failed",
        "The user is disabled.",
    )


def test_the_outbox_is_not_in_the_django_admin():
    assert OutboxMail not in django_admin.site._registry
