"""QS003/QS004 on a real Django + DRF app (sqlite, the test client): views and routers behave the
same after the rewrite, and the staleness the passes fix is really gone.

Every AFTER is the tool's own output: the engine over a throwaway project that mirrors the real
package path (`tests/djapp/models.py` plus the view modules below), as
`tests.helpers.rewrite_project` builds it; nothing is hand-written. BEFORE and AFTER are then
loaded as real modules under their dotted names (`tests.djapp.<name>`, so `super()`, imports
between the modules and DRF routers work), served through a URLconf built at runtime
(`override_settings(ROOT_URLCONF=...)`) and requested with `django.test.Client` /
`rest_framework.test.APIClient`. Each side runs in a savepoint that is rolled back, so rows one
side deletes are back for the other. Queries are counted per request.

The views render JSON (`render_to_response` overridden in the source itself), so no templates
are needed. "Time passing" is simulated by importing a module while `timezone.now` is patched
to a time 30 days ago: class bodies and module-level QuerySets freeze that cutoff; code that
runs per request does not.

Data (see `db_rows` in conftest.py), as indexes into `db_rows.orders`:
    0 alice active     1 day old     3 bob active   2 days
    1 alice shipped   10 days        4 bob pending  3 days
    2 alice cancelled 40 days

The last section holds shapes the tool gets wrong today (they fail on purpose).
"""

import itertools
import sys
import textwrap
import types
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Optional
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches, path
from django.utils import timezone
from rest_framework.test import APIClient

from tests.helpers import DJAPP_MODELS, rewrite_project

MODELS = {"tests/djapp/models.py": DJAPP_MODELS}


# -- the tool ------------------------------------------------------------------------------
@dataclass
class Rewrite:
    before: dict  # path -> text (dedented)
    after: dict  # path -> the tool's text
    findings: list

    def applied(self, path: Optional[str] = None) -> list[tuple[str, int, str]]:
        """(code, line, applicability) of every applied fix, in `path` or everywhere."""
        return sorted(
            (f.code, f.line, f.fix.applicability)
            for f in self.findings
            if f.fix and f.fix.applied and (path is None or f.path == path)
        )

    def skipped(self, path: str) -> list[tuple[str, int, str]]:
        return sorted((f.code, f.line, f.skip_reason) for f in self.findings if f.skip_reason and f.path == path)


def run_tool(files: dict[str, str], **options) -> Rewrite:
    """The tool over the models plus `files`; BEFORE and AFTER of every file in `files`."""
    files = {p: textwrap.dedent(t) for p, t in files.items()}
    out, result = rewrite_project({**MODELS, **files}, **options)
    return Rewrite(files, {p: out[p] for p in files}, result.findings)


def assert_idempotent(rewrite: Rewrite, **options) -> None:
    """Running the tool again on its own output changes nothing."""
    again = run_tool(rewrite.after, **options)
    assert again.after == rewrite.after, "a second run changed the output"
    assert again.applied() == []


# -- running the code ----------------------------------------------------------------------
_names = itertools.count()


def dotted(file_path: str) -> str:
    return file_path[: -len(".py")].replace("/", ".")


@contextmanager
def loaded(files: dict[str, str], *, now=None):
    """Import `files` (path -> text, in order) as real modules under their dotted names; with
    `now`, `timezone.now()` returns it while they are imported. Yields {path: module};
    sys.modules is restored afterwards."""
    saved = {}
    modules = {}
    try:
        with ExitStack() as stack:
            if now is not None:
                stack.enter_context(mock.patch("django.utils.timezone.now", return_value=now))
            for file_path, text in files.items():
                name = dotted(file_path)
                saved.setdefault(name, sys.modules.get(name))
                module = types.ModuleType(name)
                module.__file__ = f"<qsfix semantic {file_path}>"
                sys.modules[name] = module
                exec(compile(text, module.__file__, "exec"), module.__dict__)
                modules[file_path] = module
        yield modules
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old


