"""QS008 cache-page-without-invalidation: what is reported (a diagnostic: no fix, the text
never changes) and a no-op test for every exclusion."""

import ast
import textwrap

from tests.helpers import rewrite_project

QS008 = {"select": frozenset({"QS008"})}


def project_messages(files: dict[str, str]) -> dict[str, list[str]]:
    out, result = rewrite_project(files, **QS008)
    for path, text in out.items():  # a diagnostic changes nothing
        assert text == textwrap.dedent(files[path])
    messages: dict[str, list[str]] = {}
    for f in result.findings:
        if f.code == "QS008" and f.is_active:
            assert f.fix is None
            messages.setdefault(f.path, []).append(f"{f.line}: {f.message}")
    return messages


def message(view: str, how: str, timeout: str, stale: str) -> str:
    return (
        f"`{view}` is cached {how} for {timeout} and reads {stale} with no cache invalidation "
        "(no post_save/post_delete receiver hears these writes, no cache deletion next to them): "
        "the page shows the old rows until it expires; add a post_save/post_delete receiver that "
        "calls `cache.clear()` (or deletes the page's keys), or shorten the timeout"
    )


CACHED_VIEW = """\
from django.shortcuts import render
from django.views.decorators.cache import cache_page

from shop.models import Order


@cache_page(60 * 15)
def open_orders(request):
    return render(request, "orders.html", {"orders": Order.objects.filter(status="open")})
"""

WRITER = """\
from shop.models import Order


def close(request, pk):
    order = Order.objects.get(pk=pk)
    order.status = "closed"
    order.save()
"""


def test_decorated_function_view_names_model_writes_and_timeout():
    assert project_messages({"shop/views.py": CACHED_VIEW, "shop/actions.py": WRITER}) == {
        "shop/views.py": [
            "7: " + message("open_orders", "by `@cache_page`", "900 seconds", "Order (written at shop/actions.py:7)")
        ]
    }


def test_more_than_three_writes_are_counted():
    writer = """\
    from shop.models import Order


    def close_all():
        Order.objects.update(status="closed")
        Order.objects.create(status="new")
        Order.objects.filter(status="x").delete()
        Order.objects.bulk_create([])
        Order.objects.get_or_create(status="y")
    """
    messages = project_messages({"shop/views.py": CACHED_VIEW, "shop/jobs.py": writer})
    assert messages["shop/views.py"] == [
        "7: " + message(
            "open_orders", "by `@cache_page`", "900 seconds",
            "Order (written at shop/jobs.py:5, shop/jobs.py:6, shop/jobs.py:7 and 2 more)",
        )
    ]


def test_method_decorator_on_class_view():
    view = """\
    from django.utils.decorators import method_decorator
    from django.views.decorators.cache import cache_page
    from django.views.generic import ListView

    from shop.models import Order


    @method_decorator(cache_page(300), name="dispatch")
    class OrderList(ListView):
        model = Order
    """
    assert project_messages({"shop/views.py": view, "shop/actions.py": WRITER}) == {
        "shop/views.py": [
            "8: " + message(
                "OrderList", "by `method_decorator(cache_page(...))`", "300 seconds",
                "Order (written at shop/actions.py:7)",
            )
        ]
    }


def test_method_decorator_on_get_method_reads_get_queryset():
    view = """\
    from django.utils.decorators import method_decorator
    from django.views import View
    from django.views.decorators.cache import cache_page

    from shop.models import Customer


    class CustomerList(View):
        @method_decorator(cache_page(60))
        def get(self, request):
            return list(Customer.objects.all())
    """
    writer = """\
    from shop.models import Customer


    def rename(pk, name):
        Customer.objects.filter(pk=pk).update(name=name)
    """
    assert project_messages({"shop/views.py": view, "shop/jobs.py": writer}) == {
        "shop/views.py": [
            "9: " + message(
                "CustomerList", "by `method_decorator(cache_page(...))`", "60 seconds",
                "Customer (written at shop/jobs.py:5)",
            )
        ]
    }


