"""Find a user by user name or e-mail, as management commands and sign-in accept both."""

from django.db.models import Q

from .errors import NotFound
from .models import User


def find_user(name: str) -> User:
    user = User.objects.filter(Q(username=name) | Q(email=name.strip().lower())).first()
    if user is None:
        raise NotFound(f"No user with user name or e-mail {name!r}.")
    return user
