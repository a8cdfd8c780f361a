from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from shop import api, views

router = DefaultRouter()
# No basename: DefaultRouter derives it from OrderViewSet.queryset, which must therefore stay.
router.register("orders", api.OrderViewSet)
router.register("recent-orders", api.RecentOrderViewSet, basename="recent-order")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("orders/recent/", views.RecentOrderList.as_view(), name="recent-orders"),
    path("orders/shipped/", views.ShippedOrderList.as_view(), name="shipped-orders"),
    path("orders/active/", views.ActiveOrderList.as_view(), name="active-orders"),
    path("orders/stats/", views.OrderStats.as_view(), name="order-stats"),
    path("orders/<int:pk>/", views.OrderDetail.as_view(), name="order-detail"),
]