URLCONF_VIEWS = """\
from django.shortcuts import get_object_or_404, render
from django.views.generic import DetailView

from shop.models import Customer, Order


def order_detail(request, pk):
    return render(request, "order.html", {"order": get_object_or_404(Order, pk=pk)})


class CustomerDetail(DetailView):
    queryset = Customer.objects.all()
"""

URLCONF = """\
from django.urls import path
from django.views.decorators.cache import cache_page

from shop import views

urlpatterns = [
    path("order/<int:pk>/", cache_page(CACHE_TTL)(views.order_detail)),
    path("customer/<int:pk>/", cache_page(60)(views.CustomerDetail.as_view())),
]
"""


def test_cache_page_in_urlconf_wraps_function_and_class_views():
    writer = """\
    from shop.models import Customer, Order


    def tidy(pk):
        customer = Customer.objects.get(pk=pk)
        customer.save()
        Order.objects.filter(customer=customer).delete()
    """
    files = {"shop/views.py": URLCONF_VIEWS, "shop/urls.py": URLCONF, "shop/management/commands/tidy.py": writer}
    assert project_messages(files) == {
        "shop/views.py": [
            "7: " + message(
                "order_detail", "by `cache_page(...)` in shop/urls.py:7", "an unknown time",
                "Order (written at shop/management/commands/tidy.py:7)",
            ),
            "11: " + message(
                "CustomerDetail", "by `cache_page(...)` in shop/urls.py:8", "60 seconds",
                "Customer (written at shop/management/commands/tidy.py:6)",
            ),
        ]
    }


SITE_VIEWS = """\
from django.shortcuts import render
from django.views.decorators.cache import cache_control, never_cache

from shop.models import Order


def orders(request):
    return render(request, "orders.html", {"orders": Order.objects.all()})


@never_cache
def fresh_orders(request):
    return render(request, "orders.html", {"orders": Order.objects.all()})


@cache_control(no_cache=True)
def revalidated_orders(request):
    return render(request, "orders.html", {"orders": Order.objects.all()})


def not_routed(request):
    return Order.objects.all()
"""

SITE_URLS = """\
from django.urls import path

from shop import views

urlpatterns = [
    path("a/", views.orders),
    path("b/", views.fresh_orders),
    path("c/", views.revalidated_orders),
]
"""

SITE_SETTINGS = """\
MIDDLEWARE = [
    "django.middleware.cache.UpdateCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.cache.FetchFromCacheMiddleware",
]
"""


def test_per_site_cache_counts_routed_views_but_not_never_cache_ones():
    files = {
        "shop/views.py": SITE_VIEWS, "shop/urls.py": SITE_URLS, "shop/settings.py": SITE_SETTINGS,
        "shop/actions.py": WRITER,
    }
    assert project_messages(files) == {
        "shop/views.py": [
            "7: " + message(
                "orders", "by the per-site cache middleware",
                "600 seconds (Django's default CACHE_MIDDLEWARE_SECONDS)",
                "Order (written at shop/actions.py:7)",
            )
        ]
    }


def test_per_site_cache_timeout_from_settings():
    settings = SITE_SETTINGS + "CACHE_MIDDLEWARE_SECONDS = 120\n"
    files = {
        "shop/views.py": SITE_VIEWS, "shop/urls.py": SITE_URLS, "shop/settings.py": settings,
        "shop/actions.py": WRITER,
    }
    [found] = project_messages(files)["shop/views.py"]
    assert "for 120 seconds (CACHE_MIDDLEWARE_SECONDS) and reads Order" in found


def test_admin_registration_is_a_write():
    admin = """\
    from django.contrib import admin

    from shop.models import Order

    admin.site.register(Order)
    """
    assert project_messages({"shop/views.py": CACHED_VIEW, "shop/admin.py": admin}) == {
        "shop/views.py": [
            "7: " + message("open_orders", "by `@cache_page`", "900 seconds", "Order (written at shop/admin.py:5)")
        ]
    }


