"""Make sure an active admin exists, so a fresh install can be signed in to."""

import os
import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from users import nudges
from users.audit import Actor, record
from users.models import AccessLevel, User


class Command(BaseCommand):
    help = (
        "Create the first admin when there is no active admin. Credentials come from "
        "PORTAL_ADMIN_USERNAME / PORTAL_ADMIN_EMAIL / PORTAL_ADMIN_PASSWORD, or are "
        "generated and printed once."
    )

    def handle(self, *args, **options) -> None:
        if User.objects.filter(is_active=True, access_level=AccessLevel.ADMIN).exists():
            self.stdout.write("An active admin exists; no account created.")
            return
        username = os.environ.get("PORTAL_ADMIN_USERNAME", "admin")
        email = os.environ.get("PORTAL_ADMIN_EMAIL", "admin@example.com")
        generated = not os.environ.get("PORTAL_ADMIN_PASSWORD")  # unset or empty
        password = secrets.token_urlsafe(12) if generated else os.environ["PORTAL_ADMIN_PASSWORD"]
        with transaction.atomic():
            user = User.objects.create_superuser(username=username, email=email, password=password)
            if generated:
                nudges.remember_printed_password(user)  # printed below: nudge until changed
            record(
                Actor.system("manage.py ensure_admin"),
                "user_add",
                f"Created the first admin {username}",
                target=user,
            )
        self.stdout.write(self.style.SUCCESS("Created the first admin account:"))
        self.stdout.write(f"  user name: {username}\n  e-mail:    {email}")
        if generated:
            self.stdout.write(f"  password:  {password}   (shown once: keep it)")
        else:
            self.stdout.write("  password:  (from PORTAL_ADMIN_PASSWORD)")
