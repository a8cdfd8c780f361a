from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..models import Author, Book, Loan
from .serializers import AuthorSerializer, BookSerializer


class AuthorViewSet(viewsets.ModelViewSet):
    serializer_class = AuthorSerializer

    def get_queryset(self):
        return Author.objects.all()

    def destroy(self, request, *args, **kwargs):
        author = self.get_object()
        if Book.objects.filter(authors=author, loans__returned__isnull=True):
            return Response({"detail": "books on loan"}, status=status.HTTP_409_CONFLICT)
        return super().destroy(request, *args, **kwargs)


class BookViewSet(viewsets.ModelViewSet):
    serializer_class = BookSerializer

    def get_queryset(self):
        return Book.objects.all()

    @action(detail=True)
    def loans(self, request, pk=None):
        book = self.get_object()
        loans = Loan.objects.filter(book=book).order_by("-created")
        if loans:
            return Response({"count": len(loans), "last": loans[0].due})
        return Response({"count": 0})

    @action(detail=False)
    def summary(self, request):
        return Response(
            {
                "total": len(Book.objects.all()),  # a plain count
                "withdrawn": len(
                    Book.objects.filter(withdrawn=True)
                ),
                "any_on_loan": bool(
                    Loan.objects.open()
                ),
            }
        )
