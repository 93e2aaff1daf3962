"""Org-wide settings (admins only)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.lib.access import admin_required

from . import selectors, services
from .audit import Actor
from .forms import OrgSettingsForm, SelfServiceResetForm
from .models import OrgSetting
from .twofactor.decorators import recent_auth_required_when


def _switches_enforcement_off(request: HttpRequest) -> bool:
    """A POST turning globally enforced 2FA off: it needs a recent check (turning it
    on does not)."""
    if request.method != "POST" or not OrgSetting.load().globally_enforce_2fa:
        return False
    form = OrgSettingsForm(request.POST)
    return form.is_valid() and not form.cleaned_data["globally_enforce_2fa"]


@admin_required
@recent_auth_required_when(_switches_enforcement_off)
def org_settings(request: HttpRequest) -> HttpResponse:
    org = OrgSetting.load()
    form = OrgSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"globally_enforce_2fa": org.globally_enforce_2fa},
    )
    if request.method == "POST" and form.is_valid():
        enabled = form.cleaned_data["globally_enforce_2fa"]
        if enabled != org.globally_enforce_2fa:
            services.set_global_2fa(Actor.from_request(request), enabled)
            messages.success(request, f"Globally enforced 2FA is {'on' if enabled else 'off'}.")
        return redirect("org_settings")
    context = {
        "section": "org",
        "form": form,
        "org": org,
        "without_factor": selectors.users_without_second_factor().count(),
        "reset_form": SelfServiceResetForm(
            initial={"self_service_password_reset": org.self_service_password_reset}
        ),
    }
    return render(request, "users/org_settings.html", context)


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
