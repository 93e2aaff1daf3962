"""Forms of the flock pages: they parse input; flocks/services.py decides."""

from __future__ import annotations

from django import forms

from .models import NAME_MAX_LENGTH, FlockRole


def name_field() -> forms.CharField:
    """Checked by the service (clean_flock_name), so every face gives the same message."""
    return forms.CharField(
        label="Name",
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"maxlength": NAME_MAX_LENGTH}),
    )


class FlockForm(forms.Form):
    name = name_field()
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RenameForm(forms.Form):
    name = name_field()


class FlockNoteForm(forms.Form):
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class MemberForm(forms.Form):
    """Add a member by e-mail; the role is for admins (a flock's manager adds watchers only)."""

    email = forms.CharField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput,
        help_text="Pick someone above, or type their exact e-mail.",
    )
    role = forms.ChoiceField(label="Role", choices=FlockRole.choices, initial=FlockRole.WATCHER)

    def __init__(self, *args, admin: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not admin:
            del self.fields["role"]
