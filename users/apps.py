from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from .twofactor import signals  # noqa: F401  (audit receivers for sign-in events)
