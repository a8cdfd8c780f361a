from django.contrib import admin

from shop.models import Customer, Order, OrderItem


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "status", "created", "total"]
    list_filter = ["status"]
    inlines = [OrderItemInline]

    # untouched: already a method, built per request
    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")


admin.site.register(Customer)
