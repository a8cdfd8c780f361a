"""Order bookkeeping: where QS001 (truthiness) and QS002 (len) apply, and where they must not."""

import logging

from shop import querysets
from shop.models import Customer, Order

logger = logging.getLogger(__name__)


def open_order_count(customer):
    # QS002: only the number is used -> .count() runs COUNT(*) instead of fetching rows
    return len(Order.objects.filter(customer=customer, status="active"))


def has_pending_orders(customer):
    # QS001: only truthiness is used -> .exists()
    if Order.objects.filter(customer=customer, status="pending"):
        return True
    return False


def is_new_customer(email):
    # QS001: `not qs` -> `not qs.exists()`
    return not Customer.objects.filter(email=email)


def has_shipped_orders(customer):
    # QS001: bool(qs) -> qs.exists()
    return bool(Order.objects.filter(customer=customer, status="shipped"))


def remind_if_pending(customer):
    pending = Order.objects.filter(customer=customer, status="pending")
    # QS001: `pending` is only tested, never iterated -> pending.exists()
    if pending:
        logger.info("reminding %s about pending orders", customer)


def active_order_ids(customer):
    orders = Order.objects.active().filter(customer=customer)
    # untouched: rows are iterated below, `if orders:` fills the cache the loop reuses
    if orders:
        return [order.pk for order in orders]
    return []


def order_lines(customer):
    orders = Order.objects.filter(customer=customer)
    # untouched: len() loads the rows the loop reuses; .count() would add a query
    lines = [f"{len(orders)} orders"]
    for order in orders:
        lines.append(f"#{order.pk} {order.status}")
    return lines


def average_quantity(order):
    quantities = [item.quantity for item in order.items.all()]
    # untouched: len() and truthiness of a plain list
    return sum(quantities) / len(quantities) if quantities else 0


def orders_enabled():
    # untouched: a Manager is always truthy and runs no query
    if Order.objects:
        return True
    return False


def raw_active_count():
    # untouched: a RawQuerySet has no .count()
    return len(Order.objects.raw("SELECT id FROM shop_order WHERE status = %s", ["active"]))


def legacy_order_count(customer):
    # untouched: suppressed on its line
    return len(Order.objects.filter(customer=customer))  # qsfix: ignore


def orders_to_show(customer):
    orders = Order.objects.filter(customer=customer)
    # untouched: `or` returns the QuerySet itself, so more than its truthiness is used.
    # QS004 still turns querysets.RECENT_ORDERS into querysets.recent_orders().
    shown = orders or querysets.RECENT_ORDERS
    return list(shown)