@contextmanager
def served(urlpatterns):
    """A URLconf holding `urlpatterns` (a list, or a module whose urlpatterns to use)."""
    name = f"tests.djapp._qsfix_semantic_urls_{next(_names)}"
    urlconf = types.ModuleType(name)
    urlconf.urlpatterns = getattr(urlpatterns, "urlpatterns", urlpatterns)
    sys.modules[name] = urlconf
    clear_url_caches()
    try:
        with override_settings(ROOT_URLCONF=name, ALLOWED_HOSTS=["testserver"]):
            yield
    finally:
        sys.modules.pop(name, None)
        clear_url_caches()


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # parsed JSON, or None
    queries: int

    def __repr__(self):
        return f"{self.status} {self.body} ({self.queries}q)"


def request(client, url: str) -> Response:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    body = response.json() if response.get("Content-Type", "").startswith("application/json") else None
    return Response(response.status_code, body, len(captured.captured_queries))


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def both_sides(rewrite: Rewrite, scenario: Callable, *, now=None, order: Optional[list] = None, catch=False):
    """Run `scenario(modules)` on BEFORE, then on AFTER, each in its own savepoint; returns
    (before, after). `order` lists the files to import, dependencies first (default: all, in
    the order given to the tool). With `catch`, an exception on the AFTER side (an import
    that fails, a view that raises) becomes its result, a string, so the comparison shows it."""
    order = order or list(rewrite.before)
    results = []
    for texts in (rewrite.before, rewrite.after):
        try:
            with rolled_back(), loaded({p: texts[p] for p in order}, now=now) as modules:
                results.append(scenario(modules))
        except Exception as exc:
            if not catch or texts is rewrite.before:
                raise
            results.append(f"raised {type(exc).__name__}: {exc}")
    return tuple(results)


def report(shape: str, before, after) -> None:
    """Shown with `pytest -s`: what each side answered."""
    print(f"\n[{shape}]\n  before: {before}\n  after:  {after}")


def thirty_days_ago():
    return timezone.now() - timedelta(days=30)


@pytest.fixture
def pk(db_rows):
    return [order.pk for order in db_rows.orders]


# -- the project under rewrite -------------------------------------------------------------
ORDER_VIEWS = "tests/djapp/order_views.py"
ORDER_VIEWS_SRC = '''\
from datetime import timedelta

from django.http import JsonResponse
from django.utils import timezone
from django.views.generic import DetailView, ListView

from tests.djapp.models import Order


class JsonListView(ListView):
    """Our list pages answer JSON: the ids of the page's orders."""

    def render_to_response(self, context, **response_kwargs):
        return JsonResponse({"ids": [order.pk for order in context["object_list"]]})


class RecentOrders(JsonListView):
    queryset = Order.objects.filter(created__gte=timezone.now() - timedelta(days=5))
    ordering = ["-created"]
    paginate_by = None


class RecentOrder(DetailView):
    queryset = Order.objects.filter(created__gte=timezone.now() - timedelta(days=5))

    def render_to_response(self, context, **response_kwargs):
        order = context["object"]
        return JsonResponse({"id": order.pk, "status": order.status, "total": order.total})
'''


def order_urls(modules):
    views = modules[ORDER_VIEWS]
    return [
        path("orders/recent/", views.RecentOrders.as_view()),
        path("orders/<int:pk>/", views.RecentOrder.as_view()),
    ]


@pytest.fixture(scope="module")
def order_views():
    rewrite = run_tool({ORDER_VIEWS: ORDER_VIEWS_SRC})
    assert rewrite.applied(ORDER_VIEWS) == [("QS003", 18, "safe"), ("QS003", 24, "safe")], rewrite.findings
    after = rewrite.after[ORDER_VIEWS]
    assert "\n    queryset = " not in after  # both class attributes moved
    assert "def get_queryset(self):" in after
    assert "self.get_ordering()" in after  # the list view keeps applying `ordering`
    assert "set by a subclass" not in after  # no subclass: no guard
    assert_idempotent(rewrite)
    return rewrite


# -- 1. ListView: stale filter, ordering kept ----------------------------------------------
def test_list_view_same_rows_same_order(order_views, pk):
    def scenario(modules):
        with served(order_urls(modules)):
            return request(Client(), "/orders/recent/")

    before, after = both_sides(order_views, scenario)
    report("1 ListView recent, ordering -created", before, after)
    assert before.status == after.status == 200
    assert before.body == after.body == {"ids": [pk[0], pk[3], pk[4]]}  # newest first
    assert after.queries == before.queries == 1


