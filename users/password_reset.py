"""The page behind the one-time link of welcome and reset mails, saving through the service."""

from __future__ import annotations

from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import PasswordResetConfirmView
from django.http import HttpResponse

from portal.lib.errors import PortalError
from portal.lib.forms import add_service_error

from . import services
from .audit import Actor
from .models import User


class ResetLinkPasswordForm(SetPasswordForm):
    """Django's form, minus its ``user.save()`` of the whole row loaded when the request began:
    the service writes only the password under the row lock, and audits it."""

    def __init__(self, user: User, *args, actor: Actor, **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        self.actor = actor

    def save(self, commit: bool = True) -> User:
        self.user = services.update_credentials(
            self.actor, self.user, password=self.cleaned_data["new_password1"]
        )
        return self.user


class ResetLinkPasswordView(PasswordResetConfirmView):
    form_class = ResetLinkPasswordForm

    def get_form_kwargs(self) -> dict:
        return super().get_form_kwargs() | {"actor": Actor.from_request(self.request, self.user)}

    def form_valid(self, form: ResetLinkPasswordForm) -> HttpResponse:
        try:
            return super().form_valid(form)
        except PortalError as exc:  # e.g. the user was removed since the link was opened
            add_service_error(form, exc)
            return self.form_invalid(form)
