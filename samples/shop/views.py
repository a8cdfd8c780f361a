"""Class-based views: where QS003 moves a class-level queryset into get_queryset()."""

from datetime import timedelta

from django.utils import timezone
from django.views.generic import DetailView, ListView

from shop.models import Order

from .querysets import ACTIVE_ORDERS


class RecentOrderList(ListView):
    # QS003: the cutoff is computed once, at import, so the list goes stale.
    # The generated get_queryset() must still apply `ordering` below.
    queryset = Order.objects.filter(created__gte=timezone.now() - timedelta(days=7))
    ordering = ["-created"]
    template_name = "shop/order_list.html"


class ShippedOrderList(RecentOrderList):
    # untouched: nothing computed at import. But RecentOrderList's new get_queryset()
    # must not hide this override (this view must keep listing shipped orders).
    queryset = Order.objects.filter(status="shipped")


class OrderDetail(DetailView):
    # untouched: a plain .all() computes nothing at import, and Django's get_queryset()
    # calls .all() on it per request (rewritten only with the every-view opt-in)
    queryset = Order.objects.all()
    template_name = "shop/order_detail.html"


class OrderStats(ListView):
    # QS003: get_context_data() iterates self.queryset itself, which fills the class
    # attribute's result cache once and serves those rows to every later request.
    queryset = Order.objects.select_related("customer")
    template_name = "shop/order_stats.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["revenue"] = sum(order.total for order in self.queryset)
        return context


class ActiveOrderList(ListView):
    template_name = "shop/order_list.html"

    def get_queryset(self):
        # QS004 (reference): ACTIVE_ORDERS becomes active_orders()
        return ACTIVE_ORDERS.select_related("customer")
