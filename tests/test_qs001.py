"""QS001 exists-for-truthiness: exact rewrites, and a no-op test for every false-positive shape."""

from tests.helpers import check_noop, check_project, check_transformed, rewrite

QS001 = {"select": frozenset({"QS001"})}


def test_every_boolean_context():
    check_transformed(
        """\
        from shop.models import Order
        def f(flag):
            if Order.objects.filter(status="a"):
                pass
            elif Order.objects.filter(status="b"):
                pass
            while Order.objects.filter(status="c"):
                break
            assert Order.objects.filter(status="d")
            x = 1 if Order.objects.filter(status="e") else 2
            y = [o for o in range(3) if Order.objects.filter(pk=o)]
            z = bool(Order.objects.filter(status="f"))
            return not Order.objects.filter(status="g")
        """,
        """\
        from shop.models import Order
        def f(flag):
            if Order.objects.filter(status="a").exists():
                pass
            elif Order.objects.filter(status="b").exists():
                pass
            while Order.objects.filter(status="c").exists():
                break
            assert Order.objects.filter(status="d").exists()
            x = 1 if Order.objects.filter(status="e").exists() else 2
            y = [o for o in range(3) if Order.objects.filter(pk=o).exists()]
            z = Order.objects.filter(status="f").exists()
            return not Order.objects.filter(status="g").exists()
        """,
        **QS001,
    )


def test_and_or_operands_in_a_boolean_context():
    check_transformed(
        """\
        from shop.models import Order
        def f(flag):
            if flag and (Order.objects.filter(status="a") or not Order.objects.all()):
                return 1
        """,
        """\
        from shop.models import Order
        def f(flag):
            if flag and (Order.objects.filter(status="a").exists() or not Order.objects.all().exists()):
                return 1
        """,
        **QS001,
    )


def test_local_queryset_only_tested():
    check_transformed(
        """\
        from shop.models import Order
        def f(customer):
            pending = Order.objects.filter(customer=customer)
            if pending:
                notify(customer)
        """,
        """\
        from shop.models import Order
        def f(customer):
            pending = Order.objects.filter(customer=customer)
            if pending.exists():
                notify(customer)
        """,
        **QS001,
    )


def test_local_used_only_to_build_other_querysets():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            if orders:
                return orders.filter(status="a").order_by("pk")
        """,
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            if orders.exists():
                return orders.filter(status="a").order_by("pk")
        """,
        **QS001,
    )


def test_parenthesised_multiline_test_keeps_its_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        if (
            Order.objects.filter(status="a")
        ):
            pass
        """,
        """\
        from shop.models import Order
        if (
            Order.objects.filter(status="a")
        ).exists():
            pass
        """,
        **QS001,
    )


def test_queryset_union_gets_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        if Order.objects.filter(status="a") | Order.objects.filter(status="b"):
            pass
        """,
        """\
        from shop.models import Order
        if (Order.objects.filter(status="a") | Order.objects.filter(status="b")).exists():
            pass
        """,
        **QS001,
    )


# -- rows used elsewhere: unsafe ---------------------------------------------------------------
def test_iterated_after_if_is_unsafe():
    source = """\
    from shop.models import Order
    def f():
        orders = Order.objects.all()
        if orders:
            for o in orders:
                print(o)
    """
    outcome = check_noop(source, **QS001)
    assert "iterated on line 5" in outcome.findings[0].message
    forced = rewrite(source, unsafe=True, **QS001)
    assert "if orders.exists():" in forced.output


def test_passed_to_render_after_if_is_unsafe():
    outcome = check_noop(
        """\
        from django.shortcuts import render
        from shop.models import Order
        def view(request):
            orders = Order.objects.all()
            if not orders:
                return render(request, "empty.html")
            return render(request, "list.html", {"orders": orders})
        """,
        **QS001,
    )
    [finding] = outcome.findings
    assert finding.fix.applicability == "unsafe"
    assert "stored in a container on line 7" in finding.message


def test_use_inside_a_loop_before_the_test_counts():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            for _ in range(3):
                first = list(orders)
                if orders:
                    pass
        """,
        **QS001,
    )
    assert "passed to list() on line 5" in outcome.findings[0].message


def test_use_in_a_nested_function_counts():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            def later():
                return [o.pk for o in orders]
            if orders:
                return later
        """,
        **QS001,
    )
    assert outcome.findings[0].fix.applicability == "unsafe"


