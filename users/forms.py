"""Forms of the user, audit and org-settings pages: they parse input; the services decide."""

from __future__ import annotations

import re

from django import forms
from django.urls import reverse_lazy

from flocks.models import NAME_MAX_LENGTH, Flock, FlockRole
from flocks.selectors import flock_choices
from flocks.services import flock_named
from portal.converters import FlockIdConverter

from .audit_labels import action_label
from .models import GRACE_PERIOD_MAX_HOURS, AccessLevel
from .selectors import USER_SORTS, SignedIn, TwoFactor

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class UserFilterForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False, max_length=200, help_text="E-mail, user name or note"
    )
    access_level = forms.ChoiceField(
        label="Access level", required=False, choices=[("", "Any"), *AccessLevel.choices]
    )
    disabled = forms.ChoiceField(label="Disabled", required=False, choices=YES_NO)
    two_factor = forms.ChoiceField(
        label="2FA", required=False, choices=[("", "Any"), *TwoFactor.CHOICES]
    )
    token = forms.ChoiceField(label="API token", required=False, choices=YES_NO)
    signed_in = forms.ChoiceField(
        label="Last signed in", required=False, choices=[("", "Any time"), *SignedIn.CHOICES]
    )
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in USER_SORTS], widget=forms.HiddenInput
    )

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "search": data["q"].strip(),
            "access_level": data["access_level"],
            "disabled": yes_no(data["disabled"]),
            "two_factor": data["two_factor"],
            "has_token": yes_no(data["token"]),
            "signed_in": data["signed_in"],
            "sort": data["sort"] or "username",
        }


class AddUserForm(forms.Form):
    """The fields and rules of v1 ``user/add``."""

    email = forms.CharField(
        label="E-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    access_level = forms.ChoiceField(
        label="Access level", choices=AccessLevel.choices, initial=AccessLevel.USER
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    require_2fa = forms.BooleanField(
        label="Require 2FA",
        required=False,
        help_text="They must enrol a second factor at first sign-in.",
    )
    send_welcome_mail = forms.BooleanField(
        label="Send welcome mail",
        required=False,
        initial=True,
        help_text="With a link to choose a password.",
    )


class NoteForm(forms.Form):
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class AccessLevelForm(forms.Form):
    access_level = forms.ChoiceField(label="Access level", choices=AccessLevel.choices)


class FlockAssignForm(forms.Form):
    flocks = forms.ModelMultipleChoiceField(
        label="Flocks",
        queryset=Flock.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        to_field_name="flock_id",
    )
    role = forms.ChoiceField(label="Role", choices=FlockRole.choices, initial=FlockRole.WATCHER)


class FlockUnassignForm(forms.Form):
    flocks = forms.ModelMultipleChoiceField(
        label="Memberships",
        queryset=Flock.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        to_field_name="flock_id",
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["flocks"].queryset = Flock.objects.filter(memberships__user=user)


class OrgSettingsForm(forms.Form):
    globally_enforce_2fa = forms.BooleanField(
        label="Globally enforce 2FA",
        required=False,
        help_text="Once their grace period is over, users without a second factor can reach only "
        "the Security page until they set one up: signed-in users from their next page, not "
        "their next sign-in.",
    )
    grace_period_hours = forms.IntegerField(
        label="Grace period (hours)",
        required=False,
        min_value=0,
        max_value=GRACE_PERIOD_MAX_HOURS,
        help_text="Time before enforced: users without a factor keep working, with a reminder on "
        "every page, for this many hours after enforcement goes on (users added later: after "
        "their account's creation). 0 enforces at once. Shortening it applies at once.",
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class AuditFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    action_type = forms.ChoiceField(label="Action", required=False)
    user = forms.CharField(
        label="User", required=False, max_length=254, help_text="E-mail or user name"
    )
    flock = forms.CharField(
        label="Flock",
        required=False,
        max_length=NAME_MAX_LENGTH,
        help_text="Its name (pick as you type) or id",
        widget=forms.TextInput(
            attrs={"data-picker": reverse_lazy("flock_search"), "autocomplete": "off"}
        ),
    )
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, action_types: list[str], viewer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        self.flock_suggestions: list[Flock] = []
        self.fields["action_type"].choices = [
            ("", "Any action"),
            *sorted(((a, action_label(a)) for a in action_types), key=lambda choice: choice[1]),
        ]

    def clean_flock(self) -> str:
        """A flock id as it is (a deleted flock's history too), or the id of the flock with that
        name in any letter case (names are unique); an unknown name suggests the flocks whose
        name has it (at most 10: the choices of the search picker without JavaScript)."""
        value = self.cleaned_data["flock"].strip()
        if not value or re.fullmatch(FlockIdConverter.regex, value):
            return value
        flock = flock_named(value)
        if flock is None:
            self.flock_suggestions, _ = flock_choices(self.viewer, value, limit=10)
            raise forms.ValidationError(f"No flock is named “{value}”.")
        return flock.flock_id

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error(
                "end",
                "“To” is before “From”, so nothing can match: swap the two dates.",
            )
        return data

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "action_type": data["action_type"],
            "user_label": data["user"].strip().lower()
            if "@" in data["user"]
            else data["user"].strip(),
            "flock_id": data["flock"],
            "start": data["start"],
            "end": data["end"],
            "search": data["q"].strip(),
        }


class OrgNameForm(forms.Form):
    org_name = forms.CharField(
        label="Organisation name",
        max_length=100,
        help_text="How welcome mails and the set-password page name your organisation.",
    )


class SelfServiceResetForm(forms.Form):
    self_service_password_reset = forms.BooleanField(
        label='Offer "Forgot your password?" on the sign-in page',
        required=False,
        help_text="People mail themselves a link to choose a new password; off, the page tells "
        "them to ask an administrator.",
    )
