"""QS001/QS002 on a real sqlite database: every rewritten shape gives the same result and runs
no more queries than before (fewer, or as many but cheaper, where the rows were not used).

Each BEFORE is a whole module that imports the real test models; AFTER is always what the real
tool made of it (the engine over a throwaway project holding `tests/djapp/models.py`, as
`tests.helpers.rewrite` does), never a hand-written text. Sites the tool must leave alone are
shown to be right to: the tool leaves them, and a naive hand-written rewrite of them adds a
query (one shape, rows used only before the test, is shown to cost nothing either way). With
`unsafe=True` those rewrites are applied: same results, more queries, which is why they are
unsafe. The last sections hold shapes the tool gets wrong today (they fail on purpose).

Speed: an engine run costs mostly its fixed files (models, packages), so every BEFORE built at
import time is rewritten in one run per option set (one file each); `test_batch_is_the_same_as_
a_single_rewrite` checks that this changes nothing.

Data (see `db_rows` in conftest.py):
    alice: active (2 items), shipped (1 item), cancelled (no items)
    bob:   active (1 item), pending (no items)
    carol: no orders
"""

import re
import textwrap

import pytest

from codemods.base import EXAMPLE_MODELS
from tests.helpers import DJAPP_MODELS, Outcome, rewrite, run_project
from tests.semantic import compare_semantics

SNIPPET = "tests/djapp/snippet.py"
MODELS = {"tests/djapp/models.py": DJAPP_MODELS}
HEADER = "from tests.djapp.models import Order, Customer, OrderItem\n"


# -- running the tool ----------------------------------------------------------------------
_BATCH: list[str] = []  # every BEFORE made by module() at import time
_RUNS: dict[bool, dict[str, Outcome]] = {}


def module(body: str) -> str:
    """A BEFORE module: the models import, two blank lines, then `body`."""
    source = HEADER + "\n\n" + textwrap.dedent(body).strip("\n") + "\n"
    _BATCH.append(source)
    return source


def _run_batch(unsafe: bool) -> dict[str, Outcome]:
    paths = {f"tests/djapp/snippet_{i}.py": source for i, source in enumerate(dict.fromkeys(_BATCH))}
    _, result = run_project({"shop/models.py": EXAMPLE_MODELS, **MODELS, **paths}, unsafe=unsafe)
    by_path = {r.path: r for r in result.files}
    outcomes = {}
    for path, source in paths.items():
        r = by_path[path]
        assert r.error is None, r.error
        output = r.new.decode() if r.changed else source
        outcomes[source] = Outcome(source, output, r.findings, result)
    return outcomes


def run_tool(before: str, *, unsafe: bool = False) -> Outcome:
    """What the tool makes of `before` (as `rewrite(before, path=SNIPPET, files=MODELS)`)."""
    if unsafe not in _RUNS:
        _RUNS[unsafe] = _run_batch(unsafe)
    if before in _RUNS[unsafe]:
        return _RUNS[unsafe][before]
    return rewrite(before, path=SNIPPET, files=MODELS, unsafe=unsafe)


def applied(outcome: Outcome) -> list[tuple[str, str]]:
    """(code, applicability) of every fix the tool applied, sorted."""
    return sorted((f.code, f.fix.applicability) for f in outcome.findings if f.fix and f.fix.applied)


def tool_rewrites(before: str, expected: list[tuple[str, str]], *, unsafe: bool = False) -> str:
    """Run the tool; it must change the source by applying exactly `expected`. Returns AFTER."""
    outcome = run_tool(before, unsafe=unsafe)
    assert outcome.source == before
    assert outcome.output != outcome.source, "the tool left the shape alone"
    assert applied(outcome) == sorted(expected), outcome.output
    return outcome.output


# -- running the code ----------------------------------------------------------------------
def fetches_rows(sql: str) -> bool:
    """A query that transfers rows: not `COUNT(...)`, not an `exists()` (`LIMIT 1`)."""
    return "COUNT(" not in sql and not re.search(r"\bLIMIT 1\b", sql)


def row_fetches(outcome) -> int:
    return sum(fetches_rows(sql) for sql in outcome.sql)


def assert_not_worse(before_src: str, after_src: str, func: str, *args):
    """Same result, and never more queries after the rewrite than before."""
    before, after = compare_semantics(before_src, after_src, func, *args)
    assert after.result == before.result, (before, after)
    assert after.queries <= before.queries, (before, after)
    return before, after


