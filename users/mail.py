"""Mails that carry a one-time link to set a password (welcome and reset)."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import User


def set_password_link(user: User) -> str:
    """A link to Django's password-reset confirm page, valid until the password changes."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
    return f"{settings.PORTAL_BASE_URL}{path}"


def _send(user: User, template: str, subject: str) -> None:
    context = {"user": user, "link": set_password_link(user), "base_url": settings.PORTAL_BASE_URL}
    body = render_to_string(template, context)
    send_mail(subject, body, None, [user.email])


def send_welcome_mail(user: User) -> None:
    _send(user, "emails/welcome.txt", "Welcome to the portal")


def send_password_reset_mail(user: User) -> None:
    _send(user, "emails/password_reset.txt", "Reset your portal password")


def send_factors_reset_mail(user: User, apps: int, keys: list[str]) -> None:
    """Someone else removed the user's second factors: they should know, in case it was not them who asked."""
    context = {"user": user, "apps": apps, "keys": keys, "base_url": settings.PORTAL_BASE_URL}
    send_mail(
        "Your portal second factors were reset",
        render_to_string("emails/factors_reset.txt", context),
        None,
        [user.email],
    )
