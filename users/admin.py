"""The Django admin site's view of users, org settings, security keys and the audit log.

Changes that carry rules or audit entries go through users/services.py, as every other
face does: adding a user, access level, enabling and disabling, notes, summary mail,
removal (never the last active admin), resetting second factors. A refused change shows
the service's message and, since the admin wraps each change in a transaction, changes
nothing. Second factors and sign-in lock-outs have no admin of their own: the user's
page shows how many they have, never a secret.
"""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.lib.errors import Forbidden, PortalError

from . import services, unavailable
from .access import Refusal
from .audit import Actor
from .models import AuditEntry, OrgSetting, User, WebAuthnCredential
from .twofactor import recovery


class AddUserAdminForm(forms.ModelForm):
    """The fields of v1 ``user/add``; the service makes the user."""

    require_2fa = forms.BooleanField(label="Require 2FA", required=False)
    send_welcome_mail = forms.BooleanField(required=False, initial=True)

    class Meta:
        model = User
        fields = ["email", "access_level", "note"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True


class ServiceErrorsAsMessages(admin.ModelAdmin):
    """Turns a PortalError raised while saving or deleting into an error message; the admin's
    transaction around the change is rolled back, so nothing is half-done."""

    def changeform_view(
        self, request: HttpRequest, object_id=None, form_url="", extra_context=None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PortalError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request: HttpRequest, object_id, extra_context=None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except PortalError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


# Portal users carry no groups or Django permissions (access_level is the only one), so
# the auth app's Group admin would only confuse. django-otp's device admins show TOTP
# secrets and, like django-axes' lock-out admins, write factors and lock-outs with no
# audit entry: factors are reset with the audited actions of UserAdmin instead.
# tests/test_django_admin.py pins the models that stay registered.
for _model in (Group, TOTPDevice, StaticDevice, AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(User)
class UserAdmin(ServiceErrorsAsMessages):
    list_display = [
        "username",
        "email",
        "access_level",
        "is_active",
        "has_api_token",
        "summary_email_enabled",
        "must_enroll_2fa",
        "date_joined",
    ]
    list_filter = [
        "access_level",
        "is_active",
        "summary_email_enabled",
        "must_enroll_2fa",
        "date_joined",
    ]
    search_fields = ["username", "email", "note"]
    ordering = ["username"]
    date_hierarchy = "date_joined"
    add_fields = ["email", "access_level", "note", "require_2fa", "send_welcome_mail"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "username",
                    "email",
                    "access_level",
                    "is_active",
                    "note",
                    "summary_email_enabled",
                    "api_token_created",
                    "api_token_last_used",
                    "date_joined",
                    "last_login",
                ]
            },
        ),
        (
            "Second factors",
            {
                "fields": [
                    "must_enroll_2fa",
                    "authenticator_app",
                    "security_keys",
                    "recovery_codes_left",
                ],
                "description": "Reset them with the “Reset authenticator app” and “Reset security "
                "keys” actions of the users list (audited).",
            },
        ),
    ]
    readonly_fields = [
        "username",
        "email",
        "must_enroll_2fa",
        "authenticator_app",
        "security_keys",
        "recovery_codes_left",
        "api_token_created",
        "api_token_last_used",
        "date_joined",
        "last_login",
    ]
    actions = [
        "disable_users",
        "enable_users",
        "send_password_reset",
        "reset_totp",
        "reset_webauthn",
        "remove_users",
    ]

    @admin.display(boolean=True, description="API token")
    def has_api_token(self, user: User) -> bool:
        return bool(user.api_token_index)

    @admin.display(boolean=True)
    def authenticator_app(self, user: User) -> bool:
        return TOTPDevice.objects.filter(user=user, confirmed=True).exists()

    @admin.display(description="Security keys")
    def security_keys(self, user: User) -> int:
        return user.webauthn_credentials.count()

    @admin.display(description="Recovery codes left")
    def recovery_codes_left(self, user: User) -> int:
        return recovery.remaining(user)

    def get_form(
        self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs
    ):
        if obj is None:
            kwargs["form"] = AddUserAdminForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None):
        if obj is None:
            return [(None, {"fields": self.add_fields})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None):
        return self.readonly_fields if obj is not None else []

    def get_actions(self, request: HttpRequest) -> dict:
        """No bulk delete that skips the service: ``remove_users`` replaces it."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> User:
        if change:
            return form.save(commit=False)
        data = form.cleaned_data
        return services.add_user(
            Actor.from_request(request),
            email=data["email"] or "",
            access_level=data["access_level"],
            note=data["note"],
            require_2fa=data["require_2fa"],
            send_welcome_mail=data["send_welcome_mail"],
        )

    def save_model(
        self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool
    ) -> None:
        """Each changed field through its service (the add was done in save_form)."""
        if not change:
            return
        actor, user = Actor.from_request(request), User.objects.get(pk=obj.pk)
        changed = set(form.changed_data)
        if "access_level" in changed:
            services.set_access_level(actor, user, obj.access_level)
        if "is_active" in changed:
            _refuse_on_yourself(request, [user], unavailable.disable)
            user = services.set_active(actor, user, obj.is_active)
        if "note" in changed and obj.note:
            services.set_note(actor, user, obj.note)
        elif "note" in changed:
            services.remove_note(actor, user)
        if "summary_email_enabled" in changed:
            services.set_summary_email(actor, user, obj.summary_email_enabled)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool
    ) -> None:
        """Users have no many-to-many fields or inlines; memberships are changed on the
        flock pages."""

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        _refuse_on_yourself(request, [obj], unavailable.remove)
        services.remove_user(Actor.from_request(request), obj)

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[User],
        action,
        done: str,
        refuse: Refusal | None = None,
    ) -> None:
        """Run ``action`` on every selected user in one transaction: all or nothing."""
        actor = Actor.from_request(request)
        try:
            if refuse:
                _refuse_on_yourself(request, queryset, refuse)
            with transaction.atomic():
                for user in queryset:
                    action(actor, user)
        except PortalError as exc:
            self.message_user(request, f"{exc.message} Nothing was changed.", messages.ERROR)
        else:
            self.message_user(request, f"{done} {queryset.count()} user(s).", messages.SUCCESS)

    @admin.action(description="Disable selected users")
    def disable_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(
            request,
            queryset,
            lambda actor, user: services.set_active(actor, user, False),
            "Disabled",
            unavailable.disable,
        )

    @admin.action(description="Enable selected users")
    def enable_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(
            request, queryset, lambda actor, user: services.set_active(actor, user, True), "Enabled"
        )

    @admin.action(description="Send a password reset mail")
    def send_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(request, queryset, services.reset_password, "Sent a password reset mail to")

    @admin.action(description="Reset authenticator app (remove it)")
    def reset_totp(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(
            request,
            queryset,
            services.disable_totp,
            "Reset the authenticator app of",
            unavailable.own_factors,
        )

    @admin.action(description="Reset security keys (remove every key and passkey)")
    def reset_webauthn(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(
            request,
            queryset,
            services.disable_webauthn,
            "Reset the security keys of",
            unavailable.own_factors,
        )

    @admin.action(description="Remove selected users")
    def remove_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        selected = list(queryset)
        actor = Actor.from_request(request)
        try:
            _refuse_on_yourself(request, selected, unavailable.remove)
            with transaction.atomic():
                for user in selected:
                    services.remove_user(actor, user)
        except PortalError as exc:
            self.message_user(request, f"{exc.message} Nothing was removed.", messages.ERROR)
        else:
            self.message_user(request, f"Removed {len(selected)} user(s).", messages.SUCCESS)


def _refuse_on_yourself(request: HttpRequest, users, refuse: Refusal) -> None:
    """The pages' refusals on yourself (``users.unavailable``), here too: the first reason
    refuses the whole change."""
    for user in users:
        if reason := refuse(request, user):
            raise Forbidden(reason)


class OrgSettingForm(forms.ModelForm):
    """Says here what the org settings page says before switching enforcement on."""

    class Meta:
        model = OrgSetting
        fields = ["globally_enforce_2fa", "grace_period_hours", "self_service_password_reset"]
        help_texts = {
            "globally_enforce_2fa": "Saved at once, without the org settings page's confirmation: "
            "once their grace period is over, users without a second factor can reach only the "
            "Security page, signed-in users from their next page (not their next sign-in).",
        }

    def clean_grace_period_hours(self) -> int:
        """The service's bounds, checked here so that a grace period out of them is a form
        error (nothing saved) rather than a failure of the save."""
        try:
            return services.clean_grace_period_hours(self.cleaned_data["grace_period_hours"])
        except PortalError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(OrgSetting)
class OrgSettingAdmin(admin.ModelAdmin):
    """The single settings row; the switches (and the grace period) go through their services
    (audited)."""

    form = OrgSettingForm

    list_display = [
        "__str__",
        "globally_enforce_2fa",
        "grace_period_hours",
        "self_service_password_reset",
        "updated",
    ]
    fields = [
        "org_name",
        "globally_enforce_2fa",
        "grace_period_hours",
        "enforced_since",
        "self_service_password_reset",
        "updated",
    ]
    # The organisation's name is shown here and edited on the org settings page (audited).
    readonly_fields = ["org_name", "enforced_since", "updated"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: OrgSetting, form: forms.ModelForm, change: bool
    ) -> None:
        if {"globally_enforce_2fa", "grace_period_hours"} & set(form.changed_data):
            hours = obj.grace_period_hours if "grace_period_hours" in form.changed_data else None
            services.set_global_2fa(Actor.from_request(request), obj.globally_enforce_2fa, hours)
        if "self_service_password_reset" in form.changed_data:
            services.set_self_service_reset(
                Actor.from_request(request), obj.self_service_password_reset
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WebAuthnCredential)
class WebAuthnCredentialAdmin(ReadOnlyAdmin):
    """Read-only: keys are removed with "Reset security keys" on the user's page (audited)."""

    list_display = ["name", "user", "created", "last_used", "sign_count"]
    list_filter = ["created", "last_used"]
    search_fields = ["name", "user__username", "user__email"]
    list_select_related = ["user"]
    exclude = ["public_key"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit log, read-only: entries are written only by the service layer."""

    list_display = [
        "timestamp",
        "action_type",
        "actor_label",
        "target_label",
        "flock_id",
        "message",
        "user_ip",
    ]
    list_filter = ["action_type", "timestamp"]
    search_fields = ["message", "actor_label", "target_label", "flock_id"]
    date_hierarchy = "timestamp"
    show_full_result_count = False
