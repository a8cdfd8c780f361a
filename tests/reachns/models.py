"""An app folder without __init__.py (a PEP 420 namespace package)."""
from django.db import models


class Shelf(models.Model):
    name = models.CharField(max_length=20)
    size = models.IntegerField(default=0)
