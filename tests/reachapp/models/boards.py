from django.db import models
from model_utils.models import TimeStampedModel

from tests.reachapp.managers import BoardManager, TicketManager

__all__ = ["Board", "Ticket", "OpenTicket", "Tag", "PinnedTag"]


class Board(TimeStampedModel):
    name = models.CharField(max_length=50)

    objects = BoardManager()

    @classmethod
    def named(cls, name):
        return len(cls.objects.filter(name=name))


class Ticket(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="tickets")
    status = models.CharField(max_length=20, default="open")

    objects = TicketManager()

    def has_siblings(self):
        return bool(self.board.tickets.exclude(pk=self.pk))

    def sibling_count(self):
        return len(self.board.tickets.exclude(pk=self.pk))


class OpenTicket(Ticket):
    class Meta:
        proxy = True

    def open_siblings(self):
        if not self.board.tickets.filter(status="open").exclude(pk=self.pk):
            return 0
        return len(self.board.tickets.filter(status="open"))


class Tag(models.Model):
    """Ordered through a to-many relation: one row per (tag, ticket) pair when fetched."""

    name = models.CharField(max_length=20)
    tickets = models.ManyToManyField(Ticket, related_name="tags")

    class Meta:
        ordering = ["tickets__status"]


class PinnedTag(Tag):
    """Inherits Tag's Meta.ordering through a to-many relation."""

    class Meta:
        proxy = True
