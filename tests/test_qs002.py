"""QS002 count-for-len: exact rewrites, and a no-op test for every false-positive shape."""

import pytest

from tests.helpers import check_noop, check_project, check_transformed, rewrite

QS002 = {"select": frozenset({"QS002"})}


def test_len_of_filter_chain():
    check_transformed(
        """\
        from shop.models import Order
        n = len(Order.objects.filter(status="a").exclude(pk=1).order_by("-created"))
        """,
        """\
        from shop.models import Order
        n = Order.objects.filter(status="a").exclude(pk=1).order_by("-created").count()
        """,
        **QS002,
    )


def test_len_in_arithmetic_and_comparison_with_other_numbers():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.all()) * 2, len(Order.objects.all()) > 5
        """,
        """\
        from shop.models import Order
        def f():
            return Order.objects.all().count() * 2, Order.objects.all().count() > 5
        """,
        **QS002,
    )


def test_values_list_is_still_a_queryset():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.values_list("id", flat=True))
        """,
        """\
        from shop.models import Order
        def f():
            return Order.objects.values_list("id", flat=True).count()
        """,
        **QS002,
    )


def test_custom_queryset_method_returning_self_filter():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.active())
        """,
        """\
        from shop.models import Order
        def f():
            return Order.objects.active().count()
        """,
        **QS002,
    )


def test_related_manager_of_a_fetched_instance():
    check_transformed(
        """\
        from shop.models import Customer
        def f(pk):
            customer = Customer.objects.get(pk=pk)
            return len(customer.orders.all())
        """,
        """\
        from shop.models import Customer
        def f(pk):
            customer = Customer.objects.get(pk=pk)
            return customer.orders.all().count()
        """,
        **QS002,
    )


def test_related_manager_in_a_loop_over_a_queryset():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return [len(o.items.filter(quantity__gt=1)) for o in Order.objects.all()]
        """,
        """\
        from shop.models import Order
        def f():
            return [o.items.filter(quantity__gt=1).count() for o in Order.objects.all()]
        """,
        **QS002,
    )


def test_model_imported_from_another_module_and_through_a_reexport():
    files = {"shop/__init__.py": "from .models import Order\n"}
    check_transformed(
        """\
        from shop import Order
        from shop.models import Customer as C
        def f():
            return len(Order.objects.all()) + len(C.objects.all())
        """,
        """\
        from shop import Order
        from shop.models import Customer as C
        def f():
            return Order.objects.all().count() + C.objects.all().count()
        """,
        path="reports/views.py",
        files=files,
        **QS002,
    )


def test_module_import_attribute_access():
    check_transformed(
        """\
        from shop import models
        def f():
            return len(models.Order.objects.filter(status="x"))
        """,
        """\
        from shop import models
        def f():
            return models.Order.objects.filter(status="x").count()
        """,
        path="reports/stats.py",
        **QS002,
    )


def test_local_queryset_counted_only_once():
    check_transformed(
        """\
        from shop.models import Order
        def f(status):
            orders = Order.objects.filter(status=status)
            if status:
                orders = orders.exclude(pk=1)
            return len(orders)
        """,
        """\
        from shop.models import Order
        def f(status):
            orders = Order.objects.filter(status=status)
            if status:
                orders = orders.exclude(pk=1)
            return orders.count()
        """,
        **QS002,
    )


def test_emptiness_forms_become_exists():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            a = len(Order.objects.all()) == 0
            b = 0 < len(Order.objects.all())
            c = (len(Order.objects.all()) >= 1)
            if len(Order.objects.all()):
                pass
            return not len(Order.objects.all())
        """,
        """\
        from shop.models import Order
        def f():
            a = not Order.objects.all().exists()
            b = Order.objects.all().exists()
            c = (Order.objects.all().exists())
            if Order.objects.all().exists():
                pass
            return not Order.objects.all().exists()
        """,
        **QS002,
    )


def test_multiline_argument_gets_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        n = len(Order.objects
                .filter(status="a"))
        """,
        """\
        from shop.models import Order
        n = (Order.objects
                .filter(status="a")).count()
        """,
        **QS002,
    )


