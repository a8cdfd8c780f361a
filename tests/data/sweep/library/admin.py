from django.contrib import admin

from .models import Author, Book, Loan


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "withdrawn", "on_loan"]
    actions = ["withdraw"]

    @admin.display(boolean=True)
    def on_loan(self, obj):
        return bool(obj.loans.filter(returned__isnull=True))

    def withdraw(self, request, queryset):
        if Loan.objects.open().filter(book__in=queryset):
            self.message_user(request, "some books are on loan")
            return
        queryset.update(withdrawn=True)


admin.site.register(Author)
admin.site.register(Loan)