def test_admin_register_decorator_is_a_write():
    admin = """\
    from django.contrib import admin

    from shop.models import Order


    @admin.register(Order)
    class OrderAdmin(admin.ModelAdmin):
        pass
    """
    assert project_messages({"shop/views.py": CACHED_VIEW, "shop/admin.py": admin}) == {
        "shop/views.py": [
            "7: " + message("open_orders", "by `@cache_page`", "900 seconds", "Order (written at shop/admin.py:6)")
        ]
    }


# -- no finding --------------------------------------------------------------------------------
def test_other_registries_are_no_write():
    registry = """\
    import reversion

    from shop.models import Order

    reversion.register(Order)
    """
    assert project_messages({"shop/views.py": CACHED_VIEW, "shop/versions.py": registry}) == {}


def test_no_write_of_the_model_is_no_finding():
    assert project_messages({"shop/views.py": CACHED_VIEW}) == {}


def test_receiver_decorator_for_the_model_is_invalidation():
    receivers = """\
    from django.core.cache import cache
    from django.db.models.signals import post_save
    from django.dispatch import receiver

    from shop.models import Order


    @receiver(post_save, sender=Order)
    def forget(sender, **kwargs):
        cache.clear()
    """
    files = {"shop/views.py": CACHED_VIEW, "shop/actions.py": WRITER, "shop/signals.py": receivers}
    assert project_messages(files) == {}


def test_connected_receiver_for_the_model_is_invalidation():
    receivers = """\
    from django.core.cache import cache
    from django.db.models import signals

    from shop.models import Order


    def forget(sender, **kwargs):
        cache.clear()


    signals.post_delete.connect(forget, sender=Order)
    """
    files = {"shop/views.py": CACHED_VIEW, "shop/actions.py": WRITER, "shop/signals.py": receivers}
    assert project_messages(files) == {}


def test_receiver_does_not_hear_update_or_bulk_writes():
    receivers = """\
    from django.core.cache import cache
    from django.db.models.signals import post_save
    from django.dispatch import receiver

    from shop.models import Order


    @receiver(post_save, sender=Order)
    def forget(sender, **kwargs):
        cache.clear()
    """
    writer = """\
    from shop.models import Order


    def close(pk):
        Order.objects.filter(pk=pk).update(status="closed")
        Order.objects.create(status="new")
    """
    files = {"shop/views.py": CACHED_VIEW, "shop/actions.py": writer, "shop/signals.py": receivers}
    assert project_messages(files) == {
        "shop/views.py": [
            "7: " + message("open_orders", "by `@cache_page`", "900 seconds", "Order (written at shop/actions.py:5)")
            + " (its receiver does not help here: `update()`, `bulk_create()` and `bulk_update()` send no "
            "post_save; delete the page's keys next to them)"
        ]
    }


def test_receiver_for_another_model_is_no_invalidation():
    receivers = """\
    from django.db.models.signals import post_save
    from django.dispatch import receiver

    from shop.models import Customer


    @receiver(post_save, sender=Customer)
    def forget(sender, **kwargs):
        pass
    """
    files = {"shop/views.py": CACHED_VIEW, "shop/actions.py": WRITER, "shop/signals.py": receivers}
    assert list(project_messages(files)) == ["shop/views.py"]


def test_cache_deletion_next_to_the_write_is_invalidation():
    writer = """\
    from django.core.cache import caches

    from shop.models import Order


    def close(pk):
        Order.objects.filter(pk=pk).update(status="closed")
        caches["pages"].clear()
    """
    assert project_messages({"shop/views.py": CACHED_VIEW, "shop/actions.py": writer}) == {}