def test_function_returning_a_queryset():
    check_transformed(
        """\
        from shop.models import Order
        def open_orders():
            return Order.objects.filter(status="open")
        def f():
            return len(open_orders())
        """,
        """\
        from shop.models import Order
        def open_orders():
            return Order.objects.filter(status="open")
        def f():
            return open_orders().count()
        """,
        **QS002,
    )


# -- unsafe: applied only with --unsafe -------------------------------------------------------
ROWS_USED = """\
from shop.models import Order
def f():
    orders = Order.objects.all()
    n = len(orders)
    for o in orders:
        print(o)
    return n
"""


def test_len_then_iteration_is_unsafe():
    outcome = check_noop(ROWS_USED, **QS002)
    [finding] = outcome.findings
    assert finding.fix.applicability == "unsafe"
    assert "iterated on line 5" in finding.message
    assert finding.skip_reason == "unsafe fix: applied only with --unsafe"
    forced = rewrite(ROWS_USED, unsafe=True, **QS002)
    assert "n = orders.count()" in forced.output


def test_len_then_indexing_is_unsafe():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            if len(orders) > 1:
                return orders[0]
        """,
        **QS002,
    )
    [finding] = outcome.findings
    assert "indexed on line 5" in finding.message


def test_len_then_count_reads_the_cache_so_it_is_a_use():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            return len(orders), orders.count()
        """,
        **QS002,
    )
    assert "`.count()` on line 4" in outcome.findings[0].message


def test_annotated_parameter_is_only_likely():
    outcome = check_noop(
        """\
        from django.db.models import QuerySet
        def f(qs: QuerySet):
            return len(qs)
        """,
        **QS002,
    )
    assert outcome.findings[0].fix.applicability == "unsafe"
    assert "annotated" in outcome.findings[0].message


def test_view_get_queryset_is_only_likely():
    outcome = check_noop(
        """\
        from django.views.generic import ListView
        class V(ListView):
            def get_context_data(self, **kwargs):
                return {"n": len(self.get_queryset())}
        """,
        **QS002,
    )
    assert outcome.findings[0].fix.applicability == "unsafe"


# -- no-op shapes -----------------------------------------------------------------------------
def test_noop_list():
    outcome = check_noop("def f():\n    items = [1, 2]\n    return len(items)\n", **QS002)
    assert outcome.findings == []


def test_noop_manager_is_reported_as_skipped():
    outcome = check_noop("from shop.models import Order\nn = len(Order.objects)\n", **QS002)
    assert "Manager" in outcome.findings[0].skip_reason


def test_noop_raw_queryset():
    outcome = check_noop(
        'from shop.models import Order\nn = len(Order.objects.raw("SELECT 1"))\n', **QS002
    )
    assert "RawQuerySet" in outcome.findings[0].skip_reason


def test_noop_unannotated_parameter():
    outcome = check_noop("def f(queryset):\n    return len(queryset)\n", **QS002)
    assert outcome.findings == []


def test_noop_shadowed_model_name():
    check_noop(
        """\
        from shop.models import Order
        def f(Order):
            return len(Order.objects.filter())
        def g():
            Order = FakeModel
            return len(Order.objects.filter())
        """,
        **QS002,
    )


def test_noop_model_not_defined_in_scanned_code():
    check_noop(
        "from elsewhere.models import Thing\nn = len(Thing.objects.filter())\n", **QS002
    )


def test_noop_reassigned_to_a_list_on_one_branch():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f(flag):
            orders = Order.objects.all()
            if flag:
                orders = list(orders)
            return len(orders)
        """,
        **QS002,
    )
    assert "on one path" in outcome.findings[0].skip_reason


def test_noop_suppressed_line():
    for comment in ("# qsfix: ignore", "# qsfix: ignore[QS002]", "# noqa: QS002"):
        outcome = check_noop(
            f"from shop.models import Order\nn = len(Order.objects.all())  {comment}\n", **QS002
        )
        assert outcome.findings[0].skip_reason.startswith("suppressed")


def test_other_code_in_suppression_does_not_silence():
    outcome = rewrite(
        "from shop.models import Order\nn = len(Order.objects.all())  # qsfix: ignore[QS001]\n",
        **QS002,
    )
    assert "Order.objects.all().count()" in outcome.output


def test_noop_comment_says_len_is_deliberate():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            # len() on purpose: the rows are used by the template
            return len(Order.objects.all())
        """,
        **QS002,
    )
    assert "deliberate" in outcome.findings[0].skip_reason


