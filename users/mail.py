"""Mails that carry a one-time link to set a password (welcome and reset).

A service queues the *intent* in its own transaction (``queue_welcome``,
``queue_password_reset``), so a mail exists exactly when the change committed and an
SMTP failure can never fail the request. ``manage.py send_queued_mail`` sends due mails
at least once, with retries and exponential backoff; the one-time link is made at
sending time (the outbox holds no secret), and every attempt of one mail carries the
same ``Message-ID``, so a resend after an unacknowledged delivery is recognisable.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, Min
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.lib.errors import Conflict, NotFound

from . import selectors
from .audit import Actor, record
from .models import OrgSetting, User
from .outbox import MailJob, MailKind, MailStatus, OutboxMail
from .twofactor.policy import enrolment_deadline, has_second_factor

logger = logging.getLogger("portal.mail")
# Mails that carry a one-time link to set a password, made when the mail is sent.
LINK_KINDS = {MailKind.WELCOME, MailKind.PASSWORD_RESET}
TEMPLATES = {
    MailKind.WELCOME: ("emails/welcome.txt", "Welcome to {org_name}"),
    MailKind.PASSWORD_RESET: ("emails/password_reset.txt", "Reset your portal password"),
    MailKind.FACTORS_RESET: ("emails/factors_reset.txt", "Your portal second factors were reset"),
    MailKind.ENROL_REMINDER: ("emails/enrol_reminder.txt", "Set up a second factor for the portal"),
}
RECENT_MAILS = 5
SEND_BATCH = 100  # mails one worker pass sends at most
ERROR_MAX = OutboxMail._meta.get_field("last_error").max_length
# Refusals of one message; any other failure (refused connection, timeout, disconnect)
# means the server is unreachable, and the rest of the pass waits for the next one.
MESSAGE_REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


class Undeliverable(Exception):
    """A mail that no retry can send (the user was disabled, has no address …)."""


def set_password_link(user: User) -> str:
    """A link to Django's password-reset confirm page, valid until the password changes."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
    return f"{settings.PORTAL_BASE_URL}{path}"


def queue(kind: str, user: User, actor: Actor, reason: str) -> OutboxMail:
    """Queue a mail in the caller's transaction: it is sent only if that commits."""
    mail = _intent(kind, user.pk, actor, reason)
    mail.save()
    return mail


def _intent(kind: str, user_id: int, actor: Actor, reason: str) -> OutboxMail:
    """An unsaved outbox row: the mail's intent and its Message-ID for every attempt."""
    return OutboxMail(
        kind=kind,
        user_id=user_id,
        requested_by=actor.label or (actor.user.label if actor.user else ""),
        reason=reason,
        message_id=make_msgid(
            domain=urlsplit(settings.PORTAL_BASE_URL).hostname or "portal.invalid"
        ),
    )


def queue_welcome(user: User, actor: Actor) -> OutboxMail:
    return queue(MailKind.WELCOME, user, actor, "account added")


def queue_password_reset(user: User, actor: Actor) -> OutboxMail:
    return queue(MailKind.PASSWORD_RESET, user, actor, "password reset asked")


def queue_enrol_reminders(actor: Actor) -> MailJob:
    """Mail every active user without a second factor: one audited job row, nothing more in
    this transaction (at a million users the mails are the worker's work, ``fan_out``).

    The job covers the users that exist now (up to the highest id); one job at a time, so a
    second click while it runs mails nobody twice.
    """
    with transaction.atomic():
        OrgSetting.load()
        OrgSetting.objects.select_for_update().get(pk=1)  # queues two admins asking at once
        running = MailJob.objects.filter(kind=MailKind.ENROL_REMINDER, finished_at=None).first()
        if running is not None:
            raise Conflict(
                f"Reminder mails are going out already (asked for by {running.requested_by} at "
                f"{running.created:%Y-%m-%d %H:%M} UTC)."
            )
        job = MailJob.objects.create(
            kind=MailKind.ENROL_REMINDER,
            requested_by=actor.label or (actor.user.label if actor.user else ""),
            up_to_user=User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        )
        record(
            actor,
            "enrol_reminder_mail",
            f"Asked to mail every active user without a second factor (mail job {job.pk})",
            mail_job=job.pk,
        )
    return job