def test_cache_key_helper_next_to_the_write_is_invalidation():
    writer = """\
    from django.core.cache import cache
    from django.utils.cache import get_cache_key

    from shop.models import Order


    def close(request, pk):
        Order.objects.filter(pk=pk).update(status="closed")
        cache.delete(get_cache_key(request))
    """
    assert project_messages({"shop/views.py": CACHED_VIEW, "shop/actions.py": writer}) == {}


def test_cache_deletion_in_a_decorator_of_the_writing_function_is_invalidation():
    # the function's text is read from its first decorator: a deletion there counts
    writer = """\
    from shop.models import Order
    from shop.utils import after


    @after(lambda: invalidate_page_cache())
    def close(pk):
        Order.objects.filter(pk=pk).update(status="closed")
        Order.objects.filter(pk=pk).update(status="archived")
    """
    assert project_messages({"shop/views.py": CACHED_VIEW, "shop/actions.py": writer}) == {}


def test_a_function_without_the_word_cache_does_not_invalidate():
    writer = """\
    from shop.models import Order


    def close(pk):
        Order.objects.filter(pk=pk).update(status="closed")
        Order.objects.filter(pk=pk).update(status="archived")
        notify_everyone()
    """
    messages = project_messages({"shop/views.py": CACHED_VIEW, "shop/actions.py": writer})
    [message] = messages["shop/views.py"]
    assert "written at shop/actions.py:5, shop/actions.py:6" in message


def test_writes_in_a_rolled_back_block_do_not_count():
    writer = """\
    from shop.models import Order
    from shop.utils import rolledback_transaction


    def preview():
        with rolledback_transaction():
            Order.objects.create(status="preview")
    """
    assert project_messages({"shop/views.py": CACHED_VIEW, "shop/preview.py": writer}) == {}


def test_untyped_reads_are_no_finding():
    view = """\
    from django.views.decorators.cache import cache_page


    @cache_page(60)
    def anything(request, repository):
        return list(repository.all())
    """
    assert project_messages({"shop/views.py": view, "shop/actions.py": WRITER}) == {}


def test_cache_page_zero_stores_nothing():
    view = CACHED_VIEW.replace("60 * 15", "0")
    assert project_messages({"shop/views.py": view, "shop/actions.py": WRITER}) == {}


def test_writes_in_tests_do_not_count():
    assert project_messages({"shop/views.py": CACHED_VIEW, "shop/tests/test_orders.py": WRITER}) == {}


def test_cached_view_in_a_test_file_is_not_reported():
    files = {"shop/tests.py": CACHED_VIEW, "shop/actions.py": WRITER}
    assert project_messages(files) == {}


def test_without_per_site_middleware_plain_views_are_not_cached():
    files = {"shop/views.py": SITE_VIEWS, "shop/urls.py": SITE_URLS, "shop/actions.py": WRITER}
    assert project_messages(files) == {}


def test_per_site_middleware_half_listed_is_not_the_cache():
    settings = 'MIDDLEWARE = ["django.middleware.cache.UpdateCacheMiddleware"]\n'
    files = {
        "shop/views.py": SITE_VIEWS, "shop/urls.py": SITE_URLS, "shop/settings.py": settings,
        "shop/actions.py": WRITER,
    }
    assert project_messages(files) == {}


SITE_CLASS_VIEWS = """\
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView

from shop.models import Order


class OrderList(ListView):
    model = Order


@method_decorator(never_cache, name="dispatch")
class OrderDetail(DetailView):
    model = Order
"""

SITE_CLASS_URLS = """\
from django.urls import path

from shop.views import OrderDetail, OrderList

urlpatterns = [
    path("", OrderList.as_view()),
    path("<int:pk>/", OrderDetail.as_view()),
]
"""


