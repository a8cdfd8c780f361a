"""QS007 select-for-update-outside-transaction: a row lock that is never held.

`select_for_update()` locks rows until the transaction ends. With no transaction open (Django's
autocommit), Django raises `TransactionManagementError` on the backends that lock (PostgreSQL,
MySQL, Oracle: `features.has_select_for_update`), and SQLite and tests inside `TestCase` (a
transaction per test) never show it: tests pass, production fails. And some chains never take
the lock at all: `update()`, `delete()`, `count()` and `aggregate()` build queries without
`FOR UPDATE`, and a QuerySet that is never evaluated runs no query.

A diagnostic: the fix (where the transaction starts and ends) is the author's to choose.

Django source: django/db/models/sql/compiler.py (`SQLCompiler.as_sql`), django/db/models/sql/
query.py (`get_aggregation` clears `select_for_update`), django/db/models/query.py (`delete`).
"""

from __future__ import annotations

import ast
from typing import Optional

from . import instance_flow as flow
from .base import Example, Pass, PassInfo
from .instance_flow import is_test_path
from .querysets import MANAGER, QUERYSET, QUERYSET_BUILDERS, UNKNOWN

# Test files are left alone unless --check-tests (`TestCase` wraps every test in a
# transaction, so a lock there is always held); callers in tests never count.

ATOMIC = "django.db.transaction.atomic"
NON_ATOMIC_REQUESTS = "django.db.transaction.non_atomic_requests"
# Decorators known not to open a transaction (anything else might: no finding under it).
NEUTRAL_DECORATOR_PREFIXES = ("django.", "rest_framework.", "builtins.")
NEUTRAL_DECORATORS = frozenset({"staticmethod", "classmethod", "property", "?staticmethod", "?classmethod"})
# What Django (and DRF) call on a class-based view during a request.
VIEW_HANDLERS = frozenset(
    """get post put patch delete head options dispatch list create retrieve update
    partial_update destroy perform_create perform_update perform_destroy form_valid""".split()
)
# Methods after select_for_update() whose query carries no FOR UPDATE.
LOCK_DROPPED = {
    "update": "`update()` runs an UPDATE without FOR UPDATE (the UPDATE itself locks the rows it changes)",
    "delete": "`delete()` drops `select_for_update` from its query (the DELETE itself locks the rows)",
    "count": "`count()` runs an aggregate query, which Django builds without FOR UPDATE",
    "aggregate": "`aggregate()` runs an aggregate query, which Django builds without FOR UPDATE",
}
# Methods that run the locking query at once.
EVALUATING_METHODS = frozenset(
    "get first last latest earliest get_or_create in_bulk iterator exists contains".split()
)
EVALUATING_BUILTINS = frozenset({"list", "tuple", "set", "len", "bool", "sorted", "next", "iter"})
MAX_CALLER_DEPTH = 8


