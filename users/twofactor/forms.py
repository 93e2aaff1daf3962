"""Forms of the sign-in and security pages: they parse input; the rules live in the modules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.http import HttpRequest

from portal.lib.errors import NotFound
from users.lockouts import masked
from users.lookup import get_user_by_name_or_email
from users.models import User

from .webauthn_keys import NAME_MAX_LENGTH


class LoginForm(forms.Form):
    """User name or e-mail and password, checked through the backends (axes first)."""

    login = forms.CharField(
        label="User name or e-mail",
        max_length=254,
        widget=forms.TextInput(
            # "webauthn": the browser may offer passkeys in this field's autofill (passkey.js)
            attrs={"autocomplete": "username webauthn", "autofocus": True, "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {"invalid": "Wrong user name or password, or the account is disabled."}

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        # Failures are counted under the account's user name however it was typed, and a
        # name that matches no user only masked (it may be a password in the wrong box).
        try:
            username = get_user_by_name_or_email(data["login"]).username
        except NotFound:
            username = masked(data["login"].strip())
        self.user = authenticate(self.request, username=username, password=data["password"])
        if self.user is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return data


class CodeForm(forms.Form):
    """A six-digit authenticator-app code: phones show their number pad for it."""

    action = "code"
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


class RecoveryCodeForm(forms.Form):
    """A recovery code: letters and digits (``recovery.ALPHABET``), so the whole keyboard and no
    one-time-code autofill; its fields are prefixed (``recovery-code``) beside the app's."""

    action = "recovery"
    prefix = "recovery"
    code = forms.CharField(
        label="Recovery code",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "placeholder": "xxxxx-xxxxx",
            }
        ),
    )


class PasswordCheckForm(forms.Form):
    """Re-authentication with the password (through axes, so guesses are counted)."""

    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if (
            authenticate(self.request, username=self.request.user.username, password=password)
            is None
        ):
            raise forms.ValidationError("That password is not right.", code="invalid")
        return password


class KeyNameForm(forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=NAME_MAX_LENGTH,
        help_text="So you can tell your keys apart, e.g. “Blue YubiKey”.",
    )


class PasskeyNameForm(forms.Form):
    name = forms.CharField(
        label="Passkey name",
        max_length=NAME_MAX_LENGTH,
        help_text="So you can tell your passkeys apart, e.g. “MacBook Touch ID” or “Phone”.",
    )


class PasswordChangeForm(forms.Form):
    new_password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    new_password2 = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "The two passwords differ.")
        return data
