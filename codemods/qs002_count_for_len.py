"""QS002 count-for-len: `len(qs)` -> `qs.count()`.

`len()` on a QuerySet fetches every row and builds every model instance only to count them;
`count()` asks the database for `SELECT COUNT(*)`. When the rows are used afterwards, `len()`
is the right call (the rows are fetched once and cached), and the pass leaves it alone.

Django docs: https://docs.djangoproject.com/en/stable/ref/models/querysets/#count
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from .analysis import has_comment, method_call
from .base import Example, Pass, PassInfo


# `len(qs) <op> N` that only asks "is there a row?": (operator, number, len on the left) -> negated
EMPTINESS = {
    (cst.Equal, 0, True): True, (cst.LessThan, 1, True): True, (cst.LessThanEqual, 0, True): True,
    (cst.NotEqual, 0, True): False, (cst.GreaterThan, 0, True): False,
    (cst.GreaterThanEqual, 1, True): False,
    (cst.Equal, 0, False): True, (cst.GreaterThan, 1, False): True,
    (cst.GreaterThanEqual, 0, False): True,
    (cst.NotEqual, 0, False): False, (cst.LessThan, 0, False): False,
    (cst.LessThanEqual, 1, False): False,
}


def emptiness_test(comparison: cst.CSTNode, call: cst.Call) -> Optional[bool]:
    """For `len(qs) == 0`-like comparisons: True if it tests emptiness, False if it tests
    non-emptiness, None if it is another comparison."""
    if not isinstance(comparison, cst.Comparison) or len(comparison.comparisons) != 1:
        return None
    target = comparison.comparisons[0]
    if comparison.left is call:
        other, left = target.comparator, True
    elif target.comparator is call:
        other, left = comparison.left, False
    else:
        return None
    if not isinstance(other, cst.Integer) or other.value not in ("0", "1") or other.lpar:
        return None
    return EMPTINESS.get((type(target.operator), int(other.value), left))


class CountForLen(Pass):
    def visit_Call(self, node: cst.Call) -> None:
        analysis = self.analysis
        if not analysis.is_builtin(node.func, "len"):
            return
        if len(node.args) != 1 or node.args[0].keyword or node.args[0].star:
            return
        arg = node.args[0].value
        parent = analysis.parents.get(node)
        if isinstance(parent, cst.ComparisonTarget):  # `0 < len(qs)`
            parent = analysis.parents.get(parent)
        empty = emptiness_test(parent, node)
        truth = empty is None and _truth_tested(parent, node)
        method = "exists" if empty is not None or truth else "count"
        verdict = analysis.judge_receiver(arg, node, method)
        if not verdict.report:
            return
        code = analysis.code(arg)
        if method == "count":
            message = f"`len({code})` fetches every row to count them; use `.count()`"
        else:
            message = f"`len({code})` fetches every row to learn whether there is one; use `.exists()`"
        if verdict.skip:
            self.report(node, message, skip=verdict.skip)
            return
        if has_comment(node.with_changes(args=[])) or has_comment(node.args[0].with_changes(value=cst.Name("x"))):
            self.report(node, message, skip="a comment inside `len(...)` would be lost")
            return
        if empty is not None:
            if has_comment(parent.with_changes(left=cst.Name("x"), comparisons=[
                parent.comparisons[0].with_changes(comparator=cst.Name("x"))
            ])):
                self.report(node, message, skip="a comment inside the comparison would be lost")
                return
            title = f"Replace with `{'not ' if empty else ''}{code}.exists()`"
            edits = [(parent, _emptiness_rewrite(node, empty))]
        else:
            title = f"Replace with `{code}.{method}()`"
            edits = [(node, lambda original, updated: method_call(updated.args[0].value, method))]
        self.report(node, message, fix_title=title, edits=edits, unsafe_because=verdict.unsafe)


def _truth_tested(parent: Optional[cst.CSTNode], call: cst.Call) -> bool:
    """`if len(qs):`, `while len(qs):`, `not len(qs)`: only the truth of the length is used."""
    if isinstance(parent, (cst.If, cst.While, cst.Assert, cst.CompIf, cst.IfExp)):
        return parent.test is call
    return isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not)


def _emptiness_rewrite(call: cst.Call, empty: bool):
    def rewrite(original: cst.CSTNode, updated: cst.Comparison) -> cst.BaseExpression:
        # the len() call inside may itself have been updated by an earlier pass
        if original.left is call:
            inner = updated.left
        else:
            inner = updated.comparisons[0].comparator
        exists = method_call(inner.args[0].value, "exists")
        if not empty:
            return exists.with_changes(lpar=updated.lpar, rpar=updated.rpar)
        return cst.UnaryOperation(
            operator=cst.Not(), expression=exists, lpar=updated.lpar, rpar=updated.rpar
        )

    return rewrite


INFO = PassInfo(
    code="QS002",
    name="count-for-len",
    summary="`len(qs)` on a QuerySet whose rows are not used -> `qs.count()`",
    safety="safe or unsafe",
    what=(
        "Finds `len()` of a QuerySet and rewrites it to `.count()`; where only emptiness is "
        "asked (`len(qs) == 0`, `len(qs) > 0`, `if len(qs):`) to `.exists()`, which stops at "
        "the first row."
    ),
    why=(
        "`len(qs)` runs `SELECT` of every column of every matching row and builds a model "
        "instance for each, only to count them. `qs.count()` runs `SELECT COUNT(*)` and "
        "transfers one number. Where the rows are used afterwards (iterated, indexed, passed "
        "on), `len()` has already cached them and is the better choice: Django's docs say so, "
        "and the pass leaves such sites alone unless `--unsafe` is given."
    ),
    fix_safety=(
        "Safe when the argument is a QuerySet beyond doubt (a manager of a model defined in "
        "the scanned code, through QuerySet methods) and no other code reads its rows or its "
        "result cache. Unsafe when it is only likely a QuerySet (an annotation, a custom "
        "manager method) or when its rows are used elsewhere: then `.count()` adds a query. "
        "Managers, RawQuerySets, lists and unproven names are never rewritten."
    ),
    references=(
        "https://docs.djangoproject.com/en/stable/ref/models/querysets/#count",
        "https://docs.djangoproject.com/en/stable/topics/db/optimization/#don-t-overuse-count-and-exists",
    ),
    examples=(
        Example(
            "temporary_queryset",
            """\
            from shop.models import Order


            def open_orders():
                return len(Order.objects.filter(status="open"))
            """,
            """\
            from shop.models import Order


            def open_orders():
                return Order.objects.filter(status="open").count()
            """,
        ),
        Example(
            "local_queryset_counted_only",
            """\
            from shop.models import Order


            def report(customer):
                orders = Order.objects.filter(customer=customer)
                return {"orders": len(orders)}
            """,
            """\
            from shop.models import Order


            def report(customer):
                orders = Order.objects.filter(customer=customer)
                return {"orders": orders.count()}
            """,
        ),
        Example(
            "emptiness_comparison_becomes_exists",
            """\
            from shop.models import Order


            def state(customer):
                if len(Order.objects.filter(customer=customer)) == 0:
                    return "new"
                return len(customer.orders.all()) > 0
            """,
            """\
            from shop.models import Order


            def state(customer):
                if not Order.objects.filter(customer=customer).exists():
                    return "new"
                return len(customer.orders.all()) > 0
            """,
        ),
        Example(
            "rows_iterated_afterwards",
            """\
            from shop.models import Order


            def lines(customer):
                orders = Order.objects.filter(customer=customer)
                total = len(orders)
                return total, [o.pk for o in orders]
            """,
        ),
        Example(
            "list_argument",
            """\
            def size(items):
                values = [1, 2, 3]
                return len(values)
            """,
        ),
        Example(
            "manager",
            """\
            from shop.models import Order


            def broken():
                return len(Order.objects)
            """,
        ),
        Example(
            "raw_queryset",
            """\
            from shop.models import Order


            def raw_count():
                return len(Order.objects.raw("SELECT * FROM shop_order"))
            """,
        ),
        Example(
            "suppressed",
            """\
            from shop.models import Order


            def count():
                return len(Order.objects.all())  # qsfix: ignore[QS002]
            """,
        ),
    ),
    visitor=CountForLen,
)
CountForLen.info = INFO