class SelectForUpdateOutsideTransaction(Pass):
    @property
    def idle(self) -> bool:
        if flow.skips_file(self.analysis):
            return True
        return "select_for_update" not in self.analysis.text

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "select_for_update"):
            return
        receiver = self.analysis.type_of(func.value)
        if receiver.kind not in (QUERYSET, MANAGER) or receiver.confidence <= UNKNOWN:
            return
        outer, methods = self.chain_after(node)
        for method in methods:
            if method in LOCK_DROPPED:
                self.report(
                    node,
                    f"`select_for_update()` takes no lock here: {LOCK_DROPPED[method]}; lock the "
                    "rows with a query that is evaluated (`list(...)`, `.get()`) inside "
                    "`transaction.atomic()`, or drop `select_for_update()`",
                )
                return
            if method not in QUERYSET_BUILDERS:
                break
        evaluation = self.evaluation_of(outer, methods)
        if evaluation == "never":
            self.report(
                node,
                "`select_for_update()` takes no lock here: the QuerySet is never evaluated, so "
                "no query runs; evaluate it (`list(...)`, `.get()`) inside `transaction.atomic()`",
            )
        elif evaluation is not None:
            self.check_transaction(node, evaluation)

    def chain_after(self, node: ast.AST) -> tuple[ast.AST, list[str]]:
        """The whole chain the call (or a name) starts (`M.objects.select_for_update().filter().get()`)
        and the methods called after it, in order (`[i]` for an index)."""
        parents = self.analysis.parents
        current: ast.AST = node
        methods: list[str] = []
        while True:
            parent = parents.get(current)
            grand = parents.get(parent)
            if isinstance(parent, ast.Attribute) and isinstance(grand, ast.Call) and grand.func is parent:
                methods.append(parent.attr)
                current = grand
            elif isinstance(parent, ast.Subscript) and parent.value is current:
                methods.append("[i]")
                current = parent
            else:
                return current, methods

    def evaluation_of(self, outer: ast.AST, methods: list[str]) -> Optional[ast.AST] | str:
        """Where the locking query runs: a node of this function, "never", or None (elsewhere
        or not known)."""
        for method in methods:
            if method == "[i]" or method in EVALUATING_METHODS:
                return outer
            if method not in QUERYSET_BUILDERS:
                return None
        analysis = self.analysis
        parent = analysis.parents.get(outer)
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is outer:
            return outer
        if isinstance(parent, ast.Call) and parent.args and parent.args[0] is outer:
            if any(analysis.is_builtin(parent.func, name) for name in EVALUATING_BUILTINS):
                return outer
            return None
        if isinstance(parent, ast.Expr):
            return None if self.expects_an_error(parent) else "never"
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
            return self.evaluation_of_local(parent.targets[0])
        return None

    def expects_an_error(self, statement: ast.AST) -> bool:
        """A bare chain inside `try:` or `with` (`assertRaises`): written for what building it
        raises (`select_for_update(nowait=True, skip_locked=True)`), not for a lock."""
        for ancestor in self.analysis.scopes.ancestors(statement):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return False
            if isinstance(ancestor, (ast.Try, ast.With, ast.AsyncWith)) or type(ancestor).__name__ == "TryStar":
                return True
        return False

    def evaluation_of_local(self, target: ast.Name) -> Optional[ast.AST] | str:
        """`qs = ...select_for_update()...`: never read ("never"), or the first read that
        evaluates it when every read does (iterated, `list(qs)`, `qs.get()`, `qs[0]`)."""
        analysis = self.analysis
        bindings = analysis.local_bindings(target)
        if bindings is None or len(bindings) != 1:
            return None
        scope = analysis.scopes.binding_scope(target)
        reads = sorted(analysis.scopes.references(scope, target.id), key=lambda n: (n.lineno, n.col_offset))
        if not reads:
            return "never"
        evaluations = []
        for read in reads:
            if analysis.scopes.scope(read) is not scope:
                return None  # read in a nested function: run who knows where
            outer, methods = self.chain_after(read)
            evaluation = self.evaluation_of(outer, methods)
            if evaluation is None or evaluation == "never":
                return None
            evaluations.append(evaluation)
        return evaluations[0]

    # -- is a transaction open? ------------------------------------------------------------
    def check_transaction(self, node: ast.Call, evaluation: ast.AST) -> None:
        where = self.enclosing_function(evaluation)
        if where is None:
            return
        function, key = where
        how = uncovered(self.analysis.index, self.analysis.summary.module, key, set())
        if how is None:
            return
        line = self.analysis.statement_of(evaluation).lineno
        name = key.rpartition(".")[2]
        self.report(
            node,
            f"`select_for_update()` is evaluated on line {line} with no transaction open "
            f"({how}): Django raises TransactionManagementError on PostgreSQL, MySQL and "
            "Oracle, while SQLite and tests in a TestCase never show it; put lines "
            f"{line}-{function.end_lineno} (the locking read to the last write of the rows) in "
            f"`with transaction.atomic():`, or decorate `{name}` with `@transaction.atomic`",
        )

    def enclosing_function(self, node: ast.AST) -> Optional[tuple[ast.AST, str]]:
        """The module-level function or method holding `node`, and its key ("f" / "C.m"),
        when no `with` around `node` may open a transaction; None otherwise."""
        analysis = self.analysis
        for ancestor in analysis.scopes.ancestors(node):
            if isinstance(ancestor, (ast.With, ast.AsyncWith)):
                return None  # `atomic()`, or a context manager that may open a transaction
            if isinstance(ancestor, ast.Lambda):
                return None
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
                parent = analysis.parents.get(ancestor)
                if isinstance(parent, ast.Module):
                    return ancestor, ancestor.name
                if isinstance(parent, ast.ClassDef) and isinstance(analysis.parents.get(parent), ast.Module):
                    return ancestor, f"{parent.name}.{ancestor.name}"
                return None  # a nested function: its callers are not known
        return None


def uncovered(index, module: str, key: str, seen: set) -> Optional[str]:
    """How the function `key` of `module` certainly runs with no transaction open (a view
    Django calls outside ATOMIC_REQUESTS, or a call from such a function outside `atomic()`);
    None when it may run inside one, or its callers are not known."""
    if (module, key) in seen or len(seen) >= MAX_CALLER_DEPTH:
        return None
    seen.add((module, key))
    if module not in index.modules:
        return None
    summary = index.call_graph(module)
    facts = summary.function_facts.get(key)
    if facts is None:
        return None
    first_param, decorators = facts
    class_name, _, method = key.rpartition(".")
    if class_name and summary.function_facts.get(class_name, ("", ()))[1]:
        return None  # a class decorator (`method_decorator(atomic, name=...)`, or unknown)
    for decorator in decorators:
        if decorator == ATOMIC:
            return None
        if decorator not in NEUTRAL_DECORATORS and not decorator.startswith(NEUTRAL_DECORATOR_PREFIXES):
            return None  # a decorator the tool cannot see into may open a transaction
    sites = [s for s in index.call_sites(f"{module}.{key}") if not _in_tests(index, s[0])]
    for site_module, caller, line, atomic in sites:
        if atomic or caller in ("?", ""):
            continue
        how = uncovered(index, site_module, caller, seen)
        if how is not None:
            return f"called on line {line} of `{site_module}.{caller}`, {how}"
    if sites or not _is_view(index, module, key, first_param, class_name, method):
        return None
    if not _handed_only_to_django(index, f"{module}.{class_name or key}"):
        return None
    if NON_ATOMIC_REQUESTS in decorators:
        return f"`{key}` is a view excluded from ATOMIC_REQUESTS"
    if any(s.atomic_requests for s in index.modules.values()):
        return None
    return f"`{key}` is a view and ATOMIC_REQUESTS is not set"