def assert_better(before_src: str, after_src: str, func: str, *args):
    """Rows were not used: fewer queries, or as many of which fewer fetch rows."""
    before, after = assert_not_worse(before_src, after_src, func, *args)
    assert after.queries < before.queries or row_fetches(after) < row_fetches(before), (before, after)
    return before, after


@pytest.fixture
def pks(db_rows):
    customers = db_rows.customers
    return {
        "alice": customers["alice"].pk,
        "bob": customers["bob"].pk,
        "carol": customers["carol"].pk,
        "orders": [order.pk for order in db_rows.orders],
    }


def each_customer(before_src: str, after_src: str, pks, func: str = "f", check=assert_better):
    """Run `func(customer_pk)` for alice, bob and carol; returns the BEFORE results and the
    (before, after) query counts."""
    results, counts = [], []
    for name in ("alice", "bob", "carol"):
        before, after = check(before_src, after_src, func, pks[name])
        results.append(before.result)
        counts.append((before.queries, after.queries))
    return results, counts


# -- temporaries: every receiver shape, truth-tested (QS001) and counted (QS002) ------------
# shape -> (setup line, receiver expression, its length for alice, bob, carol)
RECEIVERS = {
    "filter": ("", "Order.objects.filter(customer_id=pk)", [3, 2, 0]),
    "chain": (
        "",
        'Order.objects.filter(customer_id=pk).exclude(status="cancelled").order_by("-total")',
        [2, 2, 0],
    ),
    "custom_queryset_method": ("", "Order.objects.active()", [2, 2, 2]),
    "custom_queryset_method_then_filter": ("", "Order.objects.active().filter(customer_id=pk)", [1, 1, 0]),
    "values_list_flat": ("", 'Order.objects.filter(customer_id=pk).values_list("id", flat=True)', [3, 2, 0]),
    "values": ("", "Order.objects.filter(customer_id=pk).values()", [3, 2, 0]),
    "related_manager_all": ("customer = Customer.objects.get(pk=pk)", "customer.orders.all()", [3, 2, 0]),
    "related_manager_filter": (
        "customer = Customer.objects.get(pk=pk)",
        'customer.orders.filter(status="active")',
        [1, 1, 0],
    ),
    "sliced": ("", "Order.objects.filter(customer_id=pk)[:2]", [2, 2, 0]),
    "or_of_querysets": (
        "",
        'Order.objects.filter(customer_id=pk, status="active")'
        ' | Order.objects.filter(customer_id=pk, status="pending")',
        [1, 2, 0],
    ),
}


def _receiver_module(setup: str, expr: str) -> str:
    setup = f"\n            {setup}" if setup else ""  # the function body's indentation below
    return module(
        f"""
        def f(pk):{setup}
            if {expr}:
                return "some"
            return "none"


        def g(pk):{setup}
            return len({expr})
        """
    )


RECEIVER_MODULES = {shape: _receiver_module(setup, expr) for shape, (setup, expr, _) in RECEIVERS.items()}


@pytest.mark.parametrize("shape", list(RECEIVERS))
def test_temporary_receiver_truth_test_and_len(shape, pks):
    _, expr, lengths = RECEIVERS[shape]
    before = RECEIVER_MODULES[shape]
    after = tool_rewrites(before, [("QS001", "safe"), ("QS002", "safe")])
    assert f"({expr}).exists()" in after or f"{expr}.exists()" in after
    assert f"({expr}).count()" in after or f"{expr}.count()" in after

    truths, counts = each_customer(before, after, pks, "f")
    assert truths == ["some" if n else "none" for n in lengths]
    assert all(b == a for b, a in counts)  # same number of queries, cheaper (assert_better)
    lengths_seen, counts = each_customer(before, after, pks, "g")
    assert lengths_seen == lengths
    assert all(b == a for b, a in counts)


# -- QS001: every boolean context ----------------------------------------------------------
IF_ELIF = module(
    """
    def f(pk):
        if Order.objects.filter(customer_id=pk, status="pending"):
            return "pending"
        elif Order.objects.filter(customer_id=pk):
            return "other"
        return "none"
    """
)


def test_qs001_if_elif(pks):
    after = tool_rewrites(IF_ELIF, [("QS001", "safe")] * 2)
    results, counts = each_customer(IF_ELIF, after, pks)
    assert results == ["other", "pending", "none"]
    assert counts == [(2, 2), (1, 1), (2, 2)]


