"""Break-glass: remove a user's second factors (and sign-in lock-out) from the server's shell."""

from django.core.management.base import BaseCommand, CommandError

from portal.lib.errors import PortalError
from users import lockouts, services
from users.audit import Actor
from users.lookup import get_user_by_name_or_email


class Command(BaseCommand):
    help = (
        "Remove a user's authenticator app, security keys and recovery codes, and lift any sign-in "
        "lock-out, so they can sign in with their password and enrol again (e.g. the last admin)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="user name or e-mail")

    def handle(self, *args, user: str, **options) -> None:
        try:
            account = get_user_by_name_or_email(user)
        except PortalError as exc:
            raise CommandError(exc.message) from None
        actor = Actor.system("manage.py reset_2fa")
        apps, keys = services.reset_second_factors(actor, account)
        unlocked = lockouts.lift(actor, account)
        self.stdout.write(
            f"Reset two-factor sign-in of {account.label}: removed {apps} authenticator app(s), "
            f"{keys} security "
            f"key(s) and the recovery codes; cleared {unlocked} lock-out record(s)."
        )
