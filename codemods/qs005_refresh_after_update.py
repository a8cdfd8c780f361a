"""QS005 refresh-after-update: an instance whose own row was changed through a QuerySet
`update()` is stale; reading the updated fields or calling `save()` afterwards uses (and
writes back) the old values.

`M.objects.filter(pk=obj.pk).update(views=F("views") + 1)` runs SQL; the Python object `obj`
still holds the values it was read with. Reading `obj.views` after it gives the old number,
and `obj.save()` writes every field back, undoing the update. The fix reloads the updated
fields right after the update: `obj.refresh_from_db(fields=["views"])`.

Django docs: https://docs.djangoproject.com/en/stable/ref/models/querysets/#update and
https://docs.djangoproject.com/en/stable/ref/models/instances/#refreshing-objects-from-database
"""

from __future__ import annotations

import ast
from typing import Optional

from . import instance_flow as flow
from .base import Example, Pass, PassInfo
from .kinds import MANAGER, QUERYSET, UNKNOWN

PK_LOOKUPS = frozenset({"pk", "id", "pk__exact", "id__exact"})
PK_IN_LOOKUPS = frozenset({"pk__in", "id__in"})
# QuerySet steps between the manager and `update()` that keep "these rows, or fewer"
NARROWING = frozenset({"filter", "all"})


def pk_of(expr: ast.AST) -> Optional[ast.Name]:
    """`obj.pk` / `obj.id` -> the Name `obj`."""
    if isinstance(expr, ast.Attribute) and expr.attr in ("pk", "id") and isinstance(expr.value, ast.Name):
        return expr.value
    return None


def targeted_instance(call: ast.Call) -> Optional[ast.Name]:
    """The instance whose row `.filter(pk=obj.pk)` (or `id=`, `pk__in=[obj.pk]`) selects."""
    for kw in call.keywords:
        if kw.arg in PK_LOOKUPS:
            name = pk_of(kw.value)
        elif (kw.arg in PK_IN_LOOKUPS and isinstance(kw.value, (ast.List, ast.Tuple, ast.Set))
              and len(kw.value.elts) == 1):
            name = pk_of(kw.value.elts[0])
        else:
            continue
        if name is not None:
            return name
    return None


def own_value(kw: ast.keyword, obj: ast.Name) -> bool:
    value = kw.value
    return (
        isinstance(value, ast.Attribute) and value.attr == kw.arg
        and isinstance(value.value, ast.Name) and value.value.id == obj.id
    )


class RefreshAfterUpdate(Pass):
    def __init__(self, analysis, options):
        super().__init__(analysis, options)
        self.skipped_file = flow.skips_file(analysis)

    @property
    def idle(self) -> bool:
        return self.skipped_file or "update" not in self.analysis.text

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "update"):
            return
        if node.args or not node.keywords or any(kw.arg is None for kw in node.keywords):
            return
        target = self.updated_instance(func.value)
        if target is None:
            return
        obj, model = target
        function = flow.enclosing_function(self.analysis, node)
        statement = self.analysis.statement_of(node)
        if function is None or not flow.in_same_function(self.analysis, statement, function):
            return
        # `update(name=obj.name)` writes what the instance already holds: not stale
        fields = [kw.arg for kw in node.keywords if not own_value(kw, obj)]
        if not fields:
            return
        stale_use = self.first_stale_use(node, obj, function, statement, set(fields))
        if stale_use is not None:
            self.report_stale(node, statement, obj, fields, stale_use)

    def updated_instance(self, receiver: ast.AST) -> Optional[tuple[ast.Name, str]]:
        """(obj, model) when `receiver` is `<manager>.filter(pk=obj.pk)...` of obj's model."""
        analysis = self.analysis
        obj = None
        current = receiver
        while isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
            if current.func.attr not in NARROWING:
                return None
            found = targeted_instance(current)
            if found is not None:
                if obj is not None and found.id != obj.id:
                    return None
                obj = found
            current = current.func.value
        if obj is None:
            return None
        manager = analysis.type_of(current)
        if manager.kind not in (MANAGER, QUERYSET) or not manager.model or manager.confidence <= UNKNOWN:
            return None
        model = flow.instance_model(analysis, obj, allow_self=True)
        if model is None or not flow.same_row_models(analysis, model, manager.model):
            return None
        return obj, model

    def first_stale_use(self, call: ast.Call, obj: ast.Name, function: ast.AST, statement: ast.stmt,
                        stale: set[str]) -> Optional[tuple[ast.Name, str]]:
        """The first mention of `obj` after the update that reads an updated field or saves
        them back: (mention, "read"/"save")."""
        analysis = self.analysis
        after = flow.end_position(call)
        for mention in flow.mentions(analysis, obj, function):
            if flow.position(mention) < after or not flow.runs_after_call(analysis, call, statement, mention):
                continue
            use, attr = flow.use_of(analysis, mention)
            if use == "read" and attr in stale:
                return mention, "read"
            if use == "store":
                stale.discard(attr)
            elif use == "call" and attr == "save":
                call = flow.call_of(analysis, mention)
                only = flow.literal_strings(getattr(flow.keyword(call, "update_fields"), "value", None))
                if only is None and flow.keyword(call, "update_fields") is None and not call.args:
                    return mention, "save"
                if only is not None and stale & set(only):
                    return mention, "save"
                if only is None:
                    return None  # fields we cannot read
            elif use == "call" and attr == "refresh_from_db":
                call = flow.call_of(analysis, mention)
                fields = flow.literal_strings(getattr(flow.keyword(call, "fields"), "value", None))
                if fields is None:
                    return None
                stale -= set(fields)
            elif use in ("rebind", "other", "call"):
                return None  # passed on, bound again, or a method that may reload it
            if not stale:
                return None
        return None

    def report_stale(self, call: ast.Call, statement: ast.stmt, obj: ast.Name,
                     fields: list[str], stale_use: tuple[ast.Name, str]) -> None:
        analysis = self.analysis
        mention, kind = stale_use
        listed = ", ".join(f"`{f}`" for f in fields)
        if kind == "read":
            attr = analysis.parents[mention].attr
            what = f"`{obj.id}.{attr}` is read on line {mention.lineno}: it is the value from before the update"
        else:
            what = f"`{obj.id}.save()` on line {mention.lineno} writes the old values back (a lost update)"
        message = (
            f"`{obj.id}`'s own row is updated on line {call.lineno} ({listed}), but the instance "
            f"still holds the old values; {what}"
        )
        read = self.read_line(obj)
        if read is not None:
            message += f" (`{obj.id}` is from line {read})"
        quoted = ", ".join(f'"{f}"' for f in fields)
        refresh = f"{obj.id}.refresh_from_db(fields=[{quoted}])"
        if not flow.lone_statement(analysis, statement):
            self.report(call, message + f"; reload with `{refresh}` after the update")
            return
        self.report(
            call,
            message,
            fix_title=f"Add `{refresh}` after the update",
            edits=[(statement, flow.statements_after([refresh]))],
            unsafe_because="one more query, and the reloaded values include other writers' changes",
        )

    def read_line(self, obj: ast.Name) -> Optional[int]:
        bindings = self.analysis.local_bindings(obj) or []
        assigned = [b for b in bindings if b.kind == "assign"]
        return assigned[0].node.lineno if len(assigned) == 1 and hasattr(assigned[0].node, "lineno") else None