def test_noop_comment_inside_the_call_would_be_lost():
    check_noop(
        """\
        from shop.models import Order
        n = len(  # how many
            Order.objects.all()
        )
        """,
        **QS002,
    )


def test_noop_len_shadowed():
    check_noop(
        "from shop.models import Order\nlen = custom_len\nn = len(Order.objects.all())\n", **QS002
    )


def test_noop_module_level_queryset_name():
    outcome = check_noop(
        """\
        from shop.models import Order
        OPEN = Order.objects.filter(status="open")
        def f():
            return len(OPEN)
        """,
        **QS002,
    )
    assert "module-level" in outcome.findings[0].skip_reason


def test_noop_project_queryset_overrides_count():
    check_noop(
        """\
        from django.db import models
        class CachedQuerySet(models.QuerySet):
            def count(self):
                return 42
        class Thing(models.Model):
            objects = CachedQuerySet.as_manager()
        def f():
            return len(Thing.objects.filter())
        """,
        **QS002,
    )


def test_noop_abstract_model_has_no_manager():
    check_noop(
        """\
        from django.db import models
        class Base(models.Model):
            class Meta:
                abstract = True
        n = len(Base.objects.all())
        """,
        **QS002,
    )


def test_custom_manager_names_replace_objects():
    outcome = check_transformed(
        """\
        from django.db import models
        class PersonManager(models.Manager):
            pass
        class Person(models.Model):
            people = PersonManager()
        a = len(Person.people.all())
        b = len(Person.objects.all())
        """,
        """\
        from django.db import models
        class PersonManager(models.Manager):
            pass
        class Person(models.Model):
            people = PersonManager()
        a = Person.people.all().count()
        b = len(Person.objects.all())
        """,
        **QS002,
    )
    assert len(outcome.findings) == 1


def test_managers_inherited_from_abstract_base_and_from_queryset():
    check_transformed(
        """\
        from django.db import models
        class QS(models.QuerySet):
            def live(self):
                return self.filter(live=True).order_by("pk")
        class Base(models.Model):
            live_objects = models.Manager.from_queryset(QS)()
            class Meta:
                abstract = True
        class Page(Base):
            pass
        n = len(Page.live_objects.live())
        """,
        """\
        from django.db import models
        class QS(models.QuerySet):
            def live(self):
                return self.filter(live=True).order_by("pk")
        class Base(models.Model):
            live_objects = models.Manager.from_queryset(QS)()
            class Meta:
                abstract = True
        class Page(Base):
            pass
        n = Page.live_objects.live().count()
        """,
        **QS002,
    )


def test_distinct_count_is_unsafe():
    # Django's count() clears the ordering that SELECT DISTINCT includes: other rows, other count
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.order_by("items__quantity").distinct())
        """,
        **QS002,
    )
    assert "distinct" in outcome.findings[0].message
    assert outcome.findings[0].fix.applicability == "unsafe"


def test_distinct_emptiness_still_becomes_exists():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.values("status").distinct()) == 0
        """,
        """\
        from shop.models import Order
        def f():
            return not Order.objects.values("status").distinct().exists()
        """,
        **QS002,
    )


def test_annotate_with_order_by_count_is_unsafe():
    outcome = check_noop(
        """\
        from django.db.models import Count
        from shop.models import Order
        def f():
            return len(Order.objects.values("status").annotate(n=Count("id")).order_by("created"))
        """,
        **QS002,
    )
    assert "GROUP BY" in outcome.findings[0].message


