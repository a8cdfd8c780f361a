"""QS007 select-for-update-outside-transaction: what is reported (a diagnostic: no fix, the
text never changes) and a no-op test for every exclusion."""

import json
import textwrap

from click.testing import CliRunner

from cli import main
from codemods.base import EXAMPLE_MODELS
from tests.helpers import check_noop, rewrite_project, run_project

QS007 = {"select": frozenset({"QS007"})}


def reported(source: str, path: str = "shop/example.py", files=None) -> list[str]:
    """The active QS007 messages for `source`; the text must stay as it was."""
    outcome = check_noop(source, path=path, files=files, **QS007)
    found = [f for f in outcome.findings if f.code == "QS007" and f.is_active]
    assert all(f.fix is None for f in found)
    return [f"{f.line}: {f.message}" for f in found]


def project_messages(files: dict[str, str]) -> dict[str, list[str]]:
    out, result = rewrite_project(files, **QS007)
    for path, text in out.items():  # a diagnostic changes nothing
        assert text == textwrap.dedent(files[path])
    messages: dict[str, list[str]] = {}
    for f in result.findings:
        if f.code == "QS007" and f.is_active:
            messages.setdefault(f.path, []).append(f"{f.line}: {f.message}")
    return messages


VIEW = """\
from shop.models import Order


def ship(request, pk):
    order = Order.objects.select_for_update().get(pk=pk)
    order.status = "shipped"
    order.save()
"""


def test_view_without_transaction_names_the_lines():
    assert reported(VIEW) == [
        "5: `select_for_update()` is evaluated on line 5 with no transaction open (`ship` is a "
        "view and ATOMIC_REQUESTS is not set): Django raises TransactionManagementError on "
        "PostgreSQL, MySQL and Oracle, while SQLite and tests in a TestCase never show it; put "
        "lines 5-7 (the locking read to the last write of the rows) in `with "
        "transaction.atomic():`, or decorate `ship` with `@transaction.atomic`"
    ]


def test_every_evaluating_shape_is_reported():
    source = """\
    from shop.models import Order


    def a(request):
        return list(Order.objects.select_for_update().filter(status="open"))


    def b(request):
        for order in Order.objects.filter(status="open").select_for_update():
            order.save()


    def c(request):
        return Order.objects.select_for_update()[0]


    def d(request):
        locked = Order.objects.select_for_update().filter(status="open")
        return [o.pk for o in locked]


    def e(request):
        return Order.objects.select_for_update(nowait=True).first()
    """
    assert [m.split(":")[0] for m in reported(source)] == ["5", "9", "14", "18", "23"]


def test_atomic_block_and_decorators_are_a_transaction():
    check = """\
    from django.db import transaction
    from django.db.transaction import atomic

    from shop.models import Order


    def a(request, pk):
        with transaction.atomic():
            return Order.objects.select_for_update().get(pk=pk)


    def b(request, pk):
        with atomic(using="default"):
            return Order.objects.select_for_update().get(pk=pk)


    @transaction.atomic
    def c(request, pk):
        return Order.objects.select_for_update().get(pk=pk)


    @atomic(using="default")
    def d(request, pk):
        return Order.objects.select_for_update().get(pk=pk)


    def e(request, pk):
        locked = Order.objects.select_for_update().filter(pk=pk)
        with transaction.atomic():
            return locked.get()
    """
    assert reported(check) == []


def test_atomic_requests_covers_views_but_not_non_atomic_ones():
    settings = {"proj/settings.py": 'DATABASES = {"default": {"ATOMIC_REQUESTS": True}}\n'}
    assert reported(VIEW, files=settings) == []
    source = """\
    from django.db import transaction

    from shop.models import Order


    @transaction.non_atomic_requests
    def ship(request, pk):
        return Order.objects.select_for_update().get(pk=pk)
    """
    assert [m.split(":")[0] for m in reported(source, files=settings)] == ["8"]


def test_helper_called_from_a_view_outside_a_transaction():
    messages = project_messages({
        "shop/locks.py": """\
        from shop.models import Order


        def lock(pk):
            return Order.objects.select_for_update().get(pk=pk)
        """,
        "shop/views.py": """\
        from django.db import transaction

        from shop.locks import lock


        @transaction.atomic
        def safe(request, pk):
            return lock(pk)


        def unsafe(request, pk):
            order = lock(pk)
            order.save()
        """,
    })
    assert list(messages) == ["shop/locks.py"]
    [message] = messages["shop/locks.py"]
    assert "(called on line 12 of `shop.views.unsafe`, `unsafe` is a view and ATOMIC_REQUESTS is not set)" in message


def test_helper_whose_every_caller_is_atomic_or_unknown():
    files = {
        "shop/locks.py": """\
        from shop.models import Order


        def lock(pk):
            return Order.objects.select_for_update().get(pk=pk)


        def never_called(pk):
            return Order.objects.select_for_update().get(pk=pk)
        """,
        "shop/views.py": """\
        from django.db import transaction

        from shop import locks


        def pay(request, pk):
            with transaction.atomic():
                locks.lock(pk).save()
        """,
        "shop/tests/test_locks.py": """\
        from shop.locks import lock


        def test_lock(request):
            lock(1)
        """,
    }
    assert project_messages(files) == {}


