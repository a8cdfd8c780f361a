"""DRF viewsets for orders."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers, viewsets

from shop.models import Order


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["id", "customer", "status", "created", "total"]


class OrderViewSet(viewsets.ModelViewSet):
    # untouched: DRF's get_queryset() calls .all() per request, and urls.py registers this
    # viewset without a basename, so DefaultRouter needs the `queryset` attribute
    queryset = Order.objects.all()
    serializer_class = OrderSerializer


class RecentOrderViewSet(viewsets.ReadOnlyModelViewSet):
    # QS003: the cutoff is frozen at import; .all() per request does not recompute it
    queryset = Order.objects.filter(created__gte=timezone.now() - timedelta(days=7))
    serializer_class = OrderSerializer
