"""Find a user by user name or e-mail: sign-in, API Basic auth and management commands
accept both, and must agree on who a name means."""

from __future__ import annotations

from portal.lib.errors import NotFound

from .models import User
from .selectors import users_where


def user_named(name: str, fields: tuple[str, ...] = ()) -> User | None:
    """The user whose user name is ``name``, else whose e-mail is ``name`` (any case), else None.

    A user name wins over another user's e-mail, so every face resolves a name alike.
    Only ``fields`` are loaded when given (see ``users_where``).
    """
    if not name or "\x00" in name:  # no user has a NUL in their name; PostgreSQL refuses it in queries
        return None
    candidates = users_where(("username", "email"), [name, name.lower()], fields)
    return next((user for user in candidates if user.username == name), candidates[0] if candidates else None)


def find_user(name: str) -> User:
    user = user_named(name.strip())
    if user is None:
        raise NotFound(f"No user with user name or e-mail {name!r}.")
    return user
