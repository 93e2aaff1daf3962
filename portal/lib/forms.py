"""Form helpers every page shares."""

from __future__ import annotations

from django import forms

from .errors import PortalError


def add_service_error(form: forms.Form, exc: PortalError) -> None:
    """Show a service error next to its field when the form has one, else above the form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