def test_two_truth_tests_read_one_cache():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            a = bool(orders)
            b = not orders
            return a, b
        """,
        **QS001,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe", "unsafe"]


# -- no-op shapes -----------------------------------------------------------------------------
def test_noop_value_of_or_is_used():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f(default):
            x = Order.objects.all() or default
            return default or Order.objects.all()
        """,
        **QS001,
    )
    assert outcome.findings == []


def test_noop_manager_is_always_true():
    outcome = check_noop(
        "from shop.models import Order\nif Order.objects:\n    pass\n", **QS001
    )
    assert "Manager" in outcome.findings[0].skip_reason


def test_noop_none_guard():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f(flag):
            qs = None
            if flag:
                qs = Order.objects.all()
            if qs and qs.exists():
                return qs
        """,
        **QS001,
    )
    assert "on one path" in outcome.findings[0].skip_reason


def test_noop_else_of_isinstance():
    outcome = check_noop(
        """\
        from django.db.models import QuerySet
        from shop.models import Order
        def f(flag):
            items = Order.objects.all()
            if isinstance(items, QuerySet):
                pass
            else:
                if items:
                    return 1
        """,
        **QS001,
    )
    assert "isinstance" in outcome.findings[0].skip_reason


def test_noop_variable_named_queryset_from_another_library():
    outcome = check_noop(
        """\
        from search import engine
        def f():
            queryset = engine.query("x")
            if queryset:
                return 1
        """,
        **QS001,
    )
    assert outcome.findings == []


def test_noop_parameter_callers_may_pass_a_list():
    check_noop("def f(orders=None):\n    if orders:\n        return 1\n", **QS001)


def test_noop_raw_queryset():
    outcome = check_noop(
        'from shop.models import Order\nif Order.objects.raw("SELECT 1"):\n    pass\n', **QS001
    )
    assert "RawQuerySet" in outcome.findings[0].skip_reason


def test_noop_instance_is_not_a_queryset():
    check_noop(
        """\
        from shop.models import Order
        def f():
            order = Order.objects.first()
            if order and Order.objects.get(pk=1):
                return order
        """,
        **QS001,
    )


def test_noop_suppressed():
    outcome = check_noop(
        "from shop.models import Order\nif Order.objects.all():  # qsfix: ignore\n    pass\n",
        **QS001,
    )
    assert outcome.findings[0].skip_reason.startswith("suppressed")


def test_noop_comment_inside_bool_call():
    check_noop(
        """\
        from shop.models import Order
        flag = bool(
            Order.objects.all()  # every order
        )
        """,
        **QS001,
    )


def test_both_passes_together():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            if Order.objects.filter(status="a"):
                return len(Order.objects.all())
        """,
        """\
        from shop.models import Order
        def f():
            if Order.objects.filter(status="a").exists():
                return Order.objects.all().count()
        """,
    )


def test_tested_in_a_loop_is_unsafe():
    for body in ("for _ in range(3):\n        if orders:\n            pass", "while orders:\n        break"):
        outcome = check_noop(
            "from shop.models import Order\ndef f():\n    orders = Order.objects.all()\n    " + body + "\n",
            **QS001,
        )
        assert outcome.findings[0].fix.applicability == "unsafe"
        assert "loop" in outcome.findings[0].message


def test_while_loop_rebinding_each_round_is_safe():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            while True:
                orders = Order.objects.filter(status="a")
                if not orders:
                    break
        """,
        """\
        from shop.models import Order
        def f():
            while True:
                orders = Order.objects.filter(status="a")
                if not orders.exists():
                    break
        """,
        **QS001,
    )


# -- issue 12: messages that do not contradict themselves; which comments silence -------------
def test_noop_exists_on_a_name_that_may_be_an_instance_is_not_reported():
    # `e` is a model instance on one path, a QuerySet on the other: `e.exists()` is a bool
    # whatever `e` is, so there is no truth test of a QuerySet to report (not even skipped)
    outcome = check_noop(
        """\
        from shop.models import Order
        def f(flag):
            if flag:
                e = Order.objects.get(pk=1)
            else:
                e = Order.objects.filter(pk=2)
            if not e.exists():
                return 1
            if e:
                return 2
        """,
        **QS001,
    )
    assert [(f.line, f.message, f.skip_reason) for f in outcome.findings] == [
        (9, "testing the truth of `e`", "a QuerySet on one path and a model instance on another"),
    ]


def test_todo_comment_about_evaluating_does_not_silence():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            # TODO: evaluate moving this to a celery task
            if Order.objects.filter(status="open"):
                return 1
        """,
        """\
        from shop.models import Order
        def f():
            # TODO: evaluate moving this to a celery task
            if Order.objects.filter(status="open").exists():
                return 1
        """,
        **QS001,
    )


