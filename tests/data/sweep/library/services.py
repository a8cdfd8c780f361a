"""Lending rules."""
from datetime import timedelta

from django.utils import timezone

from .models import Book, Loan, Member

MAX_OPEN_LOANS = 5


class LendingError(Exception):
    pass


def open_loans(member):
    return Loan.objects.open().filter(member=member)


def can_borrow(member):
    if member.blocked:
        return False
    if Loan.objects.overdue().filter(member=member):
        return False
    return len(open_loans(member)) < MAX_OPEN_LOANS


def lend(book, member, days=21):
    if not Book.objects.available().filter(pk=book.pk):
        raise LendingError(f"{book} is not available")
    if not can_borrow(member):
        raise LendingError("member cannot borrow")
    return Loan.objects.create(book=book, member=member, due=timezone.now() + timedelta(days=days))


def overdue_report():
    loans = Loan.objects.overdue().select_related("book", "member")
    # evaluated on purpose: the rows are listed below
    total = len(loans)
    lines = [f"{loan.book} due {loan.due:%Y-%m-%d}" for loan in loans]
    return total, lines


def members_to_remind():
    reminded = []
    for member in Member.objects.filter(blocked=False):
        if member.loans.filter(returned__isnull=True, due__lt=timezone.now()):
            reminded.append(member)
    return reminded


def busiest_books(limit=10):
    books = Book.objects.available()
    counted = [(len(book.loans.all()), book) for book in books]
    counted.sort(key=lambda pair: pair[0], reverse=True)
    return counted[:limit]


def shelf_is_empty():
    return len(
        Book.objects
        .available()
        .filter(withdrawn=False)
    ) == 0


def wait_until_returned(book, poll):
    while Loan.objects.open().filter(book=book):
        poll()


def status(book):
    return "on loan" if Loan.objects.open().filter(book=book) else "on the shelf"


def check_invariants():
    assert not Loan.objects.filter(due__lt=timezone.now() - timedelta(days=3650)), "ancient loans"
    has_authors = bool(Book.objects.filter(authors__isnull=False))  # qsfix: ignore
    return has_authors
