"""Shared querysets, built once when this module is imported."""

from datetime import timedelta

from django.utils import timezone

from shop.models import Order

# QS004: a module-level QuerySet; once anything iterates it, its rows are cached for the
# life of the process. Becomes a factory, and every reference calls active_orders().
ACTIVE_ORDERS = Order.objects.filter(status="active")

# QS004: worse, the cutoff is frozen at import. Its use of ACTIVE_ORDERS becomes a call too.
RECENT_ORDERS = ACTIVE_ORDERS.filter(created__gte=timezone.now() - timedelta(days=7))

# untouched: a plain list, not a QuerySet.
OPEN_STATUSES = ["pending", "active"]

# untouched: a Manager holds no rows, each use builds a fresh QuerySet.
ORDERS = Order.objects
