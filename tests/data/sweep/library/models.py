from django.conf import settings
from django.db import models
from django.utils import timezone


class BookQuerySet(models.QuerySet):
    def available(self):
        return self.filter(withdrawn=False).exclude(loans__returned__isnull=True)

    def by(self, author):
        return self.filter(authors=author)


class LoanManager(models.Manager):
    def open(self):
        return self.get_queryset().filter(returned__isnull=True)

    def overdue(self):
        return self.open().filter(due__lt=timezone.now())


class TimeStamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Author(TimeStamped):
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True)


class Book(TimeStamped):
    title = models.CharField(max_length=300)
    authors = models.ManyToManyField(Author, related_name="books")
    withdrawn = models.BooleanField(default=False)

    objects = BookQuerySet.as_manager()

    def __str__(self):
        return self.title


class Member(TimeStamped):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    blocked = models.BooleanField(default=False)


class Loan(TimeStamped):
    book = models.ForeignKey(Book, related_name="loans", on_delete=models.PROTECT)
    member = models.ForeignKey(Member, related_name="loans", on_delete=models.CASCADE)
    due = models.DateTimeField()
    returned = models.DateTimeField(null=True, blank=True)

    objects = LoanManager()
