"""QS003 class-queryset-to-get-queryset: exact rewrites, the skip reasons, and QS004 + QS003."""

from tests.helpers import check_noop, check_project, check_transformed

QS003 = {"select": frozenset({"QS003"})}
HEAD = """\
from django.utils import timezone
from django.views.generic import DetailView, ListView
from shop.models import Order
"""


def test_list_view_keeps_ordering():
    check_transformed(
        HEAD + """
class Recent(ListView):
    queryset = Order.objects.filter(created__gte=timezone.now())
    ordering = ["-created"]
""",
        HEAD + """
class Recent(ListView):
    def get_queryset(self):
        queryset = Order.objects.filter(created__gte=timezone.now())
        ordering = self.get_ordering()
        if ordering:
            if isinstance(ordering, str):
                ordering = (ordering,)
            queryset = queryset.order_by(*ordering)
        return queryset

    ordering = ["-created"]
""",
        **QS003,
    )


def test_detail_view_multiline_value_is_reindented_and_quotes_kept():
    check_transformed(
        HEAD + """
class One(DetailView):
    queryset = Order.objects.filter(
        created__gte=timezone.now(),
        status='open',
    )
""",
        HEAD + """
class One(DetailView):
    def get_queryset(self):
        return Order.objects.filter(
            created__gte=timezone.now(),
            status='open',
        )
""",
        **QS003,
    )


def test_drf_viewset_keeps_a_plain_queryset_for_the_router():
    check_transformed(
        """\
from django.utils import timezone
from rest_framework import viewsets
from shop.models import Order


class Orders(viewsets.ModelViewSet):
    queryset = Order.objects.filter(created__gte=timezone.now())
    serializer_class = None
""",
        """\
from django.utils import timezone
from rest_framework import viewsets
from shop.models import Order


class Orders(viewsets.ModelViewSet):
    queryset = Order.objects.all()
    serializer_class = None

    def get_queryset(self):
        return Order.objects.filter(created__gte=timezone.now())
""",
        **QS003,
    )


def test_self_queryset_read_in_a_method():
    outcome = check_transformed(
        HEAD + """
class Stats(DetailView):
    queryset = Order.objects.select_related("customer")

    def get_context_data(self, **kwargs):
        return {"n": len(self.queryset), "first": self.queryset.first()}
""",
        HEAD + """
class Stats(DetailView):
    def get_queryset(self):
        return Order.objects.select_related("customer")

    def get_context_data(self, **kwargs):
        return {"n": len(self.get_queryset()), "first": self.get_queryset().first()}
""",
        **QS003,
    )
    assert "evaluates self.queryset directly" in outcome.findings[0].message


def test_project_base_returning_self_queryset_uncloned():
    outcome = check_transformed(
        """\
from django.views.generic import View
from shop.models import Order


class Base(View):
    def get_queryset(self):
        return self.queryset


class Orders(Base):
    queryset = Order.objects.filter(status="open")
""",
        """\
from django.views.generic import View
from shop.models import Order


class Base(View):
    def get_queryset(self):
        return self.queryset


class Orders(Base):
    def get_queryset(self):
        return Order.objects.filter(status="open")
""",
        **QS003,
    )
    assert "without cloning" in outcome.findings[0].message


def test_subclass_with_its_own_queryset_keeps_it():
    check_transformed(
        HEAD + """
class Recent(DetailView):
    queryset = Order.objects.filter(created__gte=timezone.now())


class Shipped(Recent):
    queryset = Order.objects.filter(status="shipped")
""",
        HEAD + """
class Recent(DetailView):
    def get_queryset(self):
        if self.queryset is not None:  # set by a subclass or as_view(queryset=...)
            return super().get_queryset()
        return Order.objects.filter(created__gte=timezone.now())


class Shipped(Recent):
    queryset = Order.objects.filter(status="shipped")
""",
        **QS003,
    )


def test_views_and_subclasses_across_modules():
    check_project(
        {
            "shop/base.py": "from django.views.generic import ListView\n\n\nclass ShopList(ListView):\n    paginate_by = 10\n",
            "shop/views.py": """\
                from django.utils import timezone
                from shop.base import ShopList
                from shop.models import Order


                class Recent(ShopList):
                    queryset = Order.objects.filter(created__gte=timezone.now())
                """,
        },
        {
            "shop/views.py": """\
                from django.utils import timezone
                from shop.base import ShopList
                from shop.models import Order


                class Recent(ShopList):
                    def get_queryset(self):
                        queryset = Order.objects.filter(created__gte=timezone.now())
                        ordering = self.get_ordering()
                        if ordering:
                            if isinstance(ordering, str):
                                ordering = (ordering,)
                            queryset = queryset.order_by(*ordering)
                        return queryset
                """,
        },
        **QS003,
    )


