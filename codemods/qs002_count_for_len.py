"""QS002 count-for-len: `len(qs)` -> `qs.count()`.

`len()` on a QuerySet fetches every row and builds every model instance only to count them;
`count()` asks the database for `SELECT COUNT(*)`. When the rows are used afterwards, `len()`
is the right call (the rows are fetched once and cached), and the pass leaves it alone.

Django docs: https://docs.djangoproject.com/en/stable/ref/models/querysets/#count
"""

from __future__ import annotations

import ast
from typing import Optional


from .base import Example, Pass, PassInfo
from .suppression import deliberate_rule
from .rewrite import cst, first_arg, method_call, negated


# `len(qs) <op> N` that only asks "is there a row?": (operator, number, len on the left) -> negated
EMPTINESS = {
    (ast.Eq, 0, True): True, (ast.Lt, 1, True): True, (ast.LtE, 0, True): True,
    (ast.NotEq, 0, True): False, (ast.Gt, 0, True): False, (ast.GtE, 1, True): False,
    (ast.Eq, 0, False): True, (ast.Gt, 1, False): True, (ast.GtE, 0, False): True,
    (ast.NotEq, 0, False): False, (ast.Lt, 0, False): False, (ast.LtE, 1, False): False,
}


def emptiness_test(comparison: Optional[ast.AST], call: ast.Call) -> Optional[bool]:
    """For `len(qs) == 0`-like comparisons: True if it tests emptiness, False if it tests
    non-emptiness, None if it is another comparison."""
    if not isinstance(comparison, ast.Compare) or len(comparison.ops) != 1:
        return None
    if comparison.left is call:
        other, left = comparison.comparators[0], True
    elif comparison.comparators[0] is call:
        other, left = comparison.left, False
    else:
        return None
    if not (isinstance(other, ast.Constant) and type(other.value) is int and other.value in (0, 1)):
        return None
    return EMPTINESS.get((type(comparison.ops[0]), other.value, left))


def truth_tested(parent: Optional[ast.AST], node: ast.AST) -> bool:
    """`if len(qs):`, `while len(qs):`, `not len(qs)`: only the truth of the value is used."""
    if isinstance(parent, (ast.If, ast.While, ast.Assert, ast.IfExp)):
        return parent.test is node
    if isinstance(parent, ast.comprehension):
        return node in parent.ifs
    return isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)


class CountForLen(Pass):
    def visit_Call(self, node: ast.Call) -> None:
        analysis = self.analysis
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            return
        if not analysis.is_builtin(node.func, "len"):
            return
        arg = node.args[0]
        parent = analysis.parents.get(node)
        empty = emptiness_test(parent, node)
        method = "exists" if empty is not None or truth_tested(parent, node) else "count"
        verdict = analysis.judge_receiver(arg, node, method)
        if not verdict.report:
            return
        code = analysis.quote(arg)
        if method == "count":
            message = f"`len({code})` fetches every row to count them; use `.count()`"
        else:
            message = f"`len({code})` fetches every row to learn whether there is one; use `.exists()`"
        if verdict.skip:
            # only what the site is: the advice would contradict the reason (`a RawQuerySet
            # has no .count()`, `a comment says the evaluation is deliberate`)
            self.report(node, f"`len({code})`", skip=verdict.skip)
            return
        if analysis.has_comment_around(node, arg):
            self.report(node, message, skip="a comment inside `len(...)` would be lost", unless=verdict.unless)
            return
        if empty is not None:
            if analysis.has_comment_around(parent, node) or analysis.has_comment_around(
                parent, parent.comparators[0] if parent.left is node else parent.left
            ):
                self.report(node, message, skip="a comment inside the comparison would be lost", unless=verdict.unless)
                return
            title = f"Replace with `{'not ' if empty else ''}{code}.exists()`"
            edits = [(parent, _emptiness_rewrite(len_on_left=parent.left is node, empty=empty))]
        else:
            title = f"Replace with `{code}.{method}()`"
            edits = [(node, lambda original, updated: method_call(first_arg(updated), method))]
        self.report(
            node, message, fix_title=title, edits=edits, unsafe_because=verdict.unsafe,
            requires=verdict.requires, unless=verdict.unless,
        )


def _emptiness_rewrite(len_on_left: bool, empty: bool):
    def rewrite(original: cst.CSTNode, updated: cst.Comparison) -> cst.BaseExpression:
        # the len() call inside may itself have been updated by an earlier pass
        call = updated.left if len_on_left else updated.comparisons[0].comparator
        exists = method_call(first_arg(call), "exists")
        if not empty:
            return exists.with_changes(lpar=updated.lpar, rpar=updated.rpar)
        return negated(exists, like=updated)

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
        + " "
        + deliberate_rule("QS002")
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
    runs_after=("QS003",),  # it rewrites inside what QS003 and QS004 moved
)
CountForLen.info = INFO