def fan_out(batch: int | None = None) -> int:
    """One batch of the oldest unfinished mail job: queue a mail for each of the next ``batch``
    users it covers who still have no factor (by id), in one transaction with the job's
    progress, so every user is queued once however many workers run. Returns the users
    handled (0: no job had work)."""
    batch = batch or settings.PORTAL_MAIL_FANOUT_BATCH
    with transaction.atomic():
        job = (
            MailJob.objects.select_for_update(skip_locked=True)
            .filter(finished_at=None)
            .order_by("id")
            .first()
        )
        if job is None:
            return 0
        users = list(
            selectors.users_without_second_factor()
            .filter(pk__gt=job.after_user, pk__lte=job.up_to_user)
            .order_by("pk")
            .values_list("pk", "email")[:batch]
        )
        actor = Actor.system(job.requested_by)
        reason = f"mail job {job.pk}"
        mails = [_intent(job.kind, pk, actor, reason) for pk, email in users if email]
        OutboxMail.objects.bulk_create(mails)
        job.queued_mails += len(mails)
        job.without_email += len(users) - len(mails)
        if users:
            job.after_user = users[-1][0]
        if len(users) < batch:
            job.finished_at = timezone.now()
        job.save(update_fields=["queued_mails", "without_email", "after_user", "finished_at"])
        return len(users)


def queue_factors_reset(user: User, actor: Actor, apps: int, keys: list[str]) -> OutboxMail:
    """Someone else removed the user's second factors: they should know, in case they
    did not ask."""
    removed = (["the authenticator app"] if apps else []) + [
        f'the security key "{key}"' for key in keys
    ]
    reason = ", ".join(removed)
    limit = OutboxMail._meta.get_field("reason").max_length
    return queue(
        MailKind.FACTORS_RESET,
        user,
        actor,
        reason if len(reason) <= limit else reason[: limit - 1] + "…",
    )


def send_again(actor: Actor, user: User, mail_id: int) -> OutboxMail:
    """Queue a new mail of the same kind as one of ``user``'s mails: a fresh link and its
    own Message-ID (it is a new mail, not a resend of the old one); audited."""
    with transaction.atomic():
        previous = OutboxMail.objects.filter(user=user, pk=mail_id).first()
        if previous is None:
            raise NotFound("No such mail for this user.")
        label = previous.get_kind_display().lower()
        record(
            actor,
            "user_mail_resend",
            f"Queued the {label} mail for {user.label} again",
            target=user,
            mail=previous.pk,
        )
        return queue(previous.kind, user, actor, f"sent again by {actor.label or 'an admin'}")


@dataclass(frozen=True)
class Invitation:
    """An invited user's latest welcome mail: who asked for it, when, and how its link stands
    (a link is made when the mail is sent and works for ``PASSWORD_RESET_TIMEOUT``)."""

    mail: OutboxMail

    @property
    def expires(self) -> datetime | None:
        if self.mail.sent_at is None:
            return None
        return self.mail.sent_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)

    @property
    def expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()


def invitations(users: list[User]) -> dict[int, Invitation]:
    """The latest welcome mail of each invited user among ``users``, by user id (one query, none
    when no user is invited); an invited user without one was added without a welcome mail."""
    invited = [user.pk for user in users if user.is_invited]
    found: dict[int, Invitation] = {}
    if not invited:
        return found
    welcome = OutboxMail.objects.filter(user_id__in=invited, kind=MailKind.WELCOME)
    for mail in welcome.order_by("user_id", "-created", "-id"):
        found.setdefault(mail.user_id, Invitation(mail))
    return found


def recent_mails(user: User) -> list[OutboxMail]:
    """What the user's page shows: their last few mails and how each went."""
    return list(OutboxMail.objects.filter(user=user)[:RECENT_MAILS])


def queue_age() -> dict:
    """How far behind the worker is (for /readyz): queued mails and the oldest one's age."""
    now = timezone.now()
    found = OutboxMail.objects.filter(status=MailStatus.QUEUED).aggregate(
        queued=Count("id"), oldest=Min("created")
    )
    oldest = found["oldest"]
    return {
        "queued": found["queued"],
        "oldest_queued_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
    }