def _handed_only_to_django(index, qualname: str) -> bool:
    """A view is passed only to Django's URL functions and to view decorators that open no
    transaction (`login_required(view)`); `atomic(view)` or anything unknown says no."""
    for site_module, receiver, _ in index.handed_over_sites(qualname):
        if _in_tests(index, site_module):
            continue
        if receiver == ATOMIC or not receiver.startswith(NEUTRAL_DECORATOR_PREFIXES):
            return False
    return True


def _in_tests(index, module: str) -> bool:
    return is_test_path(index.modules[module].path)


def _is_view(index, module: str, key: str, first_param: str, class_name: str, method: str) -> bool:
    """Called by Django for a request: a function taking `request` first, or a handler of a
    class-based view whose project classes do not override `dispatch()` around it."""
    if not class_name:
        return first_param == "request"
    qualname = f"{module}.{class_name}"
    if index.class_kind(qualname) != "view" or method not in VIEW_HANDLERS:
        return False
    for name in index.class_and_bases(qualname):
        cls = index.classes.get(name)
        if cls is not None and "dispatch" in cls.methods and method != "dispatch":
            return False
    return True


INFO = PassInfo(
    code="QS007",
    name="select-for-update-outside-transaction",
    summary="`select_for_update()` with no transaction open, or a lock that is never taken (diagnostic)",
    safety="none (diagnostic)",
    what=(
        "Finds `select_for_update()` on a QuerySet that is evaluated where no transaction can "
        "be open: not inside `with transaction.atomic()`, not in a function decorated "
        "`@transaction.atomic`, in a view Django calls without ATOMIC_REQUESTS, or in a "
        "function one of whose callers in the project is such a place (followed through "
        "the project's call graph). Also finds locks that are never taken: "
        "`select_for_update()` chained into `update()`, `delete()`, `count()` or "
        "`aggregate()`, and a locking QuerySet that is never evaluated."
    ),
    why=(
        "A row lock lasts until the transaction ends; in autocommit there is no transaction "
        "to hold it. Django raises `TransactionManagementError: select_for_update cannot be "
        "used outside of a transaction` on PostgreSQL, MySQL and Oracle, but SQLite has no "
        "row locks (`features.has_select_for_update` is False) and `TestCase` runs every "
        "test inside a transaction, so the test suite passes and production fails. A lock "
        "that is never taken leaves the race it was written to prevent."
    ),
    fix_safety=(
        "No fix: where the transaction starts and ends decides what the lock protects. The "
        "finding names the line of the locking read and the lines a `with "
        "transaction.atomic():` block would cover. Precision first: a site under any `with` "
        "or a decorator the tool cannot see into, in a nested function, in a function whose "
        "callers are all inside a transaction or not known, in a view a URLconf wraps in "
        "`atomic()` or hands to project code, or in a project that mentions ATOMIC_REQUESTS "
        "(for views) is not reported. Test files are skipped (`TestCase` holds a transaction)."
    ),
    references=(
        "https://docs.djangoproject.com/en/stable/ref/models/querysets/#select-for-update",
        "https://docs.djangoproject.com/en/stable/topics/db/transactions/#tying-transactions-to-http-requests",
    ),
    examples=(
        Example(
            "view_without_transaction",
            """\
            from shop.models import Order


            def ship(request, pk):
                order = Order.objects.select_for_update().get(pk=pk)
                order.status = "shipped"
                order.save()
            """,
            diagnostic=True,
        ),
        Example(
            "lock_dropped_by_update",
            """\
            from django.db import transaction

            from shop.models import Order


            @transaction.atomic
            def close_all():
                Order.objects.select_for_update().filter(status="open").update(status="closed")
            """,
            diagnostic=True,
        ),
        Example(
            "inside_atomic",
            """\
            from django.db import transaction

            from shop.models import Order


            def ship(request, pk):
                with transaction.atomic():
                    order = Order.objects.select_for_update().get(pk=pk)
                    order.status = "shipped"
                    order.save()
            """,
        ),
        Example(
            "every_caller_is_atomic",
            """\
            from django.db import transaction

            from shop.models import Order


            def lock(pk):
                return Order.objects.select_for_update().get(pk=pk)


            @transaction.atomic
            def ship(request, pk):
                order = lock(pk)
                order.status = "shipped"
                order.save()
            """,
        ),
    ),
    visitor=SelectForUpdateOutsideTransaction,
    options=(flow.CHECK_TESTS_OPTION,),
    # the callers of a function may be anywhere: a module naming select_for_update reads every module
    reads_whole_project=lambda index: {m.module for m in index.modules.values() if m.select_for_update},
)
SelectForUpdateOutsideTransaction.info = INFO
