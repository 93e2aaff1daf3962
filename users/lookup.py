"""Find a user by user name or e-mail: sign-in, API Basic auth and management commands
accept both, and must agree on who a name means.

The look-ups that take one kind of name only are ``users.services.get_user_by_email`` (e-mail
only) and ``users.services.get_user_by_username`` (user name only)."""

from __future__ import annotations

from portal.lib.errors import NotFound

from .models import User
from .selectors import users_where


def user_by_name_or_email(name: str, fields: tuple[str, ...] = ()) -> User | None:
    """The user whose user name is ``name``, else whose e-mail is ``name`` (any case), else None.

    A user name wins over another user's e-mail, so every face resolves a name alike.
    Only ``fields`` are loaded when given (see ``users_where``).
    """
    if (
        not name or "\x00" in name
    ):  # no user has a NUL in their name; PostgreSQL refuses it in queries
        return None
    candidates = users_where(("username", "email"), [name, name.lower()], fields)
    return next(
        (user for user in candidates if user.username == name),
        candidates[0] if candidates else None,
    )


def get_user_by_name_or_email(name: str) -> User:
    """``user_by_name_or_email`` of ``name`` without its surrounding spaces, or NotFound."""
    user = user_by_name_or_email(name.strip())
    if user is None:
        raise NotFound(f"No user with user name or e-mail {name!r}.")
    return user