def test_comment_saying_on_purpose_above_the_statement_silences():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            # truth test on purpose: the rows are cached for the loop in the template
            if Order.objects.filter(status="open"):
                return 1
        """,
        **QS001,
    )
    assert [f.skip_reason for f in outcome.findings] == [
        "a comment says the evaluation is deliberate: # truth test on purpose: the rows are cached "
        "for the loop in the template"
    ]
    assert outcome.findings[0].message == 'testing the truth of `Order.objects.filter(status="open")`'


# -- generated code a reviewer accepts as is (issue 12, item 9) ------------------------------
def test_call_spanning_lines_takes_exists_without_added_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            assert Order.objects.filter(
                status="a",
            )
            if Order.objects.filter(status="b")[
                :1
            ]:
                pass
        """,
        """\
        from shop.models import Order
        def f():
            assert Order.objects.filter(
                status="a",
            ).exists()
            if Order.objects.filter(status="b")[
                :1
            ].exists():
                pass
        """,
        **QS001,
    )


def test_bool_argument_on_lines_of_its_own_keeps_the_layout():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return bool(
                Order.objects.filter(
                    status="a",
                )
            )
        """,
        """\
        from shop.models import Order
        def f():
            return (
                Order.objects.filter(
                    status="a",
                )
            ).exists()
        """,
        **QS001,
    )


def test_bool_argument_breaking_lines_outside_brackets_is_parenthesised():
    # `Order.objects\n.filter()` parsed only inside bool(...)'s parentheses
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return bool(Order.objects
                        .filter(status="a"))
        """,
        """\
        from shop.models import Order
        def f():
            return (Order.objects
                        .filter(status="a")).exists()
        """,
        **QS001,
    )