def message_for(mail: OutboxMail) -> EmailMessage:
    """The mail as sent now: a fresh one-time link, the mail's stable Message-ID."""
    user = mail.user
    if not user.is_active:
        raise Undeliverable("The user is disabled.")
    if not user.email:
        raise Undeliverable("The user has no e-mail address.")
    template, subject = TEMPLATES[mail.kind]
    context = {"user": user, "mail": mail, "base_url": settings.PORTAL_BASE_URL}
    if mail.kind in LINK_KINDS:
        context["link"] = set_password_link(user)
        link_life = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        context["link_expires"] = timezone.now() + link_life
    if mail.kind == MailKind.WELCOME:
        context |= _invitation_context(user)
        subject = subject.format(org_name=context["org_name"])
    if mail.kind == MailKind.ENROL_REMINDER:
        if has_second_factor(user):
            raise Undeliverable("Not needed any more: the user has set up a second factor.")
        deadline = enrolment_deadline(user)
        passed = deadline is not None and deadline <= timezone.now()
        context |= {"deadline": deadline, "deadline_passed": passed}
    body = render_to_string(template, context)
    return EmailMessage(subject, body, None, [user.email], headers={"Message-ID": mail.message_id})


def _invitation_context(user: User) -> dict:
    """What the welcome mail says beyond the link: the organisation's name, and whether (and
    from when) the new user must set up a second factor."""
    deadline = enrolment_deadline(user)
    return {
        "org_name": OrgSetting.load().org_name,
        "factor_deadline": deadline,
        "factor_at_first_sign_in": deadline is not None and deadline <= timezone.now(),
    }


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failure, capped."""
    seconds = settings.PORTAL_MAIL_RETRY_SECONDS * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.PORTAL_MAIL_RETRY_MAX_SECONDS))


def send_due(limit: int = SEND_BATCH) -> Counter:
    """Send the mails that are due, oldest first; returns how many were sent, put off, failed.
    An unreachable server ends the pass, so a hanging one costs one EMAIL_TIMEOUT, not one a
    mail."""
    due = (
        OutboxMail.objects.filter(status=MailStatus.QUEUED, next_attempt__lte=timezone.now())
        .order_by("next_attempt", "id")
        .values_list("pk", flat=True)[:limit]
    )
    outcomes: Counter = Counter()
    for pk in list(due):
        outcome, server_down = _send_one(pk)
        outcomes[outcome] += 1
        if server_down:
            break
    return outcomes


def _send_one(pk: int) -> tuple[str, bool]:
    """One attempt, under the row's lock so two workers never send the same mail at once
    (another worker's mail is skipped). Sent first, then marked: at least once."""
    with transaction.atomic():
        mail = (
            OutboxMail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=pk, status=MailStatus.QUEUED)
            .first()
        )
        if mail is None:
            return "skipped", False
        mail.attempts += 1
        now = timezone.now()
        server_down = False
        try:
            message_for(mail).send()
        except Undeliverable as exc:
            mail.status, mail.last_error = MailStatus.FAILED, str(exc)
        except Exception as exc:  # SMTP refusals, connection errors, timeouts
            mail.last_error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
            server_down = not isinstance(exc, MESSAGE_REFUSALS)
            if mail.attempts >= settings.PORTAL_MAIL_MAX_ATTEMPTS:
                mail.status = MailStatus.FAILED
            else:
                mail.next_attempt = now + retry_delay(mail.attempts)
            logger.warning(
                "Mail %s (attempt %d) not sent: %s", mail.message_id, mail.attempts, mail.last_error
            )
        else:
            mail.status, mail.sent_at, mail.last_error = MailStatus.SENT, now, ""
        mail.save(
            update_fields=["status", "attempts", "next_attempt", "last_error", "sent_at", "updated"]
        )
        outcome = {MailStatus.SENT: "sent", MailStatus.FAILED: "failed"}.get(mail.status, "retry")
        return outcome, server_down
