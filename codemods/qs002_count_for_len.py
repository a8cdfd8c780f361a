"""QS002 count-for-len: `len(qs)` -> `qs.count()`.

`len()` on a QuerySet fetches every row and builds every model instance only to count them;
`count()` asks the database for `SELECT COUNT(*)`. When the rows are used afterwards, `len()`
is the right call (the rows are fetched once and cached), and the pass leaves it alone.

Django docs: https://docs.djangoproject.com/en/stable/ref/models/querysets/#count
"""

from __future__ import annotations

import libcst as cst

from .analysis import has_comment, method_call
from .base import Example, Pass, PassInfo


class CountForLen(Pass):
    def visit_Call(self, node: cst.Call) -> None:
        analysis = self.analysis
        if not analysis.is_builtin(node.func, "len"):
            return
        if len(node.args) != 1 or node.args[0].keyword or node.args[0].star:
            return
        arg = node.args[0].value
        verdict = analysis.judge_receiver(arg, node, "count")
        if not verdict.report:
            return
        code = analysis.code(arg)
        message = f"`len({code})` fetches every row to count them; use `.count()`"
        if verdict.skip:
            self.report(node, message, skip=verdict.skip)
            return
        if has_comment(node.with_changes(args=[])) or has_comment(node.args[0].with_changes(value=cst.Name("x"))):
            self.report(node, message, skip="a comment inside `len(...)` would be lost")
            return
        self.report(
            node,
            message,
            fix_title=f"Replace with `{code}.count()`",
            edits=[(node, lambda original, updated: method_call(updated.args[0].value, "count"))],
            unsafe_because=verdict.unsafe,
        )


INFO = PassInfo(
    code="QS002",
    name="count-for-len",
    summary="`len(qs)` on a QuerySet whose rows are not used -> `qs.count()`",
    safety="safe or unsafe",
    what="Finds `len()` of a QuerySet and rewrites it to `.count()`.",
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
