from rest_framework import serializers

from ..models import Author, Book


class AuthorSerializer(serializers.ModelSerializer):
    book_count = serializers.SerializerMethodField()
    has_books = serializers.SerializerMethodField()

    class Meta:
        model = Author
        fields = ["id", "name", "country", "book_count", "has_books"]

    def get_book_count(self, obj):
        return len(obj.books.all())

    def get_has_books(self, obj):
        return bool(obj.books.filter(withdrawn=False))


class BookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Book
        fields = ["id", "title", "withdrawn"]

    def validate_title(self, value):
        if Book.objects.filter(title__iexact=value).exclude(pk=getattr(self.instance, "pk", None)):
            raise serializers.ValidationError("a book with this title exists")
        return value
