"""Issue a new API token for a user and print it once."""

from django.core.management.base import BaseCommand, CommandError

from portal.lib.errors import PortalError
from users import services
from users.audit import Actor
from users.lookup import get_user_by_name_or_email


class Command(BaseCommand):
    help = "Issue a new API token for a user (replacing any old one) and print it once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="user name or e-mail")

    def handle(self, *args, user: str, **options) -> None:
        try:
            account = get_user_by_name_or_email(user)
            token = services.issue_api_token(Actor.system("manage.py api_token"), account)
        except PortalError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(token)