# -- 2. DetailView: inside the window 200, outside 404 -------------------------------------
def test_detail_view_same_object_and_404(order_views, pk):
    def scenario(modules):
        with served(order_urls(modules)):
            client = Client()
            return request(client, f"/orders/{pk[3]}/"), request(client, f"/orders/{pk[1]}/")

    (inside_b, outside_b), (inside_a, outside_a) = both_sides(order_views, scenario)
    report("2 DetailView inside / outside the window", (inside_b, outside_b.status), (inside_a, outside_a.status))
    assert inside_b == inside_a
    assert inside_a.status == 200 and inside_a.body == {"id": pk[3], "status": "active", "total": 40}
    assert outside_b.status == outside_a.status == 404
    assert inside_a.queries == inside_b.queries == 1
    assert outside_a.queries == outside_b.queries == 1


# -- 5. staleness: the module was imported "30 days ago" -----------------------------------
def test_cutoff_is_computed_per_request_after_the_rewrite(order_views, pk):
    def scenario(modules):
        with served(order_urls(modules)):
            client = Client()
            return request(client, "/orders/recent/"), request(client, f"/orders/{pk[1]}/")

    (list_b, detail_b), (list_a, detail_a) = both_sides(order_views, scenario, now=thirty_days_ago())
    report("5 imported 30 days ago: list, detail of the 10-day-old order", (list_b, detail_b.status), (list_a, detail_a.status))
    # BEFORE: the cutoff froze at import (35 days ago): the 10-day-old order still counts as recent
    assert list_b.body == {"ids": [pk[0], pk[3], pk[4], pk[1]]}
    assert detail_b.status == 200
    # AFTER: the cutoff is 5 days before each request
    assert list_a.body == {"ids": [pk[0], pk[3], pk[4]]}
    assert detail_a.status == 404
    assert list_a.queries == list_b.queries == 1


# -- 3. DRF ModelViewSet on a DefaultRouter without basename ---------------------------------
API_VIEWS = "tests/djapp/api_views.py"
API_VIEWS_SRC = '''\
from datetime import timedelta

from django.db.models import Count, Sum
from django.utils import timezone
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tests.djapp.models import Order


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["id", "status", "total"]


class RecentOrderViewSet(viewsets.ModelViewSet):
    queryset = Order.objects.filter(created__gte=timezone.now() - timedelta(days=5))
    serializer_class = OrderSerializer

    @action(detail=False)
    def summary(self, request):
        totals = self.filter_queryset(self.get_queryset()).aggregate(count=Count("id"), total=Sum("total"))
        return Response(totals)
'''
API_URLS = "tests/djapp/api_urls.py"
API_URLS_SRC = '''\
from rest_framework.routers import DefaultRouter

from tests.djapp.api_views import RecentOrderViewSet

router = DefaultRouter()
router.register("orders", RecentOrderViewSet)

urlpatterns = router.urls
'''