def test_all_views_moves_plain_querysets_too():
    source = HEAD + """
class One(DetailView):
    queryset = Order.objects.all()
"""
    outcome = check_noop(source, **QS003)
    assert outcome.findings[0].skip_reason.startswith("not stale")
    check_transformed(
        source,
        HEAD + """
class One(DetailView):
    def get_queryset(self):
        return Order.objects.all()
""",
        all_views=True,
        **QS003,
    )


def test_qs004_then_qs003():
    check_project(
        {
            "shop/querysets.py": """\
                from django.utils import timezone
                from shop.models import Order

                RECENT = Order.objects.filter(created__gte=timezone.now())
                """,
            "shop/views.py": """\
                from django.views.generic import DetailView
                from shop.querysets import RECENT


                class One(DetailView):
                    queryset = RECENT
                """,
        },
        {
            "shop/querysets.py": """\
                from django.utils import timezone
                from shop.models import Order


                def recent():
                    return Order.objects.filter(created__gte=timezone.now())
                """,
            "shop/views.py": """\
                from django.views.generic import DetailView
                from shop.querysets import recent


                class One(DetailView):
                    def get_queryset(self):
                        return recent()
                """,
        },
        select=frozenset({"QS003", "QS004"}),
    )


# -- no-op shapes -----------------------------------------------------------------------------
def _reason(source, **kwargs):
    outcome = check_noop(source, **{**QS003, **kwargs})
    [finding] = outcome.findings
    return finding.skip_reason


def test_noop_not_a_view():
    assert "not a Django or DRF view" in _reason(
        "from django.utils import timezone\nfrom shop.models import Order\n\n\nclass Report:\n    queryset = Order.objects.filter(created__gte=timezone.now())\n"
    )


def test_noop_admin_with_get_queryset_request():
    from codemods import registry

    example = next(e for e in registry.get_pass("QS003").examples if e.name.startswith("admin"))
    assert "not a Django or DRF view" in _reason(example.before_code)


def test_noop_form_field_queryset():
    outcome = check_noop(
        "from django import forms\nfrom shop.models import Customer\n\n\nclass F(forms.Form):\n    c = forms.ModelChoiceField(queryset=Customer.objects.all())\n",
        **QS003,
    )
    assert outcome.findings == []


def test_noop_class_defines_get_queryset_calling_super():
    assert "defines get_queryset() already" in _reason(
        HEAD + """
class Recent(ListView):
    queryset = Order.objects.filter(created__gte=timezone.now())

    def get_queryset(self):
        return super().get_queryset().filter(status="x")
"""
    )


def test_noop_project_base_with_another_signature():
    assert "get_queryset(self, request)" in _reason(
        """\
from django.utils import timezone
from django.views.generic import View
from shop.models import Order


class Base(View):
    def get_queryset(self, request):
        return self.queryset.filter(owner=request.user)


class Orders(Base):
    queryset = Order.objects.filter(created__gte=timezone.now())
"""
    )


def test_noop_self_queryset_assigned_in_init():
    assert "assigned in __init__" in _reason(
        HEAD + """
class Recent(DetailView):
    queryset = Order.objects.filter(created__gte=timezone.now())

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.queryset = self.queryset.filter(status="x")
"""
    )


def test_noop_queryset_none_and_manager():
    outcome = check_noop(
        HEAD + "\n\nclass A(ListView):\n    queryset = None\n\n\nclass B(ListView):\n    queryset = Order.objects\n",
        **QS003,
    )
    assert outcome.findings == []


def test_noop_drf_subclass_with_its_own_queryset():
    outcome = check_noop(
        """\
from django.utils import timezone
from rest_framework import generics
from shop.models import Order


class Recent(generics.ListAPIView):
    queryset = Order.objects.filter(created__gte=timezone.now())


class Shipped(Recent):
    queryset = Order.objects.filter(status="shipped")
""",
        **QS003,
    )
    recent, shipped = outcome.findings
    assert "DRF view keeps the class attribute" in recent.skip_reason
    assert shipped.skip_reason.startswith("not stale")


def test_noop_module_level_source_without_qs004():
    assert "not made a factory" in _reason(
        """\
from django.utils import timezone
from django.views.generic import DetailView
from shop.models import Order

RECENT = Order.objects.filter(created__gte=timezone.now())


class One(DetailView):
    queryset = RECENT
"""
    )


def test_noop_class_attribute_read_through_the_class():
    assert "`Recent.queryset` is read" in _reason(
        HEAD + """
class Recent(DetailView):
    queryset = Order.objects.filter(created__gte=timezone.now())


def count():
    return Recent.queryset.count()
"""
    )


def test_noop_queryset_read_through_cls():
    assert "is read in" in _reason(
        HEAD + """
class Recent(DetailView):
    queryset = Order.objects.filter(created__gte=timezone.now())

    @classmethod
    def peek(cls):
        return cls.queryset.first()
"""
    )


