from importlib import import_module

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def import_models(self) -> None:
        """Also the encrypted TOTP device, a proxy model kept with the other second-factor code."""
        super().import_models()
        import_module("users.twofactor.totp_device")

    def ready(self) -> None:
        from .twofactor import signals  # noqa: F401  (audit receivers for sign-in events)
