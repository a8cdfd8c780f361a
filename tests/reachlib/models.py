from django.db import models


class LibraryBase(models.Model):
    """A library's abstract model base the typing cannot see."""

    note = models.CharField(max_length=50, blank=True)

    class Meta:
        abstract = True