def test_bool_argument_on_one_line_needs_no_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return bool(Order.objects.filter(status="a"))
        """,
        """\
        from shop.models import Order
        def f():
            return Order.objects.filter(status="a").exists()
        """,
        **QS001,
    )


def test_self_relation_in_a_model_method():
    check_project(
        {
            "shop/reviews.py": """\
            from django.db import models
            from shop.models import Customer


            class Review(models.Model):
                author = models.ForeignKey(Customer, on_delete=models.CASCADE)

                def author_has_orders(self):
                    if self.author.orders.filter(status="open"):
                        return True
                    return not self.vote_set.all()


            class Vote(models.Model):
                review = models.ForeignKey(Review, on_delete=models.CASCADE)
            """,
        },
        {
            "shop/reviews.py": """\
            from django.db import models
            from shop.models import Customer


            class Review(models.Model):
                author = models.ForeignKey(Customer, on_delete=models.CASCADE)

                def author_has_orders(self):
                    if self.author.orders.filter(status="open").exists():
                        return True
                    return not self.vote_set.all().exists()


            class Vote(models.Model):
                review = models.ForeignKey(Review, on_delete=models.CASCADE)
            """,
        },
        **QS001,
    )


def test_self_in_an_abstract_model_method():
    check_transformed(
        """\
        from django.db import models
        from shop.models import Customer


        class Owned(models.Model):
            owner = models.ForeignKey(Customer, on_delete=models.CASCADE)

            class Meta:
                abstract = True

            def owner_buys(self):
                return bool(self.owner.orders.all())
        """,
        """\
        from django.db import models
        from shop.models import Customer


        class Owned(models.Model):
            owner = models.ForeignKey(Customer, on_delete=models.CASCADE)

            class Meta:
                abstract = True

            def owner_buys(self):
                return self.owner.orders.all().exists()
        """,
        **QS001,
    )


def test_noop_self_of_a_queryset_method_is_at_best_unsafe():
    outcome = check_noop(
        """\
        from django.db import models


        class TicketQuerySet(models.QuerySet):
            def any_left(self):
                if self:
                    return True
                return False


        class Ticket(models.Model):
            objects = TicketQuerySet.as_manager()
        """,
        **QS001,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    assert "the caller may read its rows" in outcome.findings[0].message


def test_new_chain_from_self_of_a_queryset_method_is_safe():
    check_transformed(
        """\
        from django.db import models


        class TicketQuerySet(models.QuerySet):
            def has_open(self):
                return bool(self.filter(status="open"))


        class Ticket(models.Model):
            status = models.CharField(max_length=10)
            objects = TicketQuerySet.as_manager()
        """,
        """\
        from django.db import models


        class TicketQuerySet(models.QuerySet):
            def has_open(self):
                return self.filter(status="open").exists()


        class Ticket(models.Model):
            status = models.CharField(max_length=10)
            objects = TicketQuerySet.as_manager()
        """,
        **QS001,
    )


def test_parameter_annotated_with_a_model_is_an_instance():
    check_transformed(
        """\
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from shop.models import Customer


        def buys(customer: "Customer", other: Customer):
            return bool(customer.orders.all()) or bool(other.orders.filter(status="a"))
        """,
        """\
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from shop.models import Customer


        def buys(customer: "Customer", other: Customer):
            return customer.orders.all().exists() or other.orders.filter(status="a").exists()
        """,
        **QS001,
    )


def test_noop_unannotated_parameter_is_typed_by_its_names_only_unsafe():
    # the parameter itself stays unknown; `orders` (one model's related manager, nothing
    # else so named) and `customer` make it likely a QuerySet: an unsafe fix, not applied
    outcome = check_noop(
        """\
        def buys(customer):
            return bool(customer.orders.all())
        """,
        **QS001,
    )
    (finding,) = outcome.findings
    assert finding.fix.applicability == "unsafe" and not finding.fix.applied
    assert "typed by its relation name `orders` only" in finding.message


def test_manager_alias_from_queryset_in_another_module():
    check_project(
        {
            "tickets/__init__.py": "",
            "tickets/managers.py": """\
            from django.db import models


            class TicketQuerySet(models.QuerySet):
                def open(self):
                    return self.filter(status="open")


            TicketManager = models.Manager.from_queryset(TicketQuerySet)
            """,
            "tickets/models.py": """\
            from django.db import models
            from .managers import TicketManager


            class Ticket(models.Model):
                status = models.CharField(max_length=10)
                objects = TicketManager()
            """,
            "tickets/views.py": """\
            from tickets.models import Ticket


            def busy():
                return bool(Ticket.objects.open()) or bool(Ticket.objects.filter(pk=1).open())
            """,
        },
        {
            "tickets/views.py": """\
            from tickets.models import Ticket


            def busy():
                return Ticket.objects.open().exists() or Ticket.objects.filter(pk=1).open().exists()
            """,
        },
        **QS001,
    )


def test_star_reexport_in_models_package():
    check_project(
        {
            "ipam/__init__.py": "",
            "ipam/models/__init__.py": "from .ip import *\nfrom .vlans import *\n",
            "ipam/models/ip.py": """\
            from django.db import models

            __all__ = ["Aggregate"]


            class Aggregate(models.Model):
                prefix = models.CharField(max_length=40)
            """,
            "ipam/models/vlans.py": """\
            from django.db import models


            class VLAN(models.Model):
                vid = models.IntegerField()
            """,
            "ipam/views.py": """\
            from ipam.models import Aggregate, VLAN


            def any_rows():
                return bool(Aggregate.objects.all()) and bool(VLAN.objects.all())
            """,
        },
        {
            "ipam/views.py": """\
            from ipam.models import Aggregate, VLAN


            def any_rows():
                return Aggregate.objects.all().exists() and VLAN.objects.all().exists()
            """,
        },
        **QS001,
    )


def test_model_on_a_library_base_and_with_a_library_field():
    check_transformed(
        """\
        from django.db import models
        from django_countries.fields import CountryField
        from model_utils.models import TimeStampedModel
        from shop.models import Customer


        class Shop(TimeStampedModel):
            country = CountryField()


        class Branch(SomeLibraryBase):
            shop = models.ForeignKey(Shop, related_name="branches", on_delete=models.CASCADE)

            def has_siblings(self):
                return bool(self.shop.branches.exclude(pk=self.pk))


        def shops():
            return bool(Shop.objects.all())
        """,
        """\
        from django.db import models
        from django_countries.fields import CountryField
        from model_utils.models import TimeStampedModel
        from shop.models import Customer


        class Shop(TimeStampedModel):
            country = CountryField()


        class Branch(SomeLibraryBase):
            shop = models.ForeignKey(Shop, related_name="branches", on_delete=models.CASCADE)

            def has_siblings(self):
                return self.shop.branches.exclude(pk=self.pk).exists()


        def shops():
            return Shop.objects.all().exists()
        """,
        **QS001,
    )


def test_loop_over_a_listed_queryset_gives_instances():
    check_transformed(
        """\
        from shop.models import Order


        def any_items():
            for order in list(Order.objects.all()):
                if order.items.filter(quantity=0):
                    return True
        """,
        """\
        from shop.models import Order


        def any_items():
            for order in list(Order.objects.all()):
                if order.items.filter(quantity=0).exists():
                    return True
        """,
        **QS001,
    )


def test_models_looked_up_by_app_label():
    check_project(
        {
            "loading.py": """\
            from django.apps import apps


            def get_model(app_label, model_name):
                return apps.get_model(app_label, model_name)
            """,
            "shop/views.py": """\
            from django.apps import apps
            from loading import get_model

            Customer = get_model("shop", "customer")


            def f():
                Order = apps.get_model("shop", "Order")
                return bool(Order.objects.all()) or bool(apps.get_model("shop.OrderItem").objects.all())


            def g():
                return bool(Customer.objects.all())
            """,
        },
        {
            "shop/views.py": """\
            from django.apps import apps
            from loading import get_model

            Customer = get_model("shop", "customer")


            def f():
                Order = apps.get_model("shop", "Order")
                return Order.objects.all().exists() or apps.get_model("shop.OrderItem").objects.all().exists()


            def g():
                return Customer.objects.all().exists()
            """,
        },
        **QS001,
        unsafe=True,
    )


def test_noop_model_lookup_with_an_unknown_label():
    outcome = check_noop(
        """\
        from django.apps import apps


        def f():
            return bool(apps.get_model("billing", "Order").objects.all())
        """,
        **QS001,
    )
    assert outcome.findings == []


def test_later_update_delete_subquery_and_in_lookup_read_no_cached_row():
    check_transformed(
        """\
        from django.db.models import Exists, Subquery
        from shop.models import Customer, Order


        def close(customer):
            orders = Order.objects.filter(customer=customer)
            if orders:
                orders.update(status="closed")
                Customer.objects.filter(orders__in=orders)
                Exists(orders), Subquery(orders.values("pk"))
                orders.delete()
        """,
        """\
        from django.db.models import Exists, Subquery
        from shop.models import Customer, Order


        def close(customer):
            orders = Order.objects.filter(customer=customer)
            if orders.exists():
                orders.update(status="closed")
                Customer.objects.filter(orders__in=orders)
                Exists(orders), Subquery(orders.values("pk"))
                orders.delete()
        """,
        **QS001,
    )


def test_noop_rows_already_fetched_before_the_site():
    outcome = check_noop(
        """\
        from shop.models import Order


        def names():
            orders = Order.objects.all()
            found = [o.status for o in orders]
            if orders:
                return found
        """,
        **QS001,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    assert "rows already fetched (iterated on line 6)" in outcome.findings[0].message


def test_straight_line_rebinding_types_the_reaching_binding():
    check_transformed(
        """\
        from shop.models import Order


        def f(statuses):
            rows = [s for s in statuses]
            if rows:
                rows = Order.objects.filter(status__in=rows)
                if rows:
                    return True
        """,
        """\
        from shop.models import Order


        def f(statuses):
            rows = [s for s in statuses]
            if rows:
                rows = Order.objects.filter(status__in=rows)
                if rows.exists():
                    return True
        """,
        **QS001,
    )


def test_binding_in_another_branch_is_not_a_use():
    check_transformed(
        """\
        from shop.models import Order


        def f(flag):
            if flag:
                orders = Order.objects.filter(status="a")
                if orders:
                    return 1
            else:
                orders = Order.objects.filter(status="b")
                return [o.pk for o in orders]
        """,
        """\
        from shop.models import Order


        def f(flag):
            if flag:
                orders = Order.objects.filter(status="a")
                if orders.exists():
                    return 1
            else:
                orders = Order.objects.filter(status="b")
                return [o.pk for o in orders]
        """,
        **QS001,
    )


def test_noop_binding_later_in_the_loop_reaches_the_site():
    outcome = check_noop(
        """\
        from shop.models import Order


        def f():
            orders = Order.objects.filter(status="a")
            while True:
                if orders:
                    return 1
                orders = [1, 2]
        """,
        **QS001,
    )
    assert all(f.fix is None or f.fix.applicability == "unsafe" for f in outcome.findings)


def test_own_method_returning_a_default_manager_chain_is_likely():
    outcome = check_noop(
        """\
        from django.db import models


        class UniqueSlugField(models.SlugField):
            def get_queryset(self, model_cls):
                return model_cls._default_manager.all()

            def taken(self, model_cls, slug):
                return bool(self.get_queryset(model_cls).filter(slug=slug))
        """,
        **QS001,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    forced = rewrite(outcome.source, unsafe=True, **QS001)
    assert "return self.get_queryset(model_cls).filter(slug=slug).exists()" in forced.output


def test_noop_self_of_a_queryset_no_model_uses_is_only_likely():
    outcome = check_noop(
        """\
        from django.db import models


        class TicketQuerySet(models.QuerySet):
            def has_open(self):
                return bool(self.filter(status="open"))
        """,
        **QS001,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    assert "whose model is not known here" in outcome.findings[0].message


def test_rebound_each_round_in_a_loop_despite_a_binding_in_another_branch():
    check_transformed(
        """\
        from shop.models import Order


        def f(flag, customers):
            if flag:
                for customer in customers:
                    orders = Order.objects.filter(customer=customer)
                    if orders:
                        return 1
            else:
                orders = Order.objects.all()
                return [o.pk for o in orders]
        """,
        """\
        from shop.models import Order


        def f(flag, customers):
            if flag:
                for customer in customers:
                    orders = Order.objects.filter(customer=customer)
                    if orders.exists():
                        return 1
            else:
                orders = Order.objects.all()
                return [o.pk for o in orders]
        """,
        **QS001,
    )


# -- namespace packages (PEP 420): app folders without __init__.py ----------------------------------
NAMESPACE_VIEW = """\
from shop.models import Order