def test_counted_in_a_loop_is_unsafe():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            return [len(orders) * n for n in range(3)]
        """,
        **QS002,
    )
    assert "comprehension" in outcome.findings[0].message


def test_bound_inside_the_loop_is_safe():
    check_transformed(
        """\
        from shop.models import Order
        def f(statuses):
            for status in statuses:
                orders = Order.objects.filter(status=status)
                print(len(orders))
        """,
        """\
        from shop.models import Order
        def f(statuses):
            for status in statuses:
                orders = Order.objects.filter(status=status)
                print(orders.count())
        """,
        **QS002,
    )


def test_manager_from_another_package_is_only_likely():
    source = """\
        from django.db import models
        from django_scopes import ScopedManager
        class Event(models.Model):
            objects = ScopedManager(organizer="organizer")
        def f():
            return len(Event.objects.filter(live=True))
        """
    outcome = check_noop(source, **QS002)
    assert outcome.findings[0].fix.applicability == "unsafe"
    assert "outside the project" in outcome.findings[0].message


def test_fields_are_not_mistaken_for_managers():
    check_transformed(
        """\
        from django.db import models
        class Tag(models.Model):
            name = models.CharField(max_length=10)
            slug = models.SlugField()
        n = len(Tag.objects.all())
        """,
        """\
        from django.db import models
        class Tag(models.Model):
            name = models.CharField(max_length=10)
            slug = models.SlugField()
        n = Tag.objects.all().count()
        """,
        **QS002,
    )


def test_form_feed_does_not_shift_line_numbers():
    # str.splitlines() breaks at \x0c; Python's tokenizer (and ast) do not
    outcome = check_transformed(
        "from shop.models import Order\n\x0c\ndef f():\n    x = 1  # \x0c page\n    return len(Order.objects.all())\n",
        "from shop.models import Order\n\x0c\ndef f():\n    x = 1  # \x0c page\n    return Order.objects.all().count()\n",
        **QS002,
    )
    assert outcome.findings[0].line == 5


# -- issue 12: which comments say the evaluation is deliberate, and one-line messages ----------
@pytest.mark.parametrize(
    "comment",
    [
        "# TODO: evaluate moving this to a celery task",
        "# fills the result cache for the template",
        "# TODO: deliberately slow for now, use .count()",
        "# not deliberate: nobody checked",
        "# unintentional",
    ],
)
def test_comment_that_does_not_say_deliberate_does_not_silence(comment):
    check_transformed(
        f"""\
        from shop.models import Order
        def f():
            {comment}
            return len(Order.objects.all())
        """,
        f"""\
        from shop.models import Order
        def f():
            {comment}
            return Order.objects.all().count()
        """,
        **QS002,
    )


@pytest.mark.parametrize(
    "comment",
    [
        "# len() is deliberate: the rows are rendered below",
        "# Deliberately len(): warms the cache",
        "# intentional: see #123",
        "# evaluated on purpose",
    ],
)
def test_comment_with_an_explicit_word_says_deliberate(comment):
    outcome = check_noop(
        f"""\
        from shop.models import Order
        def f():
            return len(Order.objects.all())  {comment}
        """,
        **QS002,
    )
    assert [f.skip_reason for f in outcome.findings] == [
        f"a comment says the evaluation is deliberate: {comment}"
    ]
    assert outcome.findings[0].message == "`len(Order.objects.all())`"


def test_message_quotes_a_multi_line_call_on_one_line():
    # the rewrite of this shape is tested with the code generation; here: its wording
    outcome = rewrite(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.filter(
                status="open",
            ))
        """,
        **QS002,
    )
    [finding] = outcome.findings
    assert finding.message == "`len(Order.objects.filter(...))` fetches every row to count them; use `.count()`"
    assert finding.fix.title == "Replace with `Order.objects.filter(...).count()`"


