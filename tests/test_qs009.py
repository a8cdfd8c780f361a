"""QS009 reuse-after-write: exact rewrites (unsafe), and a no-op test for every exclusion."""

from tests.helpers import check_noop, check_transformed, rewrite

QS009 = {"select": frozenset({"QS009"}), "unsafe": True}


def active(source: str, **options) -> list[str]:
    outcome = rewrite(source, **{**QS009, **options})
    return [f"{f.line}: {f.message}" for f in outcome.findings if f.code == "QS009" and f.is_active]


def test_every_reread_after_the_write_reads_a_fresh_clone():
    check_transformed(
        """\
        from shop.models import Order


        def f(customer, pk):
            orders = Order.objects.filter(customer=customer)
            first = list(orders)
            Order.objects.filter(pk=pk).delete()
            for order in orders:
                print(order)
            return first, len(orders), orders.count(), orders.exists(), orders[0], pk in orders
        """,
        """\
        from shop.models import Order


        def f(customer, pk):
            orders = Order.objects.filter(customer=customer)
            first = list(orders)
            Order.objects.filter(pk=pk).delete()
            for order in orders.all():
                print(order)
            return first, len(orders.all()), orders.all().count(), orders.all().exists(), orders.all()[0], pk in orders.all()
        """,
        **QS009,
    )


def test_message_names_the_three_lines_and_the_fix_is_unsafe():
    outcome = rewrite(
        """\
        from shop.models import Order


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            if orders:
                Order.objects.create(customer=customer, status="new")
            return len(orders)
        """,
        select=frozenset({"QS009"}),
    )
    [finding] = outcome.findings
    assert finding.line == 8 and finding.column == 16
    assert finding.message == (
        "`orders` was evaluated on line 6 (its rows are cached), Order rows are written on "
        "line 7 (`.create()`), and line 8 reads the cached rows again: they are the rows from "
        "before the write; read a fresh copy with `orders.all()` (unsafe: `.all()` runs the "
        "query again (one more query), and code relying on changes made in memory to the "
        "cached instances sees fresh ones)"
    )
    assert finding.skip_reason == "unsafe fix: applied only with --unsafe"
    assert outcome.output == outcome.source


def test_writes_of_every_kind():
    for write in (
        'Order.objects.filter(status="x").update(status="y")',
        "Order.objects.bulk_create([])",
        'Order.objects.bulk_update([], ["status"])',
        'Order.objects.get_or_create(status="x")',
        'Order.objects.update_or_create(status="x")',
        "Order.objects.get(pk=1).delete()",
        "other.save()",
        "orders.filter(status='x').update(status='y')",
    ):
        source = f"""\
        from shop.models import Order


        def f(customer):
            other = Order.objects.get(pk=2)
            orders = Order.objects.filter(customer=customer)
            names = [o.status for o in orders]
            {write}
            return names, [o.status for o in orders]
        """
        assert [m.split(":")[0] for m in active(source)] == ["9"], write


def test_inside_a_loop_over_the_queryset():
    check_transformed(
        """\
        from shop.models import Order


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            for order in orders:
                Order.objects.filter(pk=order.pk).update(status="seen")
            return [o.status for o in orders]
        """,
        """\
        from shop.models import Order


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            for order in orders:
                Order.objects.filter(pk=order.pk).update(status="seen")
            return [o.status for o in orders.all()]
        """,
        **QS009,
    )


def test_no_write_between_the_reads():
    check_noop(
        """\
        from shop.models import Order


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            n = len(orders)
            result = [o.pk for o in orders]
            Order.objects.create(customer=customer, status="new")
            return n, result
        """,
        **QS009,
    )


def test_write_before_the_first_evaluation():
    check_noop(
        """\
        from shop.models import Order


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            Order.objects.create(customer=customer, status="new")
            n = len(orders)
            return n, [o.pk for o in orders]
        """,
        **QS009,
    )


def test_writes_through_the_queryset_or_its_instances_are_not_reported():
    check_noop(
        """\
        from shop.models import Customer, Order


        def through_instances(customer):
            orders = Order.objects.filter(customer=customer)
            for order in orders:
                order.status = "closed"
                order.save()
            first = orders[0]
            first.delete()
            for index, order in enumerate(orders):
                order.save()
            return [o.status for o in orders]


        def update_empties_the_cache(customer):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            orders.update(status="closed")
            return names, list(orders)


        def other_model(customer):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            Customer.objects.create(name="x")
            customer.save()
            return names, list(orders)
        """,
        **QS009,
    )


def test_fresh_reads_and_escapes_are_not_reported():
    check_noop(
        """\
        from shop.models import Order


        def fresh(customer):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            Order.objects.create(customer=customer, status="new")
            return names, list(orders.all()), orders.filter(status="x").count(), orders.get(pk=1)


        def handed_on(customer, helper):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            helper(orders)
            Order.objects.create(customer=customer, status="new")
            return names, list(orders)


        def rebound(customer):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            Order.objects.create(customer=customer, status="new")
            orders = Order.objects.filter(customer=customer)
            return names, list(orders)


        def nested(customer):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            Order.objects.create(customer=customer, status="new")
            return names, lambda: list(orders)
        """,
        **QS009,
    )