WHILE = module(
    """
    def f(pk):
        done = []
        while Order.objects.filter(customer_id=pk).exclude(status="done"):
            order = Order.objects.filter(customer_id=pk).exclude(status="done").first()
            order.status = "done"
            order.save(update_fields=["status"])
            done.append(order.pk)
        return done
    """
)


def test_qs001_while(pks):
    after = tool_rewrites(WHILE, [("QS001", "safe")])
    assert 'while Order.objects.filter(customer_id=pk).exclude(status="done").exists():' in after
    results, counts = each_customer(WHILE, after, pks)
    assert [len(r) for r in results] == [3, 2, 0]
    # one test per round plus a last one, one first() and one UPDATE per round
    assert counts == [(10, 10), (7, 7), (1, 1)]


ASSERT = module(
    """
    def f(pk):
        try:
            assert Order.objects.filter(customer_id=pk), "no orders"
        except AssertionError as error:
            return str(error)
        return "checked"
    """
)


def test_qs001_assert(pks):
    after = tool_rewrites(ASSERT, [("QS001", "safe")])
    results, counts = each_customer(ASSERT, after, pks)
    assert results == ["checked", "checked", "no orders"]
    assert counts == [(1, 1)] * 3


CONDITIONAL_EXPRESSION = module(
    """
    def f(pk):
        return "yes" if Order.objects.filter(customer_id=pk) else "no"
    """
)


def test_qs001_conditional_expression(pks):
    after = tool_rewrites(CONDITIONAL_EXPRESSION, [("QS001", "safe")])
    results, counts = each_customer(CONDITIONAL_EXPRESSION, after, pks)
    assert results == ["yes", "yes", "no"]
    assert counts == [(1, 1)] * 3


NOT = module(
    """
    def f(pk):
        return not Order.objects.filter(customer_id=pk, status="active")
    """
)


def test_qs001_not(pks):
    after = tool_rewrites(NOT, [("QS001", "safe")])
    results, counts = each_customer(NOT, after, pks)
    assert results == [False, False, True]
    assert counts == [(1, 1)] * 3


BOOL_CALL = module(
    """
    def f(pk):
        return bool(Order.objects.filter(customer_id=pk, status="shipped"))
    """
)


def test_qs001_bool_call(pks):
    after = tool_rewrites(BOOL_CALL, [("QS001", "safe")])
    assert "bool(" not in after
    results, counts = each_customer(BOOL_CALL, after, pks)
    assert results == [True, False, False]
    assert counts == [(1, 1)] * 3


AND_OR = module(
    """
    def f(pk):
        if Order.objects.filter(customer_id=pk, status="active") and not Order.objects.filter(
            customer_id=pk, status="pending"
        ) or Order.objects.filter(customer_id=pk, status="cancelled"):
            flag = True
        else:
            flag = False
        return flag, bool(
            Order.objects.filter(customer_id=pk, status="pending")
            or Order.objects.filter(customer_id=pk, status="shipped")
        )
    """
)


def test_qs001_and_or_operands(pks):
    after = tool_rewrites(AND_OR, [("QS001", "safe")] * 5)
    results, counts = each_customer(AND_OR, after, pks)
    assert results == [(True, True), (False, True), (False, False)]
    assert counts == [(4, 4), (4, 4), (4, 4)]  # short-circuiting is kept


COMPREHENSION_CONDITION = module(
    """
    def f():
        return [c.name for c in Customer.objects.order_by("pk") if Order.objects.filter(customer=c)]
    """
)


def test_qs001_comprehension_condition(pks):
    after = tool_rewrites(COMPREHENSION_CONDITION, [("QS001", "safe")])
    before_run, after_run = assert_better(COMPREHENSION_CONDITION, after, "f")
    assert before_run.result == ["alice", "bob"]
    assert (before_run.queries, after_run.queries) == (4, 4)
    assert row_fetches(after_run) == 1  # only the customers themselves


# -- QS002: len() alone, in arithmetic, in comparisons -------------------------------------
LEN_ALONE = module(
    """
    def f(pk):
        return len(Order.objects.filter(customer_id=pk))
    """
)


