"""The Django facts the passes rely on, checked on the real test database through the harness."""

import pytest

from tests.semantic import assert_same_semantics, compare_semantics, run_code

pytestmark = pytest.mark.usefixtures("db_rows")


def test_bool_fills_the_cache_that_a_later_loop_reuses():
    tested_only = run_code("def f():\n    return bool(Order.objects.filter(status='active'))\n")
    tested_then_looped = run_code(
        """
def f():
    qs = Order.objects.filter(status="active")
    seen = bool(qs)
    return seen, [o.pk for o in qs]
"""
    )
    assert tested_only.result is True
    assert tested_only.queries == 1
    assert tested_then_looped.result[0] is True
    assert len(tested_then_looped.result[1]) == 2
    assert tested_then_looped.queries == 1  # the loop ran no query of its own
    assert "LIMIT" not in tested_then_looped.sql[0]  # bool() fetched every row


def test_exists_then_iterating_runs_two_queries():
    outcome = run_code(
        """
def f():
    qs = Order.objects.filter(status="active")
    if qs.exists():
        return [o.pk for o in qs]
"""
    )
    assert len(outcome.result) == 2
    assert outcome.queries == 2
    assert "LIMIT 1" in outcome.sql[0]


def test_count_after_len_uses_the_cache():
    outcome = run_code(
        """
def f():
    qs = Order.objects.all()
    return len(qs), qs.count()
"""
    )
    assert outcome.result == (5, 5)
    assert outcome.queries == 1


def test_count_alone_is_one_count_query_while_len_fetches_rows():
    counted = run_code("def f():\n    return Order.objects.filter(customer__name='alice').count()\n")
    lengthed = run_code("def f():\n    return len(Order.objects.filter(customer__name='alice'))\n")
    assert counted.result == lengthed.result == 3
    assert counted.queries == lengthed.queries == 1
    assert "COUNT(" in counted.sql[0]
    assert "COUNT(" not in lengthed.sql[0]
    assert '"djapp_order"."status"' in lengthed.sql[0]


def test_a_manager_is_truthy_without_a_query():
    outcome = run_code(
        """
def f():
    return bool(Order.objects), not Order.objects, hasattr(Order.objects, "__len__")
"""
    )
    assert outcome.result == (True, False, False)
    assert outcome.queries == 0


def test_prefetched_related_all_answers_len_and_count_from_the_cache():
    outcome = run_code(
        """
def f():
    orders = list(Order.objects.prefetch_related("items"))
    return [(len(o.items.all()), o.items.all().count()) for o in orders]
"""
    )
    assert outcome.result == [(2, 2), (1, 1), (0, 0), (1, 1), (0, 0)]
    assert outcome.queries == 2  # the orders, then every item at once


def test_raw_queryset_has_neither_count_nor_exists():
    outcome = run_code(
        """
def f():
    rows = Order.objects.raw("SELECT id, status FROM djapp_order WHERE status = %s", ["active"])
    return hasattr(rows, "count"), hasattr(rows, "exists"), len(rows)
"""
    )
    assert outcome.result == (False, False, 2)
    assert outcome.queries == 1


# The harness itself


def test_results_are_normalised_to_pks(db_rows):
    outcome = run_code(
        """
def f(name):
    customer = Customer.objects.get(name=name)
    return {"customer": customer, "orders": customer.orders.all(), "first": Order.objects.active().first()}
""",
        "f",
        "bob",
    )
    bob = db_rows.customers["bob"]
    assert outcome.result == {
        "customer": bob.pk,
        "orders": [o.pk for o in db_rows.orders if o.customer_id == bob.pk],
        "first": db_rows.orders[0].pk,
    }
    # the returned, unevaluated `customer.orders.all()` is fetched after counting
    assert outcome.queries == 2


def test_each_run_is_rolled_back():
    run_code("def f():\n    Order.objects.all().delete()\n")
    assert run_code("def f():\n    return Order.objects.count()\n").result == 5


def test_compare_semantics_of_a_qs001_rewrite():
    before, after = assert_same_semantics(
        "def f():\n    return 'yes' if Order.objects.filter(status='pending') else 'no'\n",
        "def f():\n    return 'yes' if Order.objects.filter(status='pending').exists() else 'no'\n",
    )
    assert before.result == "yes"
    assert (before.queries, after.queries) == (1, 1)


def test_compare_semantics_catches_an_extra_query():
    before, after = compare_semantics(
        "def f():\n    qs = Order.objects.all()\n    return bool(qs), [o.pk for o in qs]\n",
        "def f():\n    qs = Order.objects.all()\n    return qs.exists(), [o.pk for o in qs]\n",
    )
    assert after.result == before.result
    assert after.queries == before.queries + 1
