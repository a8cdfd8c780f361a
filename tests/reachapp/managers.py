from django.db import models


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status="open")

    def has_open(self):
        return bool(self.filter(status="open"))


TicketManager = models.Manager.from_queryset(TicketQuerySet)


class VoteQuerySet(models.QuerySet):
    def others_voted(self, user):
        return bool(self.exclude(user=user))

    def votes_by(self, user):
        return len(self.filter(user=user))

    def any_left(self):
        if self:
            return True
        return False


class ReviewQuerySet(models.QuerySet):
    def with_text(self):
        return len(self.exclude(text=""))


class BoardManager(models.Manager):
    def any_named(self, name):
        return bool(self.filter(name=name))

    def how_many(self):
        return len(self.all())
