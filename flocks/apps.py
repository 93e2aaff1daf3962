from django.apps import AppConfig


class FlocksConfig(AppConfig):
    name = "flocks"
    verbose_name = "Flocks"