def test_drf_viewset_router_without_basename(db_rows, pk):
    rewrite = run_tool({API_VIEWS: API_VIEWS_SRC, API_URLS: API_URLS_SRC})
    assert rewrite.applied() == [("QS003", 19, "safe")], rewrite.findings
    after = rewrite.after[API_VIEWS]
    assert "    queryset = Order.objects.all()\n" in after  # kept for the router and schemas
    assert "def get_queryset(self):\n        return Order.objects.filter(created__gte=" in after
    assert rewrite.after[API_URLS] == rewrite.before[API_URLS]
    assert_idempotent(rewrite)

    def scenario(modules):
        router = modules[API_URLS].router
        routes = [(url.name, str(url.pattern)) for url in router.urls]
        basename = router.get_default_basename(modules[API_VIEWS].RecentOrderViewSet)
        with served(modules[API_URLS]):
            client = APIClient()
            listing = client.get("/orders/")  # DRF's Response keeps the view that made it
            extra = listing.renderer_context["view"].get_extra_action_url_map()
            return {
                "routes": routes,
                "basename": basename,
                "extra_actions": extra,
                "root": request(client, "/"),
                "list": request(client, "/orders/"),
                "detail": request(client, f"/orders/{pk[0]}/"),
                "detail_outside": request(client, f"/orders/{pk[2]}/"),
                "summary": request(client, "/orders/summary/"),
            }

    before, after = both_sides(rewrite, scenario)
    report("3 DRF ModelViewSet", before, after)
    assert after == before
    assert after["basename"] == "order"
    assert ("order-list", "^orders/$") in after["routes"] and ("order-detail", "^orders/(?P<pk>[^/.]+)/$") in after["routes"]
    assert after["extra_actions"] == {"Summary": "http://testserver/orders/summary/"}
    assert after["root"].body == {"orders": "http://testserver/orders/"}
    assert [o["id"] for o in after["list"].body] == [pk[0], pk[3], pk[4]]
    assert after["detail"].body == {"id": pk[0], "status": "active", "total": 100}
    assert after["detail_outside"].status == 404
    assert after["summary"].body == {"count": 3, "total": 215}
    assert after["list"].queries == 1 and after["detail"].queries == 1


def test_drf_viewset_cutoff_is_computed_per_request(db_rows, pk):
    rewrite = run_tool({API_VIEWS: API_VIEWS_SRC, API_URLS: API_URLS_SRC})

    def scenario(modules):
        with served(modules[API_URLS]):
            client = APIClient()
            return request(client, "/orders/summary/"), request(client, f"/orders/{pk[1]}/").status

    before, after = both_sides(rewrite, scenario, now=thirty_days_ago())
    report("3b DRF imported 30 days ago: summary, detail of the 10-day-old order", before, after)
    assert before[0].body == {"count": 4, "total": 465} and before[1] == 200
    assert after[0].body == {"count": 3, "total": 215} and after[1] == 404


# -- 4. a subclass with its own queryset ---------------------------------------------------
SHOP_VIEWS = "tests/djapp/shop_views.py"
SHOP_VIEWS_SRC = '''\
from datetime import timedelta

from django.http import JsonResponse
from django.utils import timezone
from django.views.generic import ListView

from tests.djapp.models import Order


class RecentList(ListView):
    queryset = Order.objects.filter(created__gte=timezone.now() - timedelta(days=5))
    ordering = ["-created"]

    def render_to_response(self, context, **response_kwargs):
        return JsonResponse({"ids": [order.pk for order in context["object_list"]]})


class Shipped(RecentList):
    queryset = Order.objects.filter(status="shipped")


class NewestFirst(RecentList):
    ordering = ["-total"]
'''


def test_subclass_with_its_own_queryset(db_rows, pk):
    rewrite = run_tool({SHOP_VIEWS: SHOP_VIEWS_SRC})
    assert rewrite.applied() == [("QS003", 11, "safe")], rewrite.findings
    assert [(code, line) for code, line, _ in rewrite.skipped(SHOP_VIEWS)] == [("QS003", 19)]
    after = rewrite.after[SHOP_VIEWS]
    assert "if self.queryset is not None:  # set by a subclass or as_view(queryset=...)\n            return super().get_queryset()" in after
    assert '    queryset = Order.objects.filter(status="shipped")\n' in after  # the subclass is untouched
    assert_idempotent(rewrite)

    def scenario(modules):
        views = modules[SHOP_VIEWS]
        urls = [
            path("recent/", views.RecentList.as_view()),
            path("shipped/", views.Shipped.as_view()),
            path("by-total/", views.NewestFirst.as_view()),
        ]
        with served(urls):
            client = Client()
            return [request(client, url) for url in ("/recent/", "/shipped/", "/by-total/")]

    before, after = both_sides(rewrite, scenario)
    report("4 parent / subclass with own queryset / subclass with own ordering", before, after)
    assert after == before
    assert [r.body["ids"] for r in after] == [[pk[0], pk[3], pk[4]], [pk[1]], [pk[0], pk[4], pk[3]]]
    assert [r.queries for r in after] == [1, 1, 1]

    # and the parent's cutoff is fresh, the subclass's rows unchanged, on an old import
    before, after = both_sides(rewrite, scenario, now=thirty_days_ago())
    report("4b imported 30 days ago", before, after)
    assert before[0].body["ids"] == [pk[0], pk[3], pk[4], pk[1]]
    assert after[0].body["ids"] == [pk[0], pk[3], pk[4]]
    assert before[1] == after[1]