def test_reason_of_a_mixed_type_has_articles():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f(flag, rows):
            orders = rows
            if flag:
                orders = Order.objects.all()
            return len(orders)
        """,
        **QS002,
    )
    assert [f.skip_reason for f in outcome.findings] == [
        "a QuerySet on one path and a value of unknown type on another"
    ]
    assert outcome.findings[0].message == "`len(orders)`"


def test_unsafe_reason_counts_the_other_uses():
    outcome = rewrite(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            n = len(orders)
            return n, orders[0], orders[1]
        """,
        unsafe=True,
        **QS002,
    )
    assert [f.message for f in outcome.findings] == [
        "`len(orders)` fetches every row to count them; use `.count()` (unsafe: its rows are used "
        "elsewhere (indexed on line 5, and 1 more use), so `.count()` would add a query)"
    ]


# -- generated code a reviewer accepts as is (issue 12, item 9) ------------------------------
def test_len_argument_spanning_lines_gets_no_added_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            n = len(Order.objects.filter(
                status="a",
            ))
            if len(Order.objects.filter(
                status="b",
            )) == 0:
                pass
            return n
        """,
        """\
        from shop.models import Order
        def f():
            n = Order.objects.filter(
                status="a",
            ).count()
            if not Order.objects.filter(
                status="b",
            ).exists():
                pass
            return n
        """,
        **QS002,
    )


def test_len_argument_on_lines_of_its_own_keeps_the_layout():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return len(
                Order.objects.filter(status="a"),
            )
        """,
        """\
        from shop.models import Order
        def f():
            return (
                Order.objects.filter(status="a")
            ).count()
        """,
        **QS002,
    )


def test_len_argument_breaking_lines_outside_brackets_is_parenthesised():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects
                       .filter(status="a")) > 0
        """,
        """\
        from shop.models import Order
        def f():
            return (Order.objects
                       .filter(status="a")).exists()
        """,
        **QS002,
    )


def test_get_user_model_objects_is_a_queryset_whatever_the_model():
    # issue 14: no manager of the project overrides count(), so any user model's `objects` counts
    check_transformed(
        """\
        from django.contrib.auth import get_user_model
        def f():
            return len(get_user_model().objects.filter(is_active=True))
        """,
        """\
        from django.contrib.auth import get_user_model
        def f():
            return get_user_model().objects.filter(is_active=True).count()
        """,
        **QS002,
    )


def test_get_user_model_is_only_likely_when_a_project_manager_overrides_count():
    outcome = check_noop(
        """\
        from django.contrib.auth import get_user_model
        from django.db import models


        class CountingManager(models.Manager):
            def count(self):
                return 0


        def f():
            return len(get_user_model().objects.filter(is_active=True))
        """,
        **QS002,
    )
    assert outcome.findings[0].fix.applicability == "unsafe"
    forced = rewrite(outcome.source, unsafe=True, **QS002)
    assert "get_user_model().objects.filter(is_active=True).count()" in forced.output


def test_noop_stepped_slice_is_a_list():
    # `qs[::2]` fetches the rows and slices the list: `.count()` would raise AttributeError
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.all()[::2])
        """,
        **QS002,
    )
    assert outcome.findings == []


def test_plain_slice_still_counts():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.all()[:10])
        """,
        """\
        from shop.models import Order
        def f():
            return Order.objects.all()[:10].count()
        """,
        **QS002,
    )


def test_noop_order_by_a_to_many_relation_is_never_safe():
    outcome = check_noop(
        """\
        from shop.models import Customer
        def f():
            return len(Customer.objects.order_by("orders__created"))
        """,
        **QS002,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    assert "to-many relation" in outcome.findings[0].message


def test_order_by_a_to_one_relation_counts():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.order_by("customer__name"))
        """,
        """\
        from shop.models import Order
        def f():
            return Order.objects.order_by("customer__name").count()
        """,
        **QS002,
    )


