from django.apps import AppConfig


class ReachConfig(AppConfig):
    name = "tests.reachapp"
    label = "reach"
    default_auto_field = "django.db.models.AutoField"