def f():
    if Order.objects.filter(status="x"):
        return 1
"""
NAMESPACE_VIEW_FIXED = NAMESPACE_VIEW.replace('status="x"):', 'status="x").exists():')


def _namespace_project(files: dict[str, str]) -> dict[str, str]:
    """Run over a project whose app folders hold no `__init__.py`; every file's text after."""
    import textwrap

    from tests.helpers import new_project_folder, run_in

    root = new_project_folder()
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    result = run_in(root, **QS001)
    return {r.path: r.new.decode() for r in result.files if r.changed}


def test_namespace_app_below_manage_py_is_indexed():
    from codemods.base import EXAMPLE_MODELS

    changed = _namespace_project(
        {"manage.py": "", "shop/models.py": EXAMPLE_MODELS, "shop/views.py": NAMESPACE_VIEW}
    )
    assert changed == {"shop/views.py": NAMESPACE_VIEW_FIXED}


def test_namespace_app_in_a_src_layout_is_named_without_src():
    from codemods.base import EXAMPLE_MODELS

    changed = _namespace_project(
        {"pyproject.toml": "", "src/shop/models.py": EXAMPLE_MODELS, "src/shop/views.py": NAMESPACE_VIEW}
    )
    assert changed == {"src/shop/views.py": NAMESPACE_VIEW_FIXED}