def test_noop_meta_ordering_through_a_to_many_relation_is_never_safe():
    outcome = check_noop(
        """\
        from django.db import models
        from shop.models import Order


        class Tag(models.Model):
            orders = models.ManyToManyField(Order)

            class Meta:
                ordering = ["orders__created"]


        def f():
            return len(Tag.objects.filter(pk__gt=1))
        """,
        **QS002,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    assert "to-many relation" in outcome.findings[0].message


def test_distinct_without_any_ordering_counts():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return len(Order.objects.values("customer").distinct())
        """,
        """\
        from shop.models import Order
        def f():
            return Order.objects.values("customer").distinct().count()
        """,
        **QS002,
    )


def test_noop_distinct_under_an_inherited_meta_ordering():
    outcome = check_noop(
        """\
        from django.db import models


        class Base(models.Model):
            name = models.CharField(max_length=10)

            class Meta:
                abstract = True
                ordering = ["name"]


        class Thing(Base):
            kind = models.CharField(max_length=10)


        def f():
            return len(Thing.objects.values("kind").distinct())
        """,
        **QS002,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    assert "distinct" in outcome.findings[0].message


def test_noop_distinct_reached_through_rebinding():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.order_by("created")
            orders = orders.distinct()
            return len(orders)
        """,
        **QS002,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    assert "distinct" in outcome.findings[0].message


def test_self_reverse_relation_counted_in_a_model_method():
    check_project(
        {
            "reviews/__init__.py": "",
            "reviews/models.py": """\
            from django.db import models


            class Review(models.Model):
                text = models.TextField()


            class Vote(models.Model):
                review = models.ForeignKey(Review, related_name="votes", on_delete=models.CASCADE)
                user = models.IntegerField()

                def clean(self):
                    previous_votes = self.review.votes.filter(user=self.user)
                    if len(previous_votes) > 0:
                        raise ValueError("once")
                    return len(self.review.votes.all())
            """,
        },
        {
            "reviews/models.py": """\
            from django.db import models


            class Review(models.Model):
                text = models.TextField()


            class Vote(models.Model):
                review = models.ForeignKey(Review, related_name="votes", on_delete=models.CASCADE)
                user = models.IntegerField()

                def clean(self):
                    previous_votes = self.review.votes.filter(user=self.user)
                    if previous_votes.exists():
                        raise ValueError("once")
                    return self.review.votes.all().count()
            """,
        },
        **QS002,
    )


def test_modelform_instance_relations_are_fresh():
    check_transformed(
        """\
        from django import forms
        from shop.models import Customer


        class CustomerForm(forms.ModelForm):
            class Meta:
                model = Customer
                fields = ["name"]

            def order_total(self):
                return [len(o.items.all()) for o in self.instance.orders.all()]
        """,
        """\
        from django import forms
        from shop.models import Customer


        class CustomerForm(forms.ModelForm):
            class Meta:
                model = Customer
                fields = ["name"]

            def order_total(self):
                return [o.items.all().count() for o in self.instance.orders.all()]
        """,
        **QS002,
    )


def test_chain_that_only_a_queryset_makes_is_likely():
    # `Tickets` comes from a caller the tool cannot see; `exclude(status=...)` could be
    # anything, `filter(created__gte=...)` only a Django QuerySet or manager: unsafe, not skipped
    outcome = check_noop(
        """\
        def stats(tickets, day):
            recent = tickets.exclude(status=4).filter(created__gte=day)
            return len(recent), len(tickets.values_list("pk")[:10]), len(day.filter(status=1))
        """,
        **QS002,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe", "unsafe"]
    assert "looks like a QuerySet" in outcome.findings[0].message
    forced = rewrite(outcome.source, unsafe=True, **QS002)
    assert "return recent.count(), tickets.values_list(\"pk\")[:10].count(), len(day.filter(status=1))" in forced.output


def test_noop_numpy_like_all_is_not_a_queryset():
    outcome = check_noop(
        """\
        def f(mask, frame):
            return len(mask.all()), len(frame.filter(items=["a"]))
        """,
        **QS002,
    )
    assert outcome.findings == []


def test_function_in_another_module_ordering_through_a_relation_stays_unsafe():
    files = {
        "shop/queries.py": """\
        from shop.models import Customer


        def by_order_date():
            return Customer.objects.order_by("orders__created")


        def by_name():
            return Customer.objects.order_by("name")
        """,
    }
    outcome = check_transformed(
        """\
        from shop.queries import by_name, by_order_date


        def f():
            return len(by_order_date()), len(by_name())
        """,
        """\
        from shop.queries import by_name, by_order_date


        def f():
            return len(by_order_date()), by_name().count()
        """,
        files=files,
        **QS002,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe", "safe"]
    assert "to-many relation" in outcome.findings[0].message


# -- `cls` in a model's classmethod ----------------------------------------------------------------
CLASSMETHOD_COUNT = """\
from django.db import models


class Ticket(models.Model):
    status = models.CharField(max_length=20)

    @classmethod
    def open_count(cls):
        return len(cls.objects.filter(status="open"))
"""


def test_cls_objects_counted_in_a_model_classmethod():
    check_project(
        {"desk/models.py": CLASSMETHOD_COUNT},
        {"desk/models.py": CLASSMETHOD_COUNT.replace('len(cls.objects.filter(status="open"))',
                                                     'cls.objects.filter(status="open").count()')},
        **QS002,
    )


def test_cls_of_a_model_with_subclasses_is_at_best_unsafe():
    from tests.helpers import rewrite_project

    subclassed = CLASSMETHOD_COUNT + """

class UrgentTicket(Ticket):
    class Meta:
        ordering = ["status"]
"""
    output, result = rewrite_project({"desk/models.py": subclassed}, **QS002)
    assert output["desk/models.py"] == subclassed  # `cls` may be UrgentTicket
    findings = [f for r in result.files for f in r.findings]
    assert [(f.line, f.fix.applicability, f.skip_reason) for f in findings] == [
        (9, "unsafe", "unsafe fix: applied only with --unsafe")
    ]


# -- QuerySet-annotated parameters: safe when every caller passes a fresh QuerySet ------------------
ANNOTATED_PARAMETER = """\
from django.db.models import QuerySet

from shop.models import Order


def how_many(orders: QuerySet) -> int:
    return len(orders)


def paid():
    return how_many(Order.objects.filter(status="paid"))
"""
ANNOTATED_PARAMETER_FIXED = ANNOTATED_PARAMETER.replace("return len(orders)", "return orders.count()")
OTHER_CALLER = """\
from shop.models import Order
from shop.reports import how_many


def all_orders():
    return how_many(orders=Order.objects.all())
"""


def test_queryset_parameter_every_caller_passes_fresh_is_safe():
    check_project(
        {"shop/reports.py": ANNOTATED_PARAMETER, "shop/views.py": OTHER_CALLER},
        {"shop/reports.py": ANNOTATED_PARAMETER_FIXED},
        **QS002,
    )


@pytest.mark.parametrize(
    "caller",
    [
        # the caller reads the rows after the call
        "def reused():\n    orders = Order.objects.all()\n    n = how_many(orders)\n    return n, list(orders)\n",
        # a name: the caller may hold it
        "ORDERS = Order.objects.all()\n\n\ndef shared():\n    return how_many(ORDERS)\n",
        # handed over: its callers are not seen
        "def handed():\n    return list(map(how_many, [Order.objects.all()]))\n",
        # a list, not a QuerySet
        "def listed():\n    return how_many(list(Order.objects.all()))\n",
        # the rows are counted through a distinct(): count() may differ
        "def distinct():\n    return how_many(Order.objects.values('status').distinct().order_by('-created'))\n",
    ],
)
def test_queryset_parameter_stays_unsafe_unless_every_caller_passes_fresh(caller):
    from tests.helpers import rewrite_project

    views = OTHER_CALLER + "\n\n" + caller
    output, result = rewrite_project({"shop/reports.py": ANNOTATED_PARAMETER, "shop/views.py": views}, **QS002)
    assert output["shop/reports.py"] == ANNOTATED_PARAMETER
    findings = [f for r in result.files if r.path == "shop/reports.py" for f in r.findings]
    assert [(f.line, f.fix.applicability) for f in findings] == [(7, "unsafe")]


def test_queryset_parameter_of_a_function_nobody_calls_stays_unsafe():
    from tests.helpers import rewrite_project

    lone = ANNOTATED_PARAMETER[: ANNOTATED_PARAMETER.index("\n\ndef paid")] + "\n"
    output, result = rewrite_project({"shop/reports.py": lone}, **QS002)
    assert output["shop/reports.py"] == lone
    assert [(f.line, f.fix.applicability) for r in result.files for f in r.findings] == [(7, "unsafe")]


# -- `self` of a QuerySet method: every concrete model that inherits its manager counts ----------
PROXY_ORDERED_THROUGH_VOTES = """\
from django.db import models


class ReviewQuerySet(models.QuerySet):
    def with_text(self):
        return len(self.exclude(text=""))


class Review(models.Model):
    text = models.TextField()
    objects = ReviewQuerySet.as_manager()


class RankedReview(Review):
    class Meta:
        proxy = True
        ordering = ["votes__user"]


class Vote(models.Model):
    review = models.ForeignKey(Review, related_name="votes", on_delete=models.CASCADE)
    user = models.IntegerField()
"""


def test_noop_self_of_a_queryset_a_proxy_model_inherits_is_only_likely():
    # RankedReview.objects.with_text(): len() counts (review, vote) rows, count() reviews
    from tests.helpers import rewrite_project

    output, result = rewrite_project({"desk/models.py": PROXY_ORDERED_THROUGH_VOTES}, **QS002)
    assert output["desk/models.py"] == PROXY_ORDERED_THROUGH_VOTES
    findings = [f for r in result.files for f in r.findings]
    assert [(f.line, f.fix.applicability) for f in findings] == [(6, "unsafe")]
    assert "whose model is not known here" in findings[0].message


def test_self_of_a_queryset_whose_manager_one_model_inherits_from_an_abstract_base():
    abstract_base = PROXY_ORDERED_THROUGH_VOTES.replace(
        "class Review(models.Model):\n    text = models.TextField()\n    objects = ReviewQuerySet.as_manager()\n",
        "class Base(models.Model):\n    objects = ReviewQuerySet.as_manager()\n\n    class Meta:\n"
        "        abstract = True\n\n\nclass Review(Base):\n    text = models.TextField()\n",
    ).replace("class RankedReview(Review):\n    class Meta:\n        proxy = True\n"
              '        ordering = ["votes__user"]\n\n\n', "")
    assert "RankedReview" not in abstract_base and "class Review(Base)" in abstract_base
    check_project(
        {"desk/models.py": abstract_base},
        {"desk/models.py": abstract_base.replace('len(self.exclude(text=""))', 'self.exclude(text="").count()')},
        **QS002,
    )


# -- get_user_model(): the project's user model may be ordered through a to-many relation ---------
ORDERED_USER_MODEL = """\
from django.contrib.auth.models import AbstractUser
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=10)


class User(AbstractUser):
    teams = models.ManyToManyField(Team, related_name="members")

    class Meta:
        ordering = ["teams__name"]
"""
USER_MODEL_COUNT = """\
from django.contrib.auth import get_user_model


def f():
    return len(get_user_model().objects.filter(is_active=True))
"""


def test_noop_get_user_model_when_a_project_user_model_orders_through_a_to_many_relation():
    # if settings name this model, len() counts one row per (user, team), count() users
    from tests.helpers import rewrite_project

    output, result = rewrite_project({"accounts/models.py": ORDERED_USER_MODEL, "accounts/views.py": USER_MODEL_COUNT}, **QS002)
    assert output["accounts/views.py"] == USER_MODEL_COUNT
    findings = [f for r in result.files if r.path == "accounts/views.py" for f in r.findings]
    assert [(f.line, f.fix.applicability) for f in findings] == [(5, "unsafe")]
    assert "to-many relation" in findings[0].message


def test_get_user_model_counts_when_the_project_user_model_orders_by_its_own_column():
    check_project(
        {"accounts/models.py": ORDERED_USER_MODEL.replace('"teams__name"', '"username"'),
         "accounts/views.py": USER_MODEL_COUNT},
        {"accounts/views.py": USER_MODEL_COUNT.replace("len(get_user_model().objects.filter(is_active=True))",
                                                       "get_user_model().objects.filter(is_active=True).count()")},
        **QS002,
    )
