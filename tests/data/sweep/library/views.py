from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.generic import ListView

from .models import Author, Book, Loan, Member
from .services import LendingError, lend


class BookList(ListView):
    model = Book
    paginate_by = 20

    def get_queryset(self):
        return Book.objects.available().order_by("title")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["author_count"] = len(Author.objects.all())
        return context


def author_detail(request, pk):
    author = get_object_or_404(Author, pk=pk)
    books = Book.objects.by(author)
    if not books:
        raise Http404("no books")
    return render(request, "library/author.html", {"author": author, "books": books})


@login_required
def borrow(request, pk):
    book = get_object_or_404(Book, pk=pk)
    member = get_object_or_404(Member, user=request.user)
    try:
        loan = lend(book, member)
    except LendingError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"loan": loan.pk, "due": loan.due.isoformat()})


@login_required
def my_loans(request):
    member = get_object_or_404(Member, user=request.user)
    loans = member.loans.filter(returned__isnull=True)
    return JsonResponse(
        {
            "count": len(loans),
            "titles": [loan.book.title for loan in loans],
        }
    )


def stats(request):
    data = {
        "books": len(Book.objects.all()),
        "authors": len(Author.objects.filter(books__isnull=False).distinct()),
        "open": len(Loan.objects.open()),
        "empty": not Book.objects.all(),
    }
    return JsonResponse(data)
