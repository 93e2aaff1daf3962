"""The user page's "send again" for a queued, sent or failed mail (admins only, audited)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest

from . import mail
from .access import user_action
from .audit import Actor
from .models import User

MAIL_ID_DIGITS = 18  # ids fit a 64-bit column


@user_action()
def user_mail_send_again(request: HttpRequest, user: User) -> None:
    """A new mail of the same kind, with a fresh one-time link."""
    mail_id = request.POST.get("mail", "")
    if not (mail_id.isascii() and mail_id.isdigit() and len(mail_id) <= MAIL_ID_DIGITS):
        raise BadRequest("mail must be a mail id")
    queued = mail.send_again(Actor.from_request(request), user, int(mail_id))
    messages.success(
        request, f"Queued the {queued.get_kind_display().lower()} mail to {user.email} again."
    )