# -- 6. get_context_data evaluates self.queryset -------------------------------------------
DASHBOARD = "tests/djapp/dashboard.py"
DASHBOARD_SRC = '''\
from django.http import JsonResponse
from django.views.generic import ListView

from tests.djapp.models import Order


class ActiveDashboard(ListView):
    queryset = Order.objects.filter(status="active")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["active_total"] = sum(order.total for order in self.queryset)
        return context

    def render_to_response(self, context, **response_kwargs):
        return JsonResponse(
            {
                "ids": [order.pk for order in context["object_list"]],
                "active_total": context["active_total"],
            }
        )
'''


def test_self_queryset_read_no_longer_shares_its_cache(db_rows, pk):
    rewrite = run_tool({DASHBOARD: DASHBOARD_SRC})
    assert rewrite.applied() == [("QS003", 8, "safe")], rewrite.findings
    after = rewrite.after[DASHBOARD]
    assert "sum(order.total for order in self.get_queryset())" in after
    assert "self.queryset" not in after
    assert_idempotent(rewrite)

    def scenario(modules):
        from tests.djapp.models import Order

        with served([path("dashboard/", modules[DASHBOARD].ActiveDashboard.as_view())]):
            client = Client()
            first = request(client, "/dashboard/")
            Order.objects.filter(pk=pk[3]).delete()  # bob's active order goes away
            second = request(client, "/dashboard/")
        return first, second

    before, after = both_sides(rewrite, scenario)
    report("6 get_context_data iterates self.queryset; a row deleted between requests", before, after)
    assert before[0] == after[0]
    assert after[0].body == {"ids": [pk[0], pk[3]], "active_total": 140}
    # BEFORE: the class attribute's cache, filled by the first request, answers the second
    assert before[1].body == {"ids": [pk[0]], "active_total": 140}
    assert (before[0].queries, before[1].queries) == (2, 1)
    # AFTER: every request reads the table
    assert after[1].body == {"ids": [pk[0]], "active_total": 100}
    assert (after[0].queries, after[1].queries) == (2, 2)


# -- 7. QS004: a module-level QuerySet imported by a function view -------------------------
QSMOD = "tests/djapp/qsmod.py"
QSMOD_SRC = '''\
from tests.djapp.models import Order

ACTIVE = Order.objects.filter(status="active")
'''
FUNC_VIEWS = "tests/djapp/func_views.py"
FUNC_VIEWS_SRC = '''\
from django.http import JsonResponse

from tests.djapp.qsmod import ACTIVE


def active_orders(request):
    return JsonResponse({"ids": [order.pk for order in ACTIVE]})
'''


def test_module_level_queryset_becomes_a_factory(db_rows, pk):
    rewrite = run_tool({QSMOD: QSMOD_SRC, FUNC_VIEWS: FUNC_VIEWS_SRC}, select=frozenset({"QS004"}))
    assert rewrite.applied(QSMOD) == [("QS004", 3, "safe")], rewrite.findings
    assert rewrite.applied(FUNC_VIEWS) == [("QS004", 3, "safe")], rewrite.findings
    assert "def active():\n    return Order.objects.filter(status=\"active\")" in rewrite.after[QSMOD]
    assert "from tests.djapp.qsmod import active\n" in rewrite.after[FUNC_VIEWS]
    assert "for order in active()]" in rewrite.after[FUNC_VIEWS]
    assert_idempotent(rewrite, select=frozenset({"QS004"}))

    def scenario(modules):
        from tests.djapp.models import Order

        names = [name for name in ("ACTIVE", "active") if hasattr(modules[QSMOD], name)]
        with served([path("active/", modules[FUNC_VIEWS].active_orders)]):
            client = Client()
            first = request(client, "/active/")
            Order.objects.filter(pk=pk[3]).delete()
            second = request(client, "/active/")
        return names, first, second

    before, after = both_sides(rewrite, scenario)
    report("7 QS004 function view over ACTIVE; a row deleted between requests", before, after)
    assert before[0] == ["ACTIVE"] and after[0] == ["active"]  # both modules imported
    assert before[1] == after[1] and after[1].body == {"ids": [pk[0], pk[3]]}
    # BEFORE: the module-level QuerySet's cache answers every later request, without a query
    assert before[2].body == {"ids": [pk[0], pk[3]]} and before[2].queries == 0
    # AFTER: a fresh QuerySet per request
    assert after[2].body == {"ids": [pk[0]]} and after[2].queries == 1