def test_per_site_cache_counts_routed_class_views_but_not_never_cache_ones():
    files = {
        "shop/views.py": SITE_CLASS_VIEWS, "shop/urls.py": SITE_CLASS_URLS,
        "shop/settings.py": SITE_SETTINGS, "shop/actions.py": WRITER,
    }
    assert project_messages(files) == {
        "shop/views.py": [
            "8: " + message(
                "OrderList", "by the per-site cache middleware",
                "600 seconds (Django's default CACHE_MIDDLEWARE_SECONDS)",
                "Order (written at shop/actions.py:7)",
            )
        ]
    }


def test_per_site_cache_in_a_test_settings_file_is_not_the_cache():
    files = {
        "shop/views.py": SITE_CLASS_VIEWS, "shop/urls.py": SITE_CLASS_URLS,
        "shop/tests/settings.py": SITE_SETTINGS, "shop/actions.py": WRITER,
    }
    assert project_messages(files) == {}


def test_a_cached_run_sees_a_write_added_in_another_file(tmp_path):
    """The view's module imports nothing of the writer: QS008's answer depends on every module."""
    from codemods.base import EXAMPLE_MODELS
    from tests.helpers import run_in, write_project

    write_project(tmp_path, {"shop/models.py": EXAMPLE_MODELS, "shop/views.py": CACHED_VIEW})
    (tmp_path / "pyproject.toml").write_text("")

    def qs008_lines():
        result = run_in(tmp_path, use_cache=True, select=frozenset({"QS008"}))
        return [(f.path, f.line) for f in result.findings if f.code == "QS008" and f.is_active]

    assert qs008_lines() == []
    (tmp_path / "shop" / "actions.py").write_text(textwrap.dedent(WRITER))
    assert qs008_lines() == [("shop/views.py", 7)]


# -- the project's writes are read from the functions that can hold one ------------------------
MANY_FUNCTIONS = """\
from shop.models import Order as O


def describe(order):
    return f"order {order.pk}"


def close(pk):
    order = O.objects.get(pk=pk)
    order.save()


class Jobs:
    def count_open(self):
        return O.objects.filter(status="open").count()

    def run(self):
        self.count_open()
        O.objects.filter(status="x").update(status="y")
"""


def analysed_while(files: dict[str, str], monkeypatch) -> tuple[list, dict]:
    """The run's QS008 findings, and the analyses QS008 made of other modules (by file name)."""
    from codemods.qs008_cache_page_without_invalidation import ModuleReader

    made = {}
    real = ModuleReader.analyse
    monkeypatch.setattr(ModuleReader, "analyse", lambda self, s: made.setdefault(s.path.rpartition("/")[2], real(self, s)))
    _, result = rewrite_project(files, **QS008)
    return [f"{f.line}: {f.message}" for f in result.findings if f.code == "QS008" and f.is_active], made


def test_writes_are_found_and_functions_holding_none_are_not_analysed(monkeypatch):
    found, made = analysed_while({"shop/views.py": CACHED_VIEW, "shop/jobs.py": MANY_FUNCTIONS}, monkeypatch)
    assert found == [
        "7: " + message(
            "open_orders", "by `@cache_page`", "900 seconds", "Order (written at shop/jobs.py:10, shop/jobs.py:19)"
        )
    ]
    jobs = made["jobs.py"]
    quiet = {n.name for n in ast.walk(jobs.tree) if id(n) in jobs.scopes.skip_bodies}
    assert quiet == {"describe", "count_open"}  # they name the model, but write nothing


def test_a_module_the_receiver_reader_walks_is_analysed_whole(monkeypatch):
    # `read_receivers` types every call of the module: no body of it may be left unread
    writer = WRITER + textwrap.dedent("""\


        def describe(order):
            return str(order)


        def hook():
            from django.db.models.signals import post_delete
            return post_delete
        """)
    found, made = analysed_while({"shop/views.py": CACHED_VIEW, "shop/actions.py": writer}, monkeypatch)
    assert [line.partition(":")[0] for line in found] == ["7"]
    assert made["actions.py"].scopes.skip_bodies == frozenset()
