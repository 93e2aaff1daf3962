"""The password-reset pages: "Forgot password?" (asking for a reset mail, ``reset_requests``)
and the page behind the one-time link of welcome and reset mails, saving through the service.

The link sets a password only: signing in afterwards still takes the second factor."""

from __future__ import annotations

import dataclasses

from django import forms
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import PasswordResetConfirmView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from portal.lib.errors import PortalError
from portal.lib.forms import add_service_error

from . import reset_requests, services
from .audit import Actor
from .models import OrgSetting, User

ASKER = "Forgot password page"  # who asked, in the audit log and the user's mail list


class ForgotPasswordForm(forms.Form):
    login = forms.CharField(
        label="User name or e-mail",
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        ),
    )


@never_cache
@sensitive_post_parameters("login")  # often a password typed into the wrong box
def forgot_password(request: HttpRequest) -> HttpResponse:
    """Ask for a reset mail. Whatever the name, the answer is the same redirect to the
    "sent" page; only the audit log tells what happened."""
    if request.user.is_authenticated:
        return redirect("password_change")
    allowed = reset_requests.self_service_allowed()
    form = ForgotPasswordForm(request.POST or None)
    if allowed and request.method == "POST" and form.is_valid():
        asker = dataclasses.replace(Actor.from_request(request), label=ASKER)
        reset_requests.ask_for_reset(asker, form.cleaned_data["login"])
        return redirect("password_forgot_sent")
    return render(request, "registration/password_forgot.html", {"form": form, "allowed": allowed})


@never_cache
def forgot_password_sent(request: HttpRequest) -> HttpResponse:
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    context = {"sent": True, "allowed": True, "link_days": days}
    return render(request, "registration/password_forgot.html", context)


class ResetLinkPasswordForm(SetPasswordForm):
    """Django's form, minus its ``user.save()`` of the whole row loaded when the request began:
    the service writes only the password under the row lock, and audits it."""

    def __init__(self, user: User, *args, actor: Actor, **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        self.actor = actor
        self.fields["new_password2"].label = "New password again"

    def clean(self) -> dict:
        """Django's checks, with the rules' refusals ("too common") under the password they
        are about, not under its repetition."""
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return forms.Form.clean(self)

    def save(self, commit: bool = True) -> User:
        self.user = services.update_credentials(
            self.actor, self.user, password=self.cleaned_data["new_password1"]
        )
        return self.user


class ResetLinkPasswordView(PasswordResetConfirmView):
    form_class = ResetLinkPasswordForm

    def get_context_data(self, **kwargs) -> dict:
        """The page names the account (and offers its user name to password managers)."""
        return super().get_context_data(**kwargs) | {"org_name": OrgSetting.load().org_name}

    def get_form_kwargs(self) -> dict:
        return super().get_form_kwargs() | {"actor": Actor.from_request(self.request, self.user)}

    def form_valid(self, form: ResetLinkPasswordForm) -> HttpResponse:
        try:
            return super().form_valid(form)
        except PortalError as exc:  # e.g. the user was removed since the link was opened
            add_service_error(form, exc)
            return self.form_invalid(form)