def test_unknown_context_is_not_reported():
    source = """\
    import contextlib
    from functools import lru_cache

    from shop.models import Order


    def with_other_context(request, pk):
        with contextlib.suppress(KeyError):
            return Order.objects.select_for_update().get(pk=pk)


    @lru_cache
    def unknown_decorator(request, pk):
        return Order.objects.select_for_update().get(pk=pk)


    def nested(request, pk):
        def inner():
            return Order.objects.select_for_update().get(pk=pk)
        return inner


    def returned(request):
        return Order.objects.select_for_update()


    def passed_on(request, helper):
        return helper(Order.objects.select_for_update())


    def task(pk):
        return Order.objects.select_for_update().get(pk=pk)


    def not_a_queryset(request, thing):
        return thing.select_for_update().get()
    """
    assert reported(source) == []


def test_class_based_views():
    source = """\
    from django.db import transaction
    from django.utils.decorators import method_decorator
    from django.views import View

    from shop.models import Order


    class Ship(View):
        def post(self, request, pk):
            return Order.objects.select_for_update().get(pk=pk)

        def helper(self, pk):
            return Order.objects.select_for_update().get(pk=pk)


    @method_decorator(transaction.atomic, name="dispatch")
    class AtomicShip(View):
        def post(self, request, pk):
            return Order.objects.select_for_update().get(pk=pk)


    class OwnDispatch(View):
        def dispatch(self, request, *args, **kwargs):
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)

        def post(self, request, pk):
            return Order.objects.select_for_update().get(pk=pk)
    """
    assert [m.split(":")[0] for m in reported(source)] == ["10"]


def test_lock_never_taken():
    source = """\
    from django.db import transaction

    from shop.models import Order


    @transaction.atomic
    def f(request):
        Order.objects.select_for_update().filter(status="open").update(status="closed")
        Order.objects.select_for_update().delete()
        n = Order.objects.filter(status="x").select_for_update().count()
        Order.objects.select_for_update().aggregate()
        Order.objects.select_for_update().filter(status="open")
        unused = Order.objects.select_for_update()
        return n
    """
    messages = reported(source)
    assert [m.split(":")[0] for m in messages] == ["8", "9", "10", "11", "12", "13"]
    assert "`update()` runs an UPDATE without FOR UPDATE" in messages[0]
    assert "the QuerySet is never evaluated" in messages[4]


def test_a_bare_chain_written_for_the_error_it_raises():
    source = """\
    from shop.models import Order


    def f(request, check):
        with check.raises(ValueError):
            Order.objects.select_for_update(nowait=True, skip_locked=True)
        try:
            Order.objects.select_for_update(of=("self",))
        except ValueError:
            pass
    """
    assert reported(source) == []


def test_exists_and_get_or_create_do_lock():
    source = """\
    from django.db import transaction

    from shop.models import Order


    @transaction.atomic
    def f(request):
        found = Order.objects.select_for_update().filter(status="open").exists()
        return found, Order.objects.select_for_update().get_or_create(status="x")
    """
    assert reported(source) == []


def test_test_files_are_left_alone():
    for path in ("shop/tests/views.py", "shop/test_views.py", "shop/views_tests.py", "shop/tests.py"):
        assert reported(VIEW, path=path) == [], path


def test_json_output_carries_the_lines(monkeypatch):
    root, _ = run_project({"shop/models.py": EXAMPLE_MODELS, "shop/views.py": VIEW})
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["check", "--select", "QS007", "--format", "json", "--no-cache", "."])
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["code"] == "QS007" and finding["fix"] is None and finding["line"] == 5
    assert "evaluated on line 5" in finding["message"] and "lines 5-7" in finding["message"]


def test_method_called_by_a_handler_of_its_view():
    source = """\
    from django.db import transaction
    from django.views import View

    from shop.models import Order


    class Ship(View):
        def post(self, request, pk):
            return self.lock(pk)

        def put(self, request, pk):
            with transaction.atomic():
                return self.lock_in_transaction(pk)

        def lock(self, pk):
            return Order.objects.select_for_update().get(pk=pk)

        def lock_in_transaction(self, pk):
            return Order.objects.select_for_update().get(pk=pk)
    """
    [message] = reported(source)
    assert message.startswith("16: ")
    assert "(called on line 9 of `shop.example.Ship.post`, `Ship.post` is a view and ATOMIC_REQUESTS is not set)" in message


def test_a_view_wrapped_in_atomic_or_handed_to_unknown_code_in_a_urlconf():
    views = {
        "shop/views.py": """\
        from django.views import View

        from shop.models import Order


        def atomic_in_urls(request, pk):
            return Order.objects.select_for_update().get(pk=pk)


        def plain(request, pk):
            return Order.objects.select_for_update().get(pk=pk)


        def wrapped_by_the_project(request, pk):
            return Order.objects.select_for_update().get(pk=pk)


        class AtomicView(View):
            def post(self, request, pk):
                return Order.objects.select_for_update().get(pk=pk)
        """,
        "shop/urls.py": """\
        from django.contrib.auth.decorators import login_required
        from django.db import transaction
        from django.urls import path

        from shop import views
        from shop.wrappers import retry

        urlpatterns = [
            path("a/<int:pk>", transaction.atomic(views.atomic_in_urls)),
            path("b/<int:pk>", login_required(views.plain)),
            path("c/<int:pk>", retry(views.wrapped_by_the_project)),
            path("d/<int:pk>", transaction.atomic(views.AtomicView.as_view())),
        ]
        """,
        "shop/wrappers.py": """\
        def retry(view):
            return view
        """,
    }
    messages = project_messages(views)
    assert [m.split(":")[0] for m in messages["shop/views.py"]] == ["11"]