def test_qs002_len_alone(pks):
    after = tool_rewrites(LEN_ALONE, [("QS002", "safe")])
    results, counts = each_customer(LEN_ALONE, after, pks)
    assert results == [3, 2, 0]
    assert counts == [(1, 1)] * 3
    before_run, after_run = compare_semantics(LEN_ALONE, after, "f", pks["alice"])
    assert "COUNT(*)" in after_run.sql[0] and "COUNT(" not in before_run.sql[0]


LEN_ARITHMETIC = module(
    """
    def f(pk):
        return len(Order.objects.filter(customer_id=pk)) * 10 + len(
            Order.objects.filter(customer_id=pk, status="active")
        ) - 1
    """
)


def test_qs002_len_in_arithmetic(pks):
    after = tool_rewrites(LEN_ARITHMETIC, [("QS002", "safe")] * 2)
    results, counts = each_customer(LEN_ARITHMETIC, after, pks)
    assert results == [30, 20, -1]
    assert counts == [(2, 2)] * 3


# comparison -> its value for alice (3 orders), bob (2), carol (0)
COMPARISONS = [
    ("len(Order.objects.filter(customer_id=pk)) == 0", [False, False, True]),
    ("len(Order.objects.filter(customer_id=pk)) > 2", [True, False, False]),
    ("len(Order.objects.filter(customer_id=pk)) > 0", [True, True, False]),
    ("0 < len(Order.objects.filter(customer_id=pk))", [True, True, False]),
    ("len(Order.objects.filter(customer_id=pk)) >= 1", [True, True, False]),
    ("len(Order.objects.filter(customer_id=pk)) < 1", [False, False, True]),
    ("len(Order.objects.filter(customer_id=pk)) != 0", [True, True, False]),
    ("1 <= len(Order.objects.filter(customer_id=pk))", [True, True, False]),
    ("0 == len(Order.objects.filter(customer_id=pk))", [False, False, True]),
    ("len(Order.objects.filter(customer_id=pk)) == 2", [False, True, False]),
    ("len(Order.objects.filter(customer_id=pk)) <= 2", [False, True, True]),
]
LEN_COMPARISONS = module(
    "\n\n".join(
        f"""
def f{i}(pk):
    flag = {comparison}
    if {comparison}:
        return flag, "yes"
    return flag, "no"
"""
        for i, (comparison, _) in enumerate(COMPARISONS)
    )
)


def test_qs002_len_in_comparisons(pks):
    """One function per comparison, used both as a value and as an `if` test."""
    after = tool_rewrites(LEN_COMPARISONS, [("QS002", "safe")] * (2 * len(COMPARISONS)))
    for i, (comparison, expected) in enumerate(COMPARISONS):
        results, counts = each_customer(LEN_COMPARISONS, after, pks, f"f{i}")
        assert results == [(e, "yes" if e else "no") for e in expected], comparison
        assert counts == [(2, 2)] * 3, comparison


IF_LEN = module(
    """
    def f(pk):
        if len(Order.objects.filter(customer_id=pk, status="pending")):
            return "pending"
        return "-"
    """
)


def test_qs002_if_len(pks):
    after = tool_rewrites(IF_LEN, [("QS002", "safe")])
    results, counts = each_customer(IF_LEN, after, pks)
    assert results == ["-", "pending", "-"]
    assert counts == [(1, 1)] * 3


# -- a local variable that is only truth-tested / only counted -----------------------------
LOCAL_TRUTH_TESTED = module(
    """
    def f(pk):
        orders = Order.objects.filter(customer_id=pk).exclude(status="cancelled")
        if not orders:
            return "nothing open"
        return "has orders"
    """
)


def test_qs001_local_only_truth_tested(pks):
    after = tool_rewrites(LOCAL_TRUTH_TESTED, [("QS001", "safe")])
    assert "if not orders.exists():" in after
    results, counts = each_customer(LOCAL_TRUTH_TESTED, after, pks)
    assert results == ["has orders", "has orders", "nothing open"]
    assert counts == [(1, 1)] * 3


LOCAL_COUNTED = module(
    """
    def f(pk):
        orders = Order.objects.filter(customer_id=pk)
        active = orders.filter(status="active")  # a clone: does not read the cache
        return {"orders": len(orders), "active": len(active)}
    """
)