def test_namespace_folder_holding_manage_py_is_the_source_root():
    from codemods.base import EXAMPLE_MODELS

    # `backend/` holds manage.py: imports start there, so `backend.shop` would name nothing
    changed = _namespace_project(
        {".git/HEAD": "", "backend/manage.py": "", "backend/shop/models.py": EXAMPLE_MODELS,
         "backend/shop/views.py": NAMESPACE_VIEW}
    )
    assert changed == {"backend/shop/views.py": NAMESPACE_VIEW_FIXED}


def test_namespace_app_outside_any_project_stays_unknown():
    from codemods.base import EXAMPLE_MODELS

    # no project marker: no source root to name the folder from, so no guess
    assert _namespace_project({"shop/models.py": EXAMPLE_MODELS, "shop/views.py": NAMESPACE_VIEW}) == {}


def test_module_names_follow_namespace_folders_up_to_the_source_root(tmp_path):
    from codemods.modules import _namespace_of, _package_of, module_name_for

    files = ("manage.py", "shop/views.py", "shop/models/__init__.py", "core/__init__.py", "core/extra/tool.py")
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    _package_of.cache_clear()
    _namespace_of.cache_clear()
    assert module_name_for(str(tmp_path / "shop/views.py")) == ("shop.views", False)
    # a regular package keeps the name its __init__.py folders give it (Django's tests/ holds
    # packages imported as top-level ones), even inside a namespace folder
    assert module_name_for(str(tmp_path / "shop/models/__init__.py")) == ("models", True)
    # a namespace folder inside a regular package is its subpackage
    assert module_name_for(str(tmp_path / "core/extra/tool.py")) == ("core.extra.tool", False)
    assert module_name_for(str(tmp_path / "manage.py")) == ("manage", False)


