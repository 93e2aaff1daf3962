"""The mail outbox: the *intent* of every mail (which one, for whom, why), queued in the
transaction of the change that asks for it and sent by ``manage.py send_queued_mail``.

A ``MailJob`` is one request to mail many users (everyone without a second factor): the
request queues only the job, and the worker fans it out into mails, one batch per pass.

A row never holds a body: welcome and reset mails carry a one-time link, which is made
when the mail is sent (users/mail.py), so the database holds no usable secret.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class MailKind(models.TextChoices):
    WELCOME = "welcome", "Welcome"
    PASSWORD_RESET = "password_reset", "Password reset"
    FACTORS_RESET = "factors_reset", "Second factors reset"
    ENROL_REMINDER = "enrol_reminder", "Second factor reminder"


class MailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboxMail(models.Model):
    """One mail to send at least once; ``message_id`` stays the same for every attempt, so
    a resend after an unacknowledged delivery is recognisable as the same mail."""

    kind = models.CharField(max_length=32, choices=MailKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mails"
    )
    requested_by = models.CharField(max_length=254, blank=True, default="")
    reason = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=16, choices=MailStatus.choices, default=MailStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True, default="")
    message_id = models.CharField(max_length=255, unique=True)
    created = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt"], name="users_outbox_due")]
        verbose_name = "queued mail"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} mail for user {self.user_id} ({self.status})"


class MailJob(models.Model):
    """Mail every active user without a second factor, as one audited request: the worker
    queues the mails in batches of ``PORTAL_MAIL_FANOUT_BATCH`` users, in id order, up to the
    highest user id when the job was asked for (``up_to_user``)."""

    kind = models.CharField(max_length=32, choices=MailKind.choices)
    requested_by = models.CharField(max_length=254, blank=True, default="")
    up_to_user = models.PositiveBigIntegerField(default=0)
    after_user = models.PositiveBigIntegerField(default=0, help_text="Users up to here are done.")
    queued_mails = models.PositiveIntegerField(default=0)
    without_email = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "mail job"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} job {self.pk}"