def test_qs002_local_only_counted(pks):
    after = tool_rewrites(LOCAL_COUNTED, [("QS002", "safe")] * 2)
    assert '"orders": orders.count()' in after
    results, counts = each_customer(LOCAL_COUNTED, after, pks)
    assert results == [{"orders": 3, "active": 1}, {"orders": 2, "active": 1}, {"orders": 0, "active": 0}]
    assert counts == [(2, 2)] * 3


# -- a related manager after prefetch_related(): the prefetch cache is read, no query ------
PREFETCHED = {
    call: module(
        f"""
        def f(pk):
            order = Order.objects.prefetch_related("items").get(pk=pk)
            return {call}(order.items.all())
        """
    )
    for call in ("len", "bool")
}


@pytest.mark.parametrize("call, code", [("len", "QS002"), ("bool", "QS001")])
def test_prefetched_related_manager_adds_no_query(call, code, pks):
    before = PREFETCHED[call]
    after = tool_rewrites(before, [(code, "safe")])
    for pk, items in zip(pks["orders"][:3], [2, 1, 0]):
        before_run, after_run = assert_not_worse(before, after, "f", pk)
        assert before_run.result == (items if call == "len" else bool(items))
        assert before_run.queries == after_run.queries == 2  # the order, then its items
        assert after_run.sql == before_run.sql  # no COUNT / LIMIT 1 query of its own


PREFETCHED_LOOP = module(
    """
    def f():
        orders = Order.objects.prefetch_related("items")
        return [(len(o.items.all()), bool(o.items.all())) for o in orders]
    """
)


def test_prefetched_related_manager_in_a_loop_is_left_for_the_rewrite_gains_nothing(pks):
    # the loop variable's relation was prefetched: both sites are left (skipped, with the reason)
    outcome = run_tool(PREFETCHED_LOOP, unsafe=True)
    assert outcome.output == PREFETCHED_LOOP
    assert sorted(f.code for f in outcome.findings) == ["QS001", "QS002"]
    assert all(not f.fix and "`o.items` was prefetched" in f.skip_reason for f in outcome.findings)
    # the rewrite it would make reads the same prefetched rows: no query more, none less
    after = PREFETCHED_LOOP.replace("len(o.items.all())", "o.items.count()").replace(
        "bool(o.items.all())", "o.items.exists()"
    )
    before_run, after_run = assert_not_worse(PREFETCHED_LOOP, after, "f")
    assert before_run.result == [(2, True), (1, True), (0, False), (1, True), (0, False)]
    assert before_run.queries == after_run.queries == 2
    assert after_run.sql == before_run.sql


NOT_PREFETCHED_LOOP = module(
    """
    def f():
        return [len(o.items.all()) for o in Order.objects.all()]
    """
)


def test_related_manager_without_prefetch_gets_cheaper(pks):
    after = tool_rewrites(NOT_PREFETCHED_LOOP, [("QS002", "safe")])
    before_run, after_run = assert_better(NOT_PREFETCHED_LOOP, after, "f")
    assert before_run.result == [2, 1, 0, 1, 0]
    assert (before_run.queries, after_run.queries) == (6, 6)
    assert row_fetches(after_run) == 1  # the orders; the five item queries are COUNT(*)