INFO = PassInfo(
    code="QS005",
    name="refresh-after-update",
    summary="an instance read after `M.objects.filter(pk=obj.pk).update(...)` is stale -> `obj.refresh_from_db(fields=[...])`",
    safety="unsafe",
    what=(
        "Finds a model instance whose own row is changed through a QuerySet — "
        "`M.objects.filter(pk=obj.pk).update(...)`, also with `id=`, `pk__in=[obj.pk]` or "
        "more filters — and which is used afterwards in the same function: an updated field "
        "is read, or `obj.save()` is called. It adds `obj.refresh_from_db(fields=[...])` "
        "with the updated fields right after the update."
    ),
    why=(
        "`update()` runs SQL and changes nothing in Python: the instance still holds the "
        "values it was read with. A read of an updated field gets the old value, and "
        "`obj.save()` writes every field back, which silently undoes the update (a lost "
        "update: a counter bumped with `F()` goes back to its old number). The instance must "
        "be reloaded, or the update made through the instance."
    ),
    fix_safety=(
        "Unsafe: the reload costs a query, and it also brings in what other writers changed "
        "in those fields meanwhile (which is usually the point). Reported only when the "
        "updated QuerySet provably selects the instance's row (a primary-key filter on the "
        "instance's model or a concrete parent of it) and the instance is used on a path "
        "after the update; nothing is reported once the instance is passed elsewhere, bound "
        "again or reloaded, nor in tests. When the update is not a statement of its own, the "
        "finding is a diagnostic without a fix."
    ),
    references=(
        "https://docs.djangoproject.com/en/stable/ref/models/querysets/#update",
        "https://docs.djangoproject.com/en/stable/ref/models/instances/#refreshing-objects-from-database",
    ),
    examples=(
        Example(
            "save_after_update",
            """\
            from shop.models import Order


            def close(order_id):
                order = Order.objects.get(pk=order_id)
                Order.objects.filter(pk=order.pk).update(status="closed")
                order.created = order.created.replace(microsecond=0)
                order.save()
            """,
            """\
            from shop.models import Order


            def close(order_id):
                order = Order.objects.get(pk=order_id)
                Order.objects.filter(pk=order.pk).update(status="closed")
                order.refresh_from_db(fields=["status"])
                order.created = order.created.replace(microsecond=0)
                order.save()
            """,
            unsafe=True,
        ),
        Example(
            "read_after_update",
            """\
            from shop.models import Order


            def mark(order_id):
                order = Order.objects.get(pk=order_id)
                Order.objects.filter(id=order.id).update(status="seen")
                return order.status
            """,
            """\
            from shop.models import Order


            def mark(order_id):
                order = Order.objects.get(pk=order_id)
                Order.objects.filter(id=order.id).update(status="seen")
                order.refresh_from_db(fields=["status"])
                return order.status
            """,
            unsafe=True,
        ),
        Example(
            "update_inside_a_condition_is_a_diagnostic",
            """\
            from shop.models import Order


            def claim(order_id):
                order = Order.objects.get(pk=order_id)
                if Order.objects.filter(pk=order.pk, status="open").update(status="claimed"):
                    return order.status
                return None
            """,
        ),
        Example(
            "field_assigned_after_update",
            """\
            from shop.models import Order


            def close(order_id):
                order = Order.objects.get(pk=order_id)
                Order.objects.filter(pk=order.pk).update(status="closed")
                order.status = "closed"
                return order.status
            """,
        ),
        Example(
            "other_row_updated",
            """\
            from shop.models import Customer, Order


            def close(order_id, customer):
                order = Order.objects.get(pk=order_id)
                Customer.objects.filter(pk=order.pk).update(name="x")
                order.save()
            """,
        ),
    ),
    visitor=RefreshAfterUpdate,
    options=(flow.CHECK_TESTS_OPTION,),
)
RefreshAfterUpdate.info = INFO