def test_paths_that_do_not_reach_the_reread():
    check_noop(
        """\
        from shop.models import Order


        def branches(customer, flag):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            if flag:
                Order.objects.create(customer=customer, status="new")
            else:
                return names, list(orders)
            return names


        def returns_after_write(customer, flag):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            if flag:
                Order.objects.create(customer=customer, status="new")
                return names
            return names, list(orders)


        def handlers(customer):
            orders = Order.objects.filter(customer=customer)
            try:
                names = list(orders)
            except ValueError:
                Order.objects.create(customer=customer, status="new")
            except KeyError:
                return list(orders)
            return names


        def evaluated_in_a_branch_the_write_excludes(customer, flag):
            orders = Order.objects.filter(customer=customer)
            if flag:
                names = list(orders)
            else:
                Order.objects.create(customer=customer, status="new")
            return len(orders)
        """,
        **QS009,
    )


def test_write_in_a_branch_reaches_the_reread():
    check_transformed(
        """\
        from shop.models import Order


        def f(customer, flag):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            if flag:
                Order.objects.create(customer=customer, status="new")
            return names, list(orders)
        """,
        """\
        from shop.models import Order


        def f(customer, flag):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            if flag:
                Order.objects.create(customer=customer, status="new")
            return names, list(orders.all())
        """,
        **QS009,
    )


def test_test_files_are_left_alone():
    source = """\
    from shop.models import Order


    def f(customer):
        orders = Order.objects.filter(customer=customer)
        names = list(orders)
        Order.objects.create(customer=customer, status="new")
        return names, list(orders)
    """
    assert [m.split(":")[0] for m in active(source)] == ["8"]
    for path in ("shop/tests/views.py", "shop/test_views.py", "shop/views_tests.py", "shop/tests.py"):
        assert active(source, path=path) == [], path
    # --check-tests (one option the stale-data passes share) turns them on
    assert [m.split(":")[0] for m in active(source, path="shop/tests/views.py", check_tests=True)] == ["8"]


def test_only_a_proven_queryset():
    """A custom manager method the index cannot see through may return a dict (weblate's
    `Setting.objects.get_settings_dict()`): its reads are no cache."""
    check_noop(
        """\
        from shop.models import Order


        def f(customer, helper):
            settings = Order.objects.settings_dict()
            names = list(settings)
            Order.objects.create(customer=customer, status="new")
            return names, list(settings)
        """,
        files={"shop/models.py": """\
        from django.db import models


        class OrderManager(models.Manager):
            def settings_dict(self):
                return {o.status: o for o in self.all()}


        class Customer(models.Model):
            name = models.CharField(max_length=100)


        class Order(models.Model):
            customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
            status = models.CharField(max_length=20)

            objects = OrderManager()
        """},
        **QS009,
    )


def test_a_project_function_that_writes_the_model():
    services = {"shop/services.py": """\
    from shop.models import Customer, Order


    def close_all(customer):
        Order.objects.filter(customer=customer).update(status="closed")


    def rename(customer):
        Customer.objects.filter(pk=customer.pk).update(name="x")


    def looks_only(customer):
        return Order.objects.filter(customer=customer).count()
    """}
    outcome = check_transformed(
        """\
        from shop import services
        from shop.models import Order
        from shop.services import close_all


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            services.rename(customer)
            services.looks_only(customer)
            n = len(orders)
            close_all(customer)
            return names, n, list(orders)
        """,
        """\
        from shop import services
        from shop.models import Order
        from shop.services import close_all


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            names = list(orders)
            services.rename(customer)
            services.looks_only(customer)
            n = len(orders)
            close_all(customer)
            return names, n, list(orders.all())
        """,
        files=services,
        **QS009,
    )
    [finding] = [f for f in outcome.findings if f.code == "QS009"]
    assert "Order rows are written on line 12 (`close_all()`, which calls `.update()`)" in finding.message


def test_evaluated_by_a_project_function_that_iterates_it():
    helpers = {"shop/helpers.py": """\
    def names(orders):
        return [o.status for o in orders]


    def count_them(items, *, extra=0):
        return len(items) + extra


    def maybe_filters(orders):
        return orders.filter(status="x")
    """}
    check_transformed(
        """\
        from shop.helpers import names
        from shop.models import Order


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            before = names(orders)
            Order.objects.create(customer=customer, status="new")
            return before, list(orders)
        """,
        """\
        from shop.helpers import names
        from shop.models import Order


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            before = names(orders)
            Order.objects.create(customer=customer, status="new")
            return before, list(orders.all())
        """,
        files=helpers,
        **QS009,
    )
    check_noop(
        """\
        from shop.helpers import maybe_filters
        from shop.models import Order


        def f(customer):
            orders = Order.objects.filter(customer=customer)
            subset = maybe_filters(orders)
            Order.objects.create(customer=customer, status="new")
            return subset, list(orders)
        """,
        files=helpers,
        **QS009,
    )
