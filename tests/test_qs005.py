"""QS005 refresh-after-update: exact rewrites, and every shape that must stay silent."""

from tests.helpers import check_noop, check_transformed, rewrite

QS005 = dict(select=frozenset({"QS005"}), unsafe=True)


def findings(source, **kwargs):
    return [f for f in rewrite(source, **{**QS005, **kwargs}).findings if f.code == "QS005"]


def test_save_after_update_gets_a_reload():
    outcome = check_transformed(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Order.objects.filter(pk=order.pk).update(status="closed", created=None)
            order.save()
        """,
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Order.objects.filter(pk=order.pk).update(status="closed", created=None)
            order.refresh_from_db(fields=["status", "created"])
            order.save()
        """,
        **QS005,
    )
    (finding,) = outcome.findings
    assert finding.line == 6 and finding.fix.applicability == "unsafe"
    assert "line 7" in finding.message and "`order` is from line 5" in finding.message


def test_pk_in_and_extra_filters_and_assigned_result():
    check_transformed(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            changed = Order.objects.filter(status="open").filter(pk__in=[order.pk]).update(status="closed")  # why
            return changed, order.status
        """,
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            changed = Order.objects.filter(status="open").filter(pk__in=[order.pk]).update(status="closed")  # why
            order.refresh_from_db(fields=["status"])
            return changed, order.status
        """,
        **QS005,
    )


def test_self_in_a_model_method():
    models = """\
    from django.db import models


    class Page(models.Model):
        views = models.IntegerField(default=0)

        def bump(self):
            Page.objects.filter(pk=self.pk).update(views=models.F("views") + 1)
            return self.views
    """
    outcome = check_transformed(
        models,
        """\
        from django.db import models


        class Page(models.Model):
            views = models.IntegerField(default=0)

            def bump(self):
                Page.objects.filter(pk=self.pk).update(views=models.F("views") + 1)
                self.refresh_from_db(fields=["views"])
                return self.views
        """,
        path="pages/models.py",
        **QS005,
    )
    assert [f.code for f in outcome.findings] == ["QS005"]


def test_update_in_a_condition_is_reported_without_fix():
    (finding,) = findings(
        """\
        from shop.models import Order


        def claim(order_id):
            order = Order.objects.get(pk=order_id)
            if Order.objects.filter(pk=order.pk, status="open").update(status="claimed"):
                return order.status
            return None
        """
    )
    assert finding.fix is None and "refresh_from_db" in finding.message


def test_without_unsafe_nothing_changes_but_it_is_reported():
    outcome = check_noop(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Order.objects.filter(pk=order.pk).update(status="closed")
            order.save()
        """,
        select=frozenset({"QS005"}),
    )
    assert outcome.skipped() == ["unsafe fix: applied only with --unsafe"]


def test_unrelated_field_read_is_silent():
    assert not findings(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Order.objects.filter(pk=order.pk).update(status="closed")
            return order.created
        """
    )


def test_save_of_other_fields_only_is_silent():
    assert not findings(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Order.objects.filter(pk=order.pk).update(status="closed")
            order.save(update_fields=["created"])
        """
    )


def test_reloaded_after_update_is_silent():
    check_noop(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Order.objects.filter(pk=order.pk).update(status="closed")
            order.refresh_from_db()
            order.save()
        """,
        **QS005,
    )


def test_use_before_update_is_silent():
    assert not findings(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            order.save()
            Order.objects.filter(pk=order.pk).update(status="closed")
            return True
        """
    )


def test_other_branch_is_silent():
    assert not findings(
        """\
        from shop.models import Order


        def close(order_id, fast):
            order = Order.objects.get(pk=order_id)
            if fast:
                Order.objects.filter(pk=order.pk).update(status="closed")
            else:
                order.status = "closed"
                order.save()
        """
    )


def test_return_after_update_is_silent():
    assert not findings(
        """\
        from shop.models import Order


        def close(order_id, fast):
            order = Order.objects.get(pk=order_id)
            if fast:
                Order.objects.filter(pk=order.pk).update(status="closed")
                return None
            return order.status
        """
    )


def test_other_model_with_the_same_pk_is_silent():
    assert not findings(
        """\
        from shop.models import Customer, Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Customer.objects.filter(pk=order.pk).update(name="x")
            order.save()
        """
    )


def test_unproven_instance_is_silent():
    assert not findings(
        """\
        from shop.models import Order


        def close(order):
            Order.objects.filter(pk=order.pk).update(status="closed")
            order.save()
        """
    )


def test_filter_not_on_the_pk_is_silent():
    assert not findings(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Order.objects.filter(customer=order.customer).update(status="closed")
            order.save()
        """
    )


def test_exclude_is_not_a_target():
    assert not findings(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Order.objects.exclude(pk=order.pk).update(status="closed")
            order.save()
        """
    )


def test_instance_passed_on_before_the_read_is_silent():
    assert not findings(
        """\
        from shop.models import Order


        def close(order_id, notify):
            order = Order.objects.get(pk=order_id)
            Order.objects.filter(pk=order.pk).update(status="closed")
            notify(order)
            return order.status
        """
    )


def test_tests_are_skipped():
    source = """\
    from shop.models import Order


    def test_close():
        order = Order.objects.get(pk=1)
        Order.objects.filter(pk=order.pk).update(status="closed")
        assert order.status == "open"
    """
    for path in ("shop/tests/test_views.py", "shop/test_views.py", "shop/tests.py", "shop/view_tests.py"):
        assert not findings(source, path=path)


def test_update_to_the_instance_own_value_is_silent():
    assert not findings(
        """\
        from shop.models import Order


        def close(order_id):
            order = Order.objects.get(pk=order_id)
            Order.objects.filter(pk=order.pk).update(status=order.status)
            order.save(update_fields=("status",))
        """
    )


def test_parent_model_update_reaches_the_child_instance():
    child_models = """\
    from django.db import models


    class Place(models.Model):
        name = models.CharField(max_length=50)


    class Supplier(Place):
        address = models.CharField(max_length=50)
    """
    check_transformed(
        """\
        from places.models import Place, Supplier


        def rename(pk):
            supplier = Supplier.objects.get(pk=pk)
            Place.objects.filter(pk=supplier.pk).update(name="x")
            supplier.save(update_fields=("name",))
        """,
        """\
        from places.models import Place, Supplier


        def rename(pk):
            supplier = Supplier.objects.get(pk=pk)
            Place.objects.filter(pk=supplier.pk).update(name="x")
            supplier.refresh_from_db(fields=["name"])
            supplier.save(update_fields=("name",))
        """,
        files={"places/models.py": child_models},
        **QS005,
    )