# -- 8. QS004 + QS003: a view's queryset is a module-level QuerySet of another module -------
RECENT = "tests/djapp/recent.py"
RECENT_SRC = '''\
from datetime import timedelta

from django.utils import timezone

from tests.djapp.models import Order

RECENT = Order.objects.filter(created__gte=timezone.now() - timedelta(days=5))
'''
RECENT_VIEWS = "tests/djapp/recent_views.py"
RECENT_VIEWS_SRC = '''\
from django.http import JsonResponse
from django.views.generic import ListView

from tests.djapp.recent import RECENT


class RecentList(ListView):
    queryset = RECENT
    ordering = ["-created"]

    def render_to_response(self, context, **response_kwargs):
        return JsonResponse({"ids": [order.pk for order in context["object_list"]]})
'''


def test_module_queryset_and_view_queryset_together(db_rows, pk):
    rewrite = run_tool({RECENT: RECENT_SRC, RECENT_VIEWS: RECENT_VIEWS_SRC})
    assert rewrite.applied(RECENT) == [("QS004", 7, "safe")], rewrite.findings
    assert rewrite.applied(RECENT_VIEWS) == [("QS003", 8, "safe"), ("QS004", 4, "safe")], rewrite.findings
    assert "def recent():\n" in rewrite.after[RECENT]
    assert "from tests.djapp.recent import recent\n" in rewrite.after[RECENT_VIEWS]
    assert "        queryset = recent()\n" in rewrite.after[RECENT_VIEWS]  # inside get_queryset()
    assert "    queryset = RECENT" not in rewrite.after[RECENT_VIEWS]
    assert_idempotent(rewrite)

    def scenario(modules):
        with served([path("recent/", modules[RECENT_VIEWS].RecentList.as_view())]):
            client = Client()
            return request(client, "/recent/"), request(client, "/recent/")

    before, after = both_sides(rewrite, scenario)
    report("8 QS003+QS004 fresh import, two requests", before, after)
    assert after == before
    assert after[0].body == {"ids": [pk[0], pk[3], pk[4]]}
    assert [r.queries for r in after] == [1, 1]

    before, after = both_sides(rewrite, scenario, now=thirty_days_ago())
    report("8b imported 30 days ago", before, after)
    assert before[0].body == {"ids": [pk[0], pk[3], pk[4], pk[1]]}
    assert after[0].body == {"ids": [pk[0], pk[3], pk[4]]}


# -- shapes the tool gets wrong today (these fail on purpose) ------------------------------
URLS_AS_VIEW = "tests/djapp/order_urls.py"
URLS_AS_VIEW_SRC = '''\
from django.urls import path

from tests.djapp.models import Order
from tests.djapp.order_views import RecentOrder, RecentOrders

urlpatterns = [
    path("orders/<int:pk>/", RecentOrder.as_view()),
    path("orders/active/<int:pk>/", RecentOrder.as_view(queryset=Order.objects.filter(status="active"))),
    path("orders/recent/", RecentOrders.as_view()),
    path("orders/recent/big/", RecentOrders.as_view(queryset=Order.objects.filter(total__gte=50))),
]
'''


