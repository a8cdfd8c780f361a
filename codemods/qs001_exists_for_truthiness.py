"""QS001 exists-for-truthiness: `if qs:` / `not qs` / `bool(qs)` -> `qs.exists()`.

Testing a QuerySet's truth fetches every matching row; `exists()` asks the database for at
most one. When the rows are used afterwards, the truth test is the right call (the rows are
fetched once and cached), and the pass leaves it alone.

Django docs: https://docs.djangoproject.com/en/stable/ref/models/querysets/#exists
"""

from __future__ import annotations

from typing import Iterator

import ast

from .base import Example, Pass, PassInfo
from .suppression import deliberate_rule
from .rewrite import first_arg, method_call


def truth_tested(expr: ast.AST) -> Iterator[ast.AST]:
    """The operands whose truth is tested when `expr` sits in a boolean context.
    In `if a and (b or c):` that is a, b and c; `not x` is handled at its own node."""
    if isinstance(expr, ast.BoolOp):
        for value in expr.values:
            yield from truth_tested(value)
    else:
        yield expr


class ExistsForTruthiness(Pass):
    def visit_If(self, node: ast.If) -> None:
        self.boolean_context(node.test)

    visit_While = visit_If
    visit_IfExp = visit_If
    visit_Assert = visit_If

    def visit_comprehension(self, node: ast.comprehension) -> None:
        for condition in node.ifs:
            self.boolean_context(condition)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self.boolean_context(node.operand)

    def visit_Call(self, node: ast.Call) -> None:
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            return
        if not self.analysis.is_builtin(node.func, "bool"):
            return
        arg = node.args[0]
        for operand in truth_tested(arg):
            self.check(operand, replace=node if operand is arg else operand)

    def boolean_context(self, test: ast.AST) -> None:
        for operand in truth_tested(test):
            self.check(operand, replace=operand)

    def check(self, expr: ast.AST, replace: ast.AST) -> None:
        """`expr` is truth-tested; `replace` is the node that becomes `expr.exists()`
        (`expr` itself, or the whole `bool(expr)` call)."""
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            return  # `not x` is visited on its own
        analysis = self.analysis
        verdict = analysis.judge_receiver(expr, replace, "exists")
        if not verdict.report:
            return
        code = analysis.quote(expr)
        message = f"testing the truth of `{code}` fetches every row; use `.exists()`"
        if verdict.skip:
            # only what the site is: the advice would contradict the reason (`a Manager, not
            # a QuerySet`, `a comment says the evaluation is deliberate`)
            self.report(expr, f"testing the truth of `{code}`", skip=verdict.skip)
            return
        if replace is not expr:
            if analysis.has_comment_around(replace, expr):
                self.report(expr, message, skip="a comment inside `bool(...)` would be lost", unless=verdict.unless)
                return
            rewrite = lambda original, updated: method_call(first_arg(updated), "exists")  # noqa: E731
        else:
            rewrite = lambda original, updated: method_call(updated, "exists")  # noqa: E731
        self.report(
            expr,
            message,
            fix_title=f"Replace with `{code}.exists()`",
            edits=[(replace, rewrite)],
            unsafe_because=verdict.unsafe,
            requires=verdict.requires,
            unless=verdict.unless,
        )


INFO = PassInfo(
    code="QS001",
    name="exists-for-truthiness",
    summary="`if qs:` / `not qs` / `bool(qs)` on a QuerySet whose rows are not used -> `qs.exists()`",
    safety="safe or unsafe",
    what=(
        "Finds QuerySets whose truth is tested — `if qs:`, `elif`, `while`, `not qs`, "
        "`bool(qs)`, `assert qs`, conditional expressions, comprehension conditions, and the "
        "operands of `and`/`or` in those places — and rewrites the test to `qs.exists()`."
        + " "
        + deliberate_rule("QS001")
    ),
    why=(
        "Testing a QuerySet's truth evaluates it: every matching row is fetched and turned into "
        "a model instance, just to learn whether there was one. `qs.exists()` runs a query "
        "that stops at the first row. Where the rows are used afterwards, the truth test has "
        "already cached them and is the better choice (Django's docs say so); such sites are "
        "left alone unless `--unsafe` is given. `x = qs or default` is never touched: the value "
        "is used, not only its truth."
    ),
    fix_safety=(
        "Safe when the expression is a QuerySet beyond doubt and no other code reads its rows "
        "or its result cache. Unsafe when it is only likely a QuerySet, or its rows are used "
        "elsewhere (then `.exists()` adds a query). A Manager (always true, no query) and a "
        "RawQuerySet (no `.exists()`) are never rewritten."
    ),
    references=(
        "https://docs.djangoproject.com/en/stable/ref/models/querysets/#exists",
        "https://docs.djangoproject.com/en/stable/topics/db/optimization/#don-t-overuse-count-and-exists",
    ),
    examples=(
        Example(
            "if_temporary",
            """\
            from shop.models import Order


            def has_open_orders(customer):
                if Order.objects.filter(customer=customer, status="open"):
                    return True
                return False
            """,
            """\
            from shop.models import Order


            def has_open_orders(customer):
                if Order.objects.filter(customer=customer, status="open").exists():
                    return True
                return False
            """,
        ),
        Example(
            "not_and_bool",
            """\
            from shop.models import Customer


            def is_new(name):
                flag = bool(Customer.objects.filter(name=name))
                return not Customer.objects.filter(name=name), flag
            """,
            """\
            from shop.models import Customer


            def is_new(name):
                flag = Customer.objects.filter(name=name).exists()
                return not Customer.objects.filter(name=name).exists(), flag
            """,
        ),
        Example(
            "rows_iterated_after_test",
            """\
            from shop.models import Order


            def names(customer):
                orders = Order.objects.filter(customer=customer)
                if orders:
                    return [o.status for o in orders]
                return []
            """,
        ),
        Example(
            "value_of_or_is_used",
            """\
            from shop.models import Order


            def pick(default):
                return Order.objects.filter(status="open") or default
            """,
        ),
        Example(
            "manager_is_always_true",
            """\
            from shop.models import Order


            def enabled():
                if Order.objects:
                    return True
            """,
        ),
    ),
    visitor=ExistsForTruthiness,
    runs_after=("QS003",),  # it rewrites inside what QS003 and QS004 moved
)
ExistsForTruthiness.info = INFO
