"""The API keys pages (admins): the org-wide keys, and each flock's keys, created with role,
note and expiry, the secret shown once; removing one asks for confirmation and a recent
password or factor check."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from portal.lib.access import admin_required
from portal.lib.errors import PortalError
from portal.lib.forms import add_service_error
from users.audit import Actor
from users.twofactor.decorators import recent_auth_required

from . import api_keys
from .models import ApiKey, Flock, KeyRole


class ApiKeyForm(forms.Form):
    role = forms.ChoiceField(choices=KeyRole.choices, initial=KeyRole.READ_ONLY)
    note = forms.CharField(max_length=api_keys.NOTE_MAX_LENGTH)
    expires = forms.DateField(
        required=False, help_text="Optional: the key stops working at 00:00 UTC that day."
    )


@never_cache
@admin_required
@recent_auth_required
def api_keys_page(request: HttpRequest, flock_id: str | None = None) -> HttpResponse:
    """The table of org-wide keys (or of the flock's) and the form creating one (a lasting
    credential: after a recent check, as a personal token)."""
    flock = get_object_or_404(Flock, flock_id=flock_id) if flock_id else None
    form = ApiKeyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expires = data["expires"].isoformat() if data["expires"] else None
        try:
            key, token = api_keys.add_key(
                Actor.from_request(request),
                role=data["role"],
                note=data["note"],
                expires=expires,
                flock=flock,
            )
        except PortalError as exc:
            add_service_error(form, exc)
        else:
            context = {"section": "api_keys", "key": key, "token": token, "back": _page_of(key)}
            return render(request, "flocks/api_key_created.html", context)
    context = {"section": "api_keys", "form": form, "flock": flock, "keys": api_keys.keys_of(flock)}
    return render(request, "flocks/api_keys.html", context)


@admin_required
@recent_auth_required
def api_key_remove(request: HttpRequest, key_id: str) -> HttpResponse:
    key = get_object_or_404(ApiKey, key_id=key_id)
    if request.method == "POST":
        api_keys.remove_key(Actor.from_request(request), key)
        messages.success(request, f"Removed API key {key.key_id} ({key.note}).")
        return redirect(_page_of(key))
    context = {
        "section": "api_keys",
        "title": f"Remove API key {key.key_id} ({key.note})?",
        "question": "Scripts using it are refused from their next request on.",
        "button": "Remove key",
        "cancel_url": _page_of(key),
    }
    return render(request, "confirm.html", context)


def _page_of(key: ApiKey) -> str:
    """The page listing ``key``: its flock's keys, or the org-wide ones."""
    return reverse("flock_api_keys", args=[key.flock_id]) if key.flock_id else reverse("api_keys")