# -- sites the tool must leave alone: their rows (or result cache) are used ----------------
# shape -> (BEFORE body, naive hand-written rewrite, code of the unsafe finding, queries the
# naive rewrite adds for a customer with orders). The tool reports each as an unsafe fix and
# applies none by default.
KEEP = {
    "if_then_iterate": (
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if orders:
                return [o.pk for o in orders]
            return []
        """,
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if orders.exists():
                return [o.pk for o in orders]
            return []
        """,
        "QS001",
        1,
    ),
    "if_then_render": (
        """
        def render(request, template, context):
            return template, [o.pk for o in context["orders"]]


        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if orders:
                return render(None, "orders.html", {"orders": orders})
            return None
        """,
        """
        def render(request, template, context):
            return template, [o.pk for o in context["orders"]]


        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if orders.exists():
                return render(None, "orders.html", {"orders": orders})
            return None
        """,
        "QS001",
        1,
    ),
    "if_then_pass_to_function": (
        """
        def totals(rows):
            return sum(o.total for o in rows)


        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if orders:
                return totals(orders)
            return 0
        """,
        """
        def totals(rows):
            return sum(o.total for o in rows)


        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if orders.exists():
                return totals(orders)
            return 0
        """,
        "QS001",
        1,
    ),
    "len_then_iterate": (
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            n = len(orders)
            return n, [o.total for o in orders]
        """,
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            n = orders.count()
            return n, [o.total for o in orders]
        """,
        "QS002",
        1,
    ),
    "len_then_index": (
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if len(orders) > 1:
                return orders[0].pk, orders[1].pk
            return None
        """,
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if orders.count() > 1:
                return orders[0].pk, orders[1].pk
            return None
        """,
        "QS002",
        2,  # each unevaluated orders[i] is a query of its own
    ),
    "if_then_count": (
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if orders:
                return orders.count()
            return 0
        """,
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            if orders.exists():
                return orders.count()
            return 0
        """,
        "QS001",
        1,
    ),
    "test_then_rows_used_in_loop_body": (
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            seen = []
            for status in ["active", "shipped", "pending"]:
                if orders:
                    seen.extend(o.pk for o in orders if o.status == status)
            return seen
        """,
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            seen = []
            for status in ["active", "shipped", "pending"]:
                if orders.exists():
                    seen.extend(o.pk for o in orders if o.status == status)
            return seen
        """,
        "QS001",
        1,
    ),
    # The rows are used only *before* the test: the loop fills the result cache and
    # `exists()` reads it (`QuerySet.exists()` checks `_result_cache` first), so the naive
    # rewrite costs nothing here. Leaving it alone is harmless, not required.
    "rows_used_in_loop_before_test": (
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            seen = []
            for o in orders:
                seen.append(o.status)
            if orders:
                return seen
            return None
        """,
        """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            seen = []
            for o in orders:
                seen.append(o.status)
            if orders.exists():
                return seen
            return None
        """,
        "QS001",
        0,
    ),
}
KEEP_MODULES = {shape: module(body) for shape, (body, *_) in KEEP.items()}


@pytest.mark.parametrize("shape", list(KEEP))
def test_rows_used_elsewhere_is_left_alone_and_rightly_so(shape, pks):
    _, naive_body, code, extra = KEEP[shape]
    before, naive = KEEP_MODULES[shape], HEADER + "\n\n" + textwrap.dedent(naive_body)

    outcome = run_tool(before)
    assert outcome.output == outcome.source, "the tool rewrote a site whose rows are used"
    assert applied(outcome) == []
    [finding] = [f for f in outcome.findings if f.code == code]
    assert finding.fix is not None and finding.fix.applicability == "unsafe" and not finding.fix.applied

    # the naive rewrite: same results, but more queries wherever the QuerySet has rows
    for name in ("alice", "bob"):
        original, rewritten = compare_semantics(before, naive, "f", pks[name])
        assert rewritten.result == original.result, (original, rewritten)
        assert rewritten.queries == original.queries + extra, (original, rewritten)


@pytest.mark.parametrize("shape", list(KEEP))
def test_unsafe_rewrite_keeps_results_but_can_add_queries(shape, pks):
    _, _, code, extra = KEEP[shape]
    before = KEEP_MODULES[shape]
    after = tool_rewrites(before, [(code, "unsafe")], unsafe=True)
    for name in ("alice", "bob", "carol"):
        original, rewritten = compare_semantics(before, after, "f", pks[name])
        assert rewritten.result == original.result, (original, rewritten)
    original, rewritten = compare_semantics(before, after, "f", pks["alice"])
    assert rewritten.queries == original.queries + extra  # why it is unsafe


# -- a QuerySet bound outside a loop, tested or counted inside it --------------------------
# The first bool()/len() fills the result cache and every later round reads it: one query in
# all. The site reuses its own cache, so exists()/count() there runs one query per round.
IN_A_LOOP = {
    "qs001_if_in_for_loop": """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            labels = []
            for status in ["active", "shipped", "pending"]:
                if orders:
                    labels.append(status)
            return labels
        """,
    "qs001_while_local": """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            rounds = 0
            while orders:
                rounds += 1
                if rounds == 3:
                    break
            return rounds
        """,
    "qs002_len_in_comprehension": """
        def f(pk):
            orders = Order.objects.filter(customer_id=pk)
            return [len(orders) * n for n in range(3)]
        """,
}
IN_A_LOOP_MODULES = {shape: module(body) for shape, body in IN_A_LOOP.items()}


@pytest.mark.parametrize("shape", list(IN_A_LOOP))
def test_local_tested_inside_a_loop_is_never_made_worse(shape, pks):
    before = IN_A_LOOP_MODULES[shape]
    outcome = run_tool(before)  # the default: safe fixes only
    for name in ("alice", "bob", "carol"):
        assert_not_worse(before, outcome.output, "f", pks[name])


# -- len() of a distinct() QuerySet whose ordering adds columns ----------------------------
# Django adds the ORDER BY columns to a `SELECT DISTINCT` (see the `distinct()` docs), so
# `len()` counts (status, id) or (order, item quantity) pairs. `count()` drops the ordering
# first and counts distinct statuses / orders instead: another number.
DISTINCT = {
    # Order.Meta.ordering = ["id"]: 5 (status, id) pairs, 4 statuses
    "values_list_distinct_under_meta_ordering": 'Order.objects.values_list("status", flat=True).distinct()',
    # the order with 2 items comes twice: 6 rows, 5 orders
    "distinct_ordered_by_related_field": 'Order.objects.order_by("items__quantity").distinct()',
}
DISTINCT_MODULES = {
    shape: module(
        f"""
        def f():
            return len({expr})
        """
    )
    for shape, expr in DISTINCT.items()
}


@pytest.mark.parametrize("shape", list(DISTINCT))
def test_qs002_len_of_distinct_with_ordering_keeps_the_result(shape, pks):
    before = DISTINCT_MODULES[shape]
    outcome = run_tool(before)  # the default: safe fixes only
    assert_not_worse(before, outcome.output, "f")


# -- the batch itself ----------------------------------------------------------------------
@pytest.mark.parametrize("unsafe", [False, True])
def test_batch_is_the_same_as_a_single_rewrite(unsafe):
    before = KEEP_MODULES["if_then_iterate"]
    single = rewrite(before, path=SNIPPET, files=MODELS, unsafe=unsafe)
    batched = run_tool(before, unsafe=unsafe)
    assert batched.output == single.output
    assert [(f.line, f.column, f.code, f.skip_reason, f.fix and f.fix.applied) for f in batched.findings] == [
        (f.line, f.column, f.code, f.skip_reason, f.fix and f.fix.applied) for f in single.findings
    ]


# -- reach and precision (issue 14) --------------------------------------------------------
ANNOTATED_PARAMETER = module(
    """
    def has_active(customer: Customer):
        return bool(customer.orders.filter(status="active"))


    def f(pk):
        return has_active(Customer.objects.get(pk=pk))
    """
)
LISTED_LOOP = module(
    """
    def f(pk):
        counts = []
        for order in list(Order.objects.filter(customer_id=pk)):
            counts.append(len(order.items.all()))
        return counts
    """
)
STEPPED_SLICE = module(
    """
    def f(pk):
        return len(Order.objects.filter(customer_id=pk)[::2])
    """
)
TO_MANY_ORDERING = module(
    """
    def f(pk):
        return len(Customer.objects.order_by("orders__total"))
    """
)


def test_model_annotated_parameter_relation_becomes_exists(pks):
    after = tool_rewrites(ANNOTATED_PARAMETER, [("QS001", "safe")])
    assert 'return customer.orders.filter(status="active").exists()' in after
    for name in ("alice", "bob", "carol"):
        assert_better(ANNOTATED_PARAMETER, after, "f", pks[name])


def test_loop_over_listed_queryset_relation_becomes_count(pks):
    after = tool_rewrites(LISTED_LOOP, [("QS002", "safe")])
    assert "counts.append(order.items.all().count())" in after
    for name in ("alice", "bob", "carol"):
        assert_not_worse(LISTED_LOOP, after, "f", pks[name])


def test_stepped_slice_is_left_alone(pks):
    outcome = run_tool(STEPPED_SLICE, unsafe=True)
    assert outcome.output == STEPPED_SLICE and outcome.findings == []
    assert_not_worse(STEPPED_SLICE, outcome.output, "f", pks["alice"])


def test_to_many_ordering_count_would_change_the_result(pks):
    outcome = run_tool(TO_MANY_ORDERING)
    assert outcome.output == TO_MANY_ORDERING  # only an unsafe fix: not applied by default
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    unsafe_after = run_tool(TO_MANY_ORDERING, unsafe=True).output
    before, after = compare_semantics(TO_MANY_ORDERING, unsafe_after, "f", pks["alice"])
    assert before.result != after.result  # one row per order vs one per customer: why it is never safe
