from django.apps import AppConfig


class DjappConfig(AppConfig):
    name = "tests.djapp"
    label = "djapp"
    default_auto_field = "django.db.models.AutoField"
