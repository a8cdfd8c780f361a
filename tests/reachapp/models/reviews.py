from django.db import models

from tests.reachapp.managers import ReviewQuerySet, VoteQuerySet
from tests.reachlib.fields import CountryField
from tests.reachlib.models import LibraryBase


class Owned(models.Model):
    owner = models.ForeignKey("djapp.Customer", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True

    def owner_buys(self):
        return bool(self.owner.orders.all())


class Review(Owned):
    text = models.CharField(max_length=100, blank=True)

    objects = ReviewQuerySet.as_manager()


class RankedReview(Review):
    """Inherits Review's manager; its ordering joins the votes: one row per (review, vote)."""

    class Meta:
        proxy = True
        ordering = ["votes__user"]


class Vote(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="votes")
    user = models.IntegerField()

    objects = VoteQuerySet.as_manager()

    def already_voted(self):
        previous_votes = self.review.votes.filter(user=self.user).exclude(pk=self.pk)
        if len(previous_votes) > 0:
            return True
        return False

    def review_votes(self):
        return len(self.review.votes.all())


class Shop(models.Model):
    """A model with a library field."""

    country = CountryField()
    board = models.ForeignKey("reach.Board", on_delete=models.CASCADE, related_name="shops")


class Sticker(LibraryBase):
    """A model on a library base the typing cannot see: its body declares model fields."""

    board = models.ForeignKey("reach.Board", on_delete=models.CASCADE, related_name="stickers")
    color = models.CharField(max_length=10)
