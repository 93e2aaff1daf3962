"""The Django admin site's view of flocks and memberships.

Renames, notes and deletions go through flocks/services.py (audited, never the default
flock); memberships are read-only here and changed on the flock pages.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from portal.lib.errors import PortalError
from users.admin import ReadOnlyAdmin, ServiceErrorsAsMessages
from users.audit import Actor

from . import services
from .models import Flock, FlockMembership


class MembershipInline(admin.TabularInline):
    """Shown, never saved: a forged inline row in a flock's POST adds, changes or
    removes nothing."""

    model = FlockMembership
    fields = ["user", "role", "created"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class FlockAdminForm(forms.ModelForm):
    """The name is checked as every face checks it (the service's words, next to the field)."""

    class Meta:
        model = Flock
        fields = ["name", "note"]

    def clean_name(self) -> str:
        try:
            name = services.clean_flock_name(self.cleaned_data["name"])
        except PortalError as exc:
            raise ValidationError(exc.message) from None
        if refusal := services.taken_name(name, other_than=self.instance):
            raise ValidationError(refusal.message)
        return name


@admin.register(Flock)
class FlockAdmin(ServiceErrorsAsMessages):
    form = FlockAdminForm
    list_display = ["name", "flock_id", "member_count", "created"]
    search_fields = ["name", "flock_id", "note"]
    list_filter = ["created"]
    fields = ["flock_id", "name", "note", "created"]
    readonly_fields = ["flock_id", "created"]
    inlines = [MembershipInline]
    actions = ["delete_flocks"]

    def get_inlines(self, request: HttpRequest, obj: Flock | None) -> list:
        """None on the add page: a new flock has no members, and the add (a service call in
        ``save_form``) must not depend on formsets validated after it."""
        return self.inlines if obj is not None else []

    def get_queryset(self, request: HttpRequest) -> QuerySet[Flock]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(ordering="member_count", description="Members")
    def member_count(self, flock: Flock) -> int:
        return flock.member_count

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> Flock:
        if change:
            return form.save(commit=False)
        return services.create_flock(
            Actor.from_request(request), form.cleaned_data["name"], note=form.cleaned_data["note"]
        )

    def save_model(
        self, request: HttpRequest, obj: Flock, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            return
        actor, flock = Actor.from_request(request), Flock.objects.get(pk=obj.pk)
        if "name" in form.changed_data:
            flock = services.rename_flock(actor, flock, obj.name)
        if "note" in form.changed_data and obj.note:
            services.set_flock_note(actor, flock, obj.note)
        elif "note" in form.changed_data:
            services.remove_flock_note(actor, flock)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool
    ) -> None:
        """Flocks have no many-to-many fields (and one added by the service has no ``save_m2m``);
        the membership rows are view-only, so saving their formsets writes nothing."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Flock) -> None:
        services.delete_flock(Actor.from_request(request), obj)

    def has_delete_permission(self, request: HttpRequest, obj: Flock | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.is_default)

    @admin.action(description="Delete selected flocks (not the default flock)")
    def delete_flocks(self, request: HttpRequest, queryset: QuerySet[Flock]) -> None:
        actor, deleted = Actor.from_request(request), []
        for flock in queryset.exclude(pk=services.DEFAULT_FLOCK_ID):
            services.delete_flock(actor, flock)
            deleted.append(flock.name)
        self.message_user(request, f"Deleted {len(deleted)} flock(s).")


@admin.register(FlockMembership)
class FlockMembershipAdmin(ReadOnlyAdmin):
    """Read-only: memberships change on the flock and user pages (audited). Found by flock
    through the search box: a sidebar filter would list every flock (thousands of links)."""

    list_display = ["flock", "user", "role", "created"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "flock__name", "flock__flock_id"]
    list_select_related = ["flock", "user"]
