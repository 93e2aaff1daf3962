"""Org-wide settings (admins only): the enforced-2FA switch with its grace period, and the
reminder mail to everyone without a second factor."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from portal.lib.access import admin_required
from portal.lib.counting import bounded_count
from portal.lib.errors import PortalError
from portal.lib.forms import add_service_error

from . import mail, selectors, services
from .audit import Actor
from .forms import OrgNameForm, OrgSettingsForm, SelfServiceResetForm
from .models import MailJob, OrgSetting
from .outbox import MailKind
from .twofactor.decorators import recent_auth_required_when


def _weakens_enforcement(request: HttpRequest) -> bool:
    """A POST switching globally enforced 2FA off, or giving users more time while it is on:
    it needs a recent check (turning it on or shortening the period does not)."""
    if request.method != "POST":
        return False
    org = OrgSetting.load()
    form = OrgSettingsForm(request.POST)
    if not (org.globally_enforce_2fa and form.is_valid()):
        return False
    hours = form.cleaned_data["grace_period_hours"]
    return not form.cleaned_data["globally_enforce_2fa"] or (
        hours is not None and hours > org.grace_period_hours
    )


@admin_required
@recent_auth_required_when(_weakens_enforcement)
def org_settings(request: HttpRequest) -> HttpResponse:
    org = OrgSetting.load()
    form = OrgSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={
            "globally_enforce_2fa": org.globally_enforce_2fa,
            "grace_period_hours": org.grace_period_hours,
        },
    )
    if request.method == "POST" and form.is_valid():
        enabled = form.cleaned_data["globally_enforce_2fa"]
        hours = form.cleaned_data["grace_period_hours"]
        if hours == org.grace_period_hours:
            hours = None
        if enabled and not org.globally_enforce_2fa and not form.cleaned_data["confirmed"]:
            return _confirm_enforcement(request, org, hours)
        if enabled != org.globally_enforce_2fa or hours is not None:
            org = services.set_global_2fa(Actor.from_request(request), enabled, hours)
            messages.success(request, _saved_message(org))
        return redirect("org_settings")
    context = {
        "section": "org",
        "form": form,
        "org": org,
        "name_form": OrgNameForm(initial={"org_name": org.org_name}),
        "reset_form": SelfServiceResetForm(
            initial={"self_service_password_reset": org.self_service_password_reset}
        ),
        "grace_period_ends": org.grace_period_ends(),
        "grace_period_over": (org.grace_period_ends() or timezone.now()) <= timezone.now(),
        "without_factor": bounded_count(selectors.users_without_second_factor()).value,
        "without_factor_url": f"{reverse('user_list')}?disabled=no&two_factor=none",
        "reminder_job": MailJob.objects.filter(kind=MailKind.ENROL_REMINDER).first(),
    }
    return render(request, "users/org_settings.html", context, status=400 if form.is_bound else 200)


def _confirm_enforcement(request: HttpRequest, org: OrgSetting, hours: int | None) -> HttpResponse:
    """Turning enforcement on says what happens, and to whom, before it happens."""
    hours = org.grace_period_hours if hours is None else hours
    context = {
        "section": "org",
        "without_factor": bounded_count(selectors.users_without_second_factor()).value,
        "hours": hours,
        "ends": timezone.now() + timedelta(hours=hours),
    }
    return render(request, "users/org_enforce_confirm.html", context)


def _saved_message(org: OrgSetting) -> str:
    if not org.globally_enforce_2fa:
        return f"Globally enforced 2FA is off. Grace period: {org.grace_period_hours} hours."
    if not org.grace_period_hours:
        return "Globally enforced 2FA is on, with no grace period."
    return (
        f"Globally enforced 2FA is on. The grace period of {org.grace_period_hours} hours ends "
        f"{org.grace_period_ends():%Y-%m-%d %H:%M} UTC for existing users."
    )


@admin_required
@require_http_methods(["GET", "POST"])
def org_remind(request: HttpRequest) -> HttpResponse:
    """GET asks; POST queues one mail job (the mail worker mails them in batches)."""
    if request.method == "POST":
        try:
            job = mail.queue_enrol_reminders(Actor.from_request(request))
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Mail job {job.pk} is queued: the mail worker mails everyone without a second "
                "factor in batches; this page shows how far it got.",
            )
        return redirect("org_settings")
    context = {
        "section": "org",
        "title": "Mail everyone without a second factor?",
        "question": "Every active user without a second factor gets a mail asking them to set "
        "one up (with their deadline while enforcement is on). The mail worker sends them in "
        "batches.",
        "button": "Mail them now",
        "button_class": "primary",
        "cancel_url": reverse("org_settings"),
    }
    return render(request, "confirm.html", context)


@admin_required
@require_POST
def org_name(request: HttpRequest) -> HttpResponse:
    """The organisation's name (its own form on the org page)."""
    form = OrgNameForm(request.POST)
    if form.is_valid():
        try:
            org = services.set_org_name(Actor.from_request(request), form.cleaned_data["org_name"])
        except PortalError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"The organisation is called {org.org_name}.")
            return redirect("org_settings")
    org = OrgSetting.load()
    return render(
        request,
        "users/org_name.html",
        {"section": "org", "name_form": form, "org": org},
        status=400,
    )


@admin_required
@require_POST
def org_password_reset(request: HttpRequest) -> HttpResponse:
    """The self-service reset switch (its own form on the org page)."""
    form = SelfServiceResetForm(request.POST)
    if form.is_valid():
        enabled = form.cleaned_data["self_service_password_reset"]
        if enabled != OrgSetting.load().self_service_password_reset:
            services.set_self_service_reset(Actor.from_request(request), enabled)
            messages.success(
                request, f"Self-service password reset is {'on' if enabled else 'off'}."
            )
    return redirect("org_settings")