def test_as_view_queryset_argument_gets_the_guard():
    check_project(
        {
            "shop/views.py": HEAD + """
class Recent(DetailView):
    queryset = Order.objects.filter(created__gte=timezone.now())
""",
            "shop/urls.py": """\
                from shop.models import Order
                from shop.views import Recent

                view = Recent.as_view(queryset=Order.objects.filter(status="active"))
                """,
        },
        {
            "shop/views.py": HEAD + """
class Recent(DetailView):
    def get_queryset(self):
        if self.queryset is not None:  # set by a subclass or as_view(queryset=...)
            return super().get_queryset()
        return Order.objects.filter(created__gte=timezone.now())
""",
        },
        **QS003,
    )


# -- generated code a reviewer accepts as is (issue 12, item 9) ------------------------------
def test_method_takes_the_attributes_place_and_other_attributes_stay():
    check_transformed(
        HEAD + '''
class Recent(DetailView):
    """Orders of the last day."""
    model = Order
    # computed once: goes stale
    queryset = Order.objects.filter(created__gte=timezone.now())  # frozen at import
    template_name = "recent.html"
    context_object_name = "orders"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs)
''',
        HEAD + '''
class Recent(DetailView):
    """Orders of the last day."""
    model = Order

    # computed once: goes stale
    def get_queryset(self):
        return Order.objects.filter(created__gte=timezone.now())  # frozen at import

    template_name = "recent.html"
    context_object_name = "orders"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs)
''',
        **QS003,
    )


def test_trailing_comment_of_a_multiline_queryset_kept_on_a_list_view():
    check_transformed(
        HEAD + """
class Recent(ListView):
    queryset = Order.objects.filter(
        created__gte=timezone.now(),
    )  # frozen at import

    ordering = ["-created"]
""",
        HEAD + """
class Recent(ListView):
    def get_queryset(self):
        queryset = Order.objects.filter(
            created__gte=timezone.now(),
        )  # frozen at import
        ordering = self.get_ordering()
        if ordering:
            if isinstance(ordering, str):
                ordering = (ordering,)
            queryset = queryset.order_by(*ordering)
        return queryset

    ordering = ["-created"]
""",
        **QS003,
    )


def test_drf_kept_line_stays_and_its_comment_moves_with_the_code():
    check_transformed(
        """\
from django.utils import timezone
from rest_framework import viewsets
from shop.models import Order


class Orders(viewsets.ModelViewSet):
    queryset = Order.objects.filter(created__gte=timezone.now())  # frozen at import
    serializer_class = None
""",
        """\
from django.utils import timezone
from rest_framework import viewsets
from shop.models import Order


class Orders(viewsets.ModelViewSet):
    queryset = Order.objects.all()
    serializer_class = None

    def get_queryset(self):
        return Order.objects.filter(created__gte=timezone.now())  # frozen at import
""",
        **QS003,
    )


def test_value_reading_a_class_body_name_is_skipped():
    outcome = check_noop(
        HEAD + """
from datetime import timedelta


class Recent(DetailView):
    days = 7
    queryset = Order.objects.filter(created__gte=timezone.now() - timedelta(days=days))
""",
        **QS003,
    )
    assert outcome.skipped() == [
        "it reads `days` from the class body, which get_queryset() could not see by that name"
    ]


def test_order_free_reads_of_an_ordered_view_are_safe():
    outcome = check_transformed(
        HEAD + """
class Stats(ListView):
    queryset = Order.objects.filter(status="open")
    ordering = ["-created"]

    def get_context_data(self, **kwargs):
        return {"n": len(self.queryset), "ids": {o.pk for o in self.queryset}}
""",
        HEAD + """
class Stats(ListView):
    def get_queryset(self):
        queryset = Order.objects.filter(status="open")
        ordering = self.get_ordering()
        if ordering:
            if isinstance(ordering, str):
                ordering = (ordering,)
            queryset = queryset.order_by(*ordering)
        return queryset

    ordering = ["-created"]

    def get_context_data(self, **kwargs):
        return {"n": len(self.get_queryset()), "ids": {o.pk for o in self.get_queryset()}}
""",
        **QS003,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["safe"]


def test_noop_ordered_read_of_an_ordered_view_stays_unsafe():
    outcome = check_noop(
        HEAD + """
class Stats(ListView):
    queryset = Order.objects.filter(status="open")
    ordering = ["-created"]

    def get_context_data(self, **kwargs):
        return {"first": list(self.queryset)[:1]}
""",
        **QS003,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]


def test_noop_count_of_the_class_queryset_is_not_stale():
    outcome = check_noop(
        HEAD + """
class Stats(DetailView):
    queryset = Order.objects.filter(status="open")

    def get_context_data(self, **kwargs):
        return {"n": self.queryset.count(), "any": self.queryset.exists()}
""",
        **QS003,
    )
    assert "not stale" in outcome.findings[0].skip_reason
