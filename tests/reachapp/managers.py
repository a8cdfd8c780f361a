from django.db import models


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status="open")

    def has_open(self):
        return bool(self.filter(status="open"))


TicketManager = models.Manager.from_queryset(TicketQuerySet)


class ReviewQuerySet(models.QuerySet):
    def has_text(self):
        return bool(self.exclude(text=""))

    def text_count(self):
        return len(self.exclude(text=""))

    def any_left(self):
        if self:
            return True
        return False


class BoardManager(models.Manager):
    def any_named(self, name):
        return bool(self.filter(name=name))

    def how_many(self):
        return len(self.all())