def test_as_view_queryset_argument_still_wins(db_rows, pk):
    """`View.as_view(queryset=...)` in a URLconf sets `self.queryset` per view function: the
    generated get_queryset() must still honour it (the subclass guard would), or the view must
    be left alone. Today the tool rewrites both views without the guard and the URLconf's
    querysets are silently ignored."""
    rewrite = run_tool({ORDER_VIEWS: ORDER_VIEWS_SRC, URLS_AS_VIEW: URLS_AS_VIEW_SRC})

    def scenario(modules):
        with served(modules[URLS_AS_VIEW]):
            client = Client()
            return {
                "pending order via active-only route": request(client, f"/orders/active/{pk[4]}/").status,
                "recent/big": request(client, "/orders/recent/big/").body,
            }

    before, after = both_sides(rewrite, scenario, order=[ORDER_VIEWS, URLS_AS_VIEW])
    report("9 as_view(queryset=...) in a URLconf", before, after)
    assert before == {"pending order via active-only route": 404, "recent/big": {"ids": [pk[0], pk[4], pk[1]]}}
    assert after == before


PARENT_VIEWS_SRC = '''\
from datetime import timedelta

from django.http import JsonResponse
from django.utils import timezone
from django.views.generic import ListView

from tests.djapp.models import Order


class RecentOrders(ListView):
    queryset = Order.objects.filter(created__gte=timezone.now() - timedelta(days=5))
    ordering = ["-created"]

    def render_to_response(self, context, **response_kwargs):
        return JsonResponse({"ids": [order.pk for order in context["object_list"]]})
'''
PARENT_READ = "tests/djapp/parent_read.py"
PARENT_READ_SRC = PARENT_VIEWS_SRC + '''

class RecentActive(RecentOrders):
    queryset = RecentOrders.queryset.filter(status="active")
'''


def test_subclass_narrows_the_parent_class_attribute(db_rows, pk):
    """`queryset = RecentOrders.queryset.filter(...)` in a subclass body reads the parent's
    class attribute at import. Once the tool moves that attribute into get_queryset(),
    `RecentOrders.queryset` is the inherited `None` and the module no longer imports
    (AttributeError: 'NoneType' object has no attribute 'filter'). The tool should skip
    RecentOrders with a reason (or rewrite the subclass too); today it rewrites the parent,
    adds the subclass guard, and leaves the subclass body as it was."""
    rewrite = run_tool({PARENT_READ: PARENT_READ_SRC})

    def scenario(modules):
        views = modules[PARENT_READ]
        urls = [path("recent/", views.RecentOrders.as_view()), path("recent/active/", views.RecentActive.as_view())]
        with served(urls):
            client = Client()
            return [request(client, url).body for url in ("/recent/", "/recent/active/")]

    before, after = both_sides(rewrite, scenario, catch=True)
    report("10 Parent.queryset narrowed in a subclass body", before, after)
    assert before == [{"ids": [pk[0], pk[3], pk[4]]}, {"ids": [pk[0], pk[3]]}]
    assert after == before


PARENT_ONLY = "tests/djapp/parent_views.py"
PARENT_READ_ELSEWHERE = "tests/djapp/parent_stats.py"
PARENT_READ_ELSEWHERE_SRC = '''\
from django.http import JsonResponse

from tests.djapp.parent_views import RecentOrders


def recent_count(request):
    return JsonResponse({"count": RecentOrders.queryset.count()})
'''


def test_class_attribute_read_from_another_module(db_rows, pk):
    """`RecentOrders.queryset.count()` in another module's function: after the tool moves the
    attribute into get_queryset() (no guard: no subclass), it is `None` and the view raises
    AttributeError: 'NoneType' object has no attribute 'count'. The tool should skip
    RecentOrders with a reason (the attribute is read outside the class), or rewrite the read
    to something equivalent."""
    rewrite = run_tool({PARENT_ONLY: PARENT_VIEWS_SRC, PARENT_READ_ELSEWHERE: PARENT_READ_ELSEWHERE_SRC})

    def scenario(modules):
        with served([path("recent/count/", modules[PARENT_READ_ELSEWHERE].recent_count)]):
            return request(Client(), "/recent/count/").body

    before, after = both_sides(rewrite, scenario, catch=True)
    report("11 Parent.queryset read from another module's function", before, after)
    assert before == {"count": 3}
    assert after == before
