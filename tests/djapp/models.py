"""Models the semantic tests run before/after code against.

`Order.Meta.ordering` makes `first()`, iteration and the normalised results deterministic.
"""

from django.db import models
from django.utils import timezone

__all__ = ["Customer", "Order", "OrderItem", "OrderQuerySet"]


class Customer(models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        app_label = "djapp"
        ordering = ["id"]

    def __str__(self):
        return self.name


class OrderQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status="active")


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=20, default="active")
    created = models.DateTimeField(default=timezone.now)
    total = models.IntegerField(default=0)

    objects = OrderQuerySet.as_manager()

    class Meta:
        app_label = "djapp"
        ordering = ["id"]

    def __str__(self):
        return f"Order #{self.pk} ({self.status})"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    quantity = models.IntegerField(default=1)

    class Meta:
        app_label = "djapp"
        ordering = ["id"]