# -- `cls` in a model's classmethod ----------------------------------------------------------------
CLASSMETHOD_MODELS = """\
from django.db import models


class Ticket(models.Model):
    status = models.CharField(max_length=20)

    @classmethod
    def any_open(cls):
        if cls.objects.filter(status="open"):
            return True
        return False
"""


def test_cls_in_a_model_classmethod_is_the_model():
    check_project(
        {"desk/models.py": CLASSMETHOD_MODELS},
        {"desk/models.py": CLASSMETHOD_MODELS.replace('status="open"):', 'status="open").exists():')},
        **QS001,
    )


def test_cls_in_a_classmethod_of_a_plain_class_is_not_typed():
    import textwrap

    from tests.helpers import rewrite_project

    source = CLASSMETHOD_MODELS.replace("(models.Model)", "").replace("models.CharField(max_length=20)", '"x"')
    output, result = rewrite_project({"desk/models.py": source}, **QS001)
    assert output == {"desk/models.py": textwrap.dedent(source)}
    assert [f for r in result.files for f in r.findings if f.is_active] == []


# -- AppConfig.label: apps.get_model() through a custom app label ------------------------------------
SHOP_APP_CONFIG = """\
from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    label = "store"
"""
LOOKED_UP_BY_LABEL = """\
from django.apps import apps


def f():
    Order = apps.get_model("store", "Order")
    if Order.objects.all():
        return apps.get_model("store.OrderItem").objects.exists()
"""


def test_models_looked_up_by_appconfig_label():
    check_project(
        {"shop/apps.py": SHOP_APP_CONFIG, "billing/views.py": LOOKED_UP_BY_LABEL},
        {"billing/views.py": LOOKED_UP_BY_LABEL.replace("Order.objects.all():", "Order.objects.all().exists():")},
        **QS001,
    )


def test_package_name_is_no_label_once_an_appconfig_relabels_it():
    source = LOOKED_UP_BY_LABEL.replace('"store"', '"shop"').replace('"store.', '"shop.')
    from tests.helpers import rewrite_project

    # Django knows the app as `store` only: `get_model("shop", ...)` raises LookupError
    output, result = rewrite_project({"shop/apps.py": SHOP_APP_CONFIG, "billing/views.py": source}, **QS001)
    assert output["billing/views.py"] == source
    assert [f for r in result.files for f in r.findings] == []


def test_appconfig_label_found_without_a_name_attribute():
    config = SHOP_APP_CONFIG.replace('    name = "shop"\n', "")
    check_project(
        {"shop/apps.py": config, "billing/views.py": LOOKED_UP_BY_LABEL},
        {"billing/views.py": LOOKED_UP_BY_LABEL.replace("Order.objects.all():", "Order.objects.all().exists():")},
        **QS001,
    )
