from django.db import models


class CountryField(models.CharField):
    """A library field (as django-countries' CountryField): a CharField underneath."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 2)
        super().__init__(*args, **kwargs)
