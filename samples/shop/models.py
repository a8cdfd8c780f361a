from django.db import models
from django.utils import timezone


class TimeStamped(models.Model):
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class Customer(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)

    def __str__(self):
        return self.name


class OrderQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status="active")


# A model only through TimeStamped: `Order.objects` must still be known as a manager.
class Order(TimeStamped):
    STATUSES = [("pending", "Pending"), ("active", "Active"), ("shipped", "Shipped")]

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=20, choices=STATUSES, default="pending")
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    objects = OrderQuerySet.as_manager()

    def __str__(self):
        return f"Order #{self.pk}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=1)
