"""The Django admin site, for active admins who passed a second factor in this session.

It is the default ``admin.site`` (see portal/apps.py), so every ``admin.site.register``
gets the check. Sign-in goes through the portal's own login page, and every change
(any POST) needs a recent password or factor check, as the pages' sensitive changes do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from users.twofactor.decorators import confirm_before_change
from users.twofactor.policy import factor_required, has_second_factor
from users.twofactor.session import checked_recently, is_verified


class PortalAdminSite(admin.AdminSite):
    site_header = "Django admin"
    site_title = "Portal · Django admin"

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, and verified whenever the user has a factor or is required to have one (the
        rule the API applies to passwords: a grace period holds here too)."""
        if not super().has_permission(request):
            return False
        user = request.user
        return is_verified(request) or not (has_second_factor(user) or factor_required(user))

    def admin_view(self, view: Callable, cacheable: bool = False) -> Callable:
        """Every POST (add, change, delete, bulk action) also needs a recent check: a stale
        session is sent to confirm it is them and back to the same admin page (a GET), so the
        POST changes nothing. Signing out of the admin needs no check."""

        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if (
                request.method not in ("GET", "HEAD", "OPTIONS")
                and not checked_recently(request)
                and request.path != reverse("admin:logout", current_app=self.name)
            ):
                return confirm_before_change(request, request.get_full_path())
            return view(request, *args, **kwargs)

        return super().admin_view(update_wrapper(checked, view), cacheable)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """The portal's login page; a signed-in admin without a passed factor confirms one."""
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        if not request.user.is_authenticated:
            return redirect_to_login(next_url, settings.LOGIN_URL)
        if not request.user.is_staff:
            raise PermissionDenied
        return redirect_to_login(next_url, reverse("reauth"))

    def password_change(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        """The portal's own page, which asks for a recent check and audits the change."""
        return redirect("password_change")
