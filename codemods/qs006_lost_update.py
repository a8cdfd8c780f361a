"""QS006 lost-update: `obj.f += 1; obj.save()` on an instance read from the database.

The new value is computed in Python from the value read earlier; a second request that
changed the row between the read and the save has its change overwritten. An `F()`
expression makes the database compute it: `obj.f = F("f") + 1` then `save()` runs
`UPDATE ... SET f = f + 1`.

Django docs: https://docs.djangoproject.com/en/stable/ref/models/expressions/#avoiding-race-conditions-using-f
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from . import instance_flow as flow
from .base import Example, Pass, PassInfo
from .rewrite import cst

OPERATORS = {ast.Add: "+", ast.Sub: "-"}
F_NAMES = frozenset({"django.db.models.F", "django.db.models.expressions.F"})
MODELS_MODULE = "django.db.models"
# a field whose value the database can compute from itself: not a relation, not a file
NUMERIC_FIELD_WORDS = ("IntegerField", "FloatField", "DecimalField", "DurationField", "MoneyField")
# optimistic locking: the save itself checks nothing changed (django-concurrency and the like)
VERSION_FIELD_WORDS = ("VersionField",)
ATOMIC_VALUE = (ast.Name, ast.Attribute, ast.Call, ast.Constant, ast.Subscript)


@dataclass
class Modification:
    statement: ast.stmt  # `obj.f += x` (AugAssign) or `obj.f = obj.f ± x` (Assign)
    target: ast.Attribute  # the `obj.f` assigned to
    field: str
    operator: str
    amount: ast.AST  # x
    own_read: Optional[ast.Attribute] = None  # the `obj.f` on the right of an Assign


@dataclass
class Group:
    """Read-modify-writes of one instance saved by one `save()`."""

    obj: ast.Name  # the name at the first modification
    function: ast.AST
    model: str
    modifications: list[Modification] = field(default_factory=list)


def read_modify_write(statement: ast.stmt) -> Optional[tuple[ast.Name, Modification]]:
    """`obj.f += x`, `obj.f -= x`, `obj.f = obj.f + x`, `obj.f = obj.f - x`."""
    if isinstance(statement, ast.AugAssign):
        target, op, amount, own = statement.target, type(statement.op), statement.value, None
    elif (isinstance(statement, ast.Assign) and len(statement.targets) == 1
          and isinstance(statement.value, ast.BinOp)):
        target, op, amount = statement.targets[0], type(statement.value.op), statement.value.right
        own = statement.value.left
        if not (isinstance(own, ast.Attribute) and isinstance(own.value, ast.Name)
                and isinstance(target, ast.Attribute) and own.attr == target.attr
                and isinstance(target.value, ast.Name) and own.value.id == target.value.id):
            return None
    else:
        return None
    if op not in OPERATORS or not isinstance(target, ast.Attribute) or not isinstance(target.value, ast.Name):
        return None
    obj = target.value
    for inner in ast.walk(amount):  # `obj.f += obj.f` is not "f plus a value"
        if (isinstance(inner, ast.Attribute) and inner.attr == target.attr
                and isinstance(inner.value, ast.Name) and inner.value.id == obj.id):
            return None
    return obj, Modification(statement, target, target.attr, OPERATORS[op], amount, own)


class LostUpdate(Pass):
    def __init__(self, analysis, options):
        super().__init__(analysis, options)
        self.skipped_file = flow.skips_file(analysis)
        self.groups: dict[tuple[int, str], Group] = {}

    @property
    def idle(self) -> bool:
        return self.skipped_file or "save" not in self.analysis.text

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.candidate(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.candidate(node)

    def candidate(self, statement: ast.stmt) -> None:
        found = read_modify_write(statement)
        if found is None:
            return
        obj, modification = found
        analysis = self.analysis
        function = flow.enclosing_function(analysis, statement)
        if function is None or isinstance(function, ast.Lambda):
            return
        model = self.read_from_database(obj, function, statement)
        if model is None or not self.computable_field(model, modification.field):
            return
        key = (id(function), obj.id)
        group = self.groups.setdefault(key, Group(obj, function, model))
        group.modifications.append(modification)

    def read_from_database(self, obj: ast.Name, function: ast.AST, statement: ast.stmt) -> Optional[str]:
        """The model of `obj` when it is one local name bound once in `function`, before
        `statement`, to an instance read from the database without a row lock."""
        analysis = self.analysis
        bindings = analysis.local_bindings(obj)
        if not bindings or len(bindings) != 1:
            return None
        if flow.enclosing_function(analysis, bindings[0].node) is not function:
            return None
        binding = bindings[0]
        model = flow.instance_model(analysis, obj)
        if model is None or self.locks_rows(function):
            return None
        if binding.kind == "loop":
            loop = analysis.parents.get(binding.node)
            while loop is not None and not isinstance(loop, (ast.For, ast.AsyncFor)):
                loop = analysis.parents.get(loop)
            if loop is None or not any(analysis.scopes.contains(s, statement) for s in loop.body):
                return None
            return model
        if binding.kind != "assign" or self.created_here(binding.value):
            return None
        read = analysis.statement_of(binding.node)
        return model if flow.runs_after(analysis, read, statement) else None

    def created_here(self, value: ast.AST) -> bool:
        """`M(...)` and `M.objects.create(...)` make a new row: nobody else can have it yet."""
        if not isinstance(value, ast.Call):
            return True  # not a read we can name
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr in ("create", "get_or_create", "update_or_create"):
            return True
        return self.analysis.type_of(func).kind == "model class"

    def locks_rows(self, function: ast.AST) -> bool:
        """A `select_for_update()` anywhere in the function: the author is locking; whether
        this row is locked the pass does not guess."""
        return any(
            isinstance(node, ast.Attribute) and node.attr == "select_for_update" for node in ast.walk(function)
        )

    def computable_field(self, model: str, name: str) -> bool:
        fields = flow.model_fields(self.analysis, model)
        if any(word in callee for callee in fields.values() for word in VERSION_FIELD_WORDS):
            return False
        if "version" in flow.model_attrs(self.analysis, model):
            return False
        callee = fields.get(name, "")
        return any(word in callee.rsplit(".", 1)[-1] for word in NUMERIC_FIELD_WORDS)

    def finish(self) -> None:
        for group in self.groups.values():
            self.judge(group)

    def judge(self, group: Group) -> None:
        analysis = self.analysis
        group.modifications.sort(key=lambda m: flow.position(m.statement))
        last = group.modifications[-1].statement
        fields = list(dict.fromkeys(m.field for m in group.modifications))
        mentions = flow.mentions(analysis, group.obj, group.function)
        save = None
        for mention in mentions:
            if flow.position(mention) <= flow.end_position(last):
                continue
            use, attr = flow.use_of(analysis, mention)
            if use == "call" and attr == "save" and flow.runs_after(analysis, last, mention):
                save = flow.call_of(analysis, mention)
                break
            if use == "rebind":
                return
        if save is None:
            return  # saved elsewhere, or not at all: nothing this pass can prove
        saved = self.saved_fields(save)
        if saved is not None and not set(fields) & set(saved):
            return
        if any(f in self.assigned_plainly(group, mentions, save) for f in fields):
            return  # the computed value is replaced by a value not derived from itself
        self.report_group(group, fields, save, mentions)

    def saved_fields(self, save: ast.Call) -> Optional[list[str]]:
        kw = flow.keyword(save, "update_fields")
        return None if kw is None else flow.literal_strings(kw.value) or []

    def assigned_plainly(self, group: Group, mentions: list[ast.Name], save: ast.Call) -> set[str]:
        """Fields given another value between the first modification and the save."""
        ours = {id(m.statement) for m in group.modifications}
        start, end = flow.position(group.modifications[0].statement), flow.position(save)
        plain = set()
        for mention in mentions:
            if start <= flow.position(mention) < end and flow.use_of(self.analysis, mention)[0] == "store":
                if id(self.analysis.statement_of(mention)) not in ours:
                    plain.add(self.analysis.parents[mention].attr)
        return plain

    def report_group(self, group: Group, fields: list[str], save: ast.Call, mentions: list[ast.Name]) -> None:
        analysis = self.analysis
        obj = group.obj.id
        first = group.modifications[0].statement
        binding = (analysis.local_bindings(group.obj) or [None])[0]
        read_line = getattr(binding.node, "lineno", None) if binding is not None else None
        listed = ", ".join(f"`{obj}.{f}`" for f in fields)
        lines = ", ".join(str(m.statement.lineno) for m in group.modifications)
        changed = f"line {lines}" if len(group.modifications) == 1 else f"lines {lines}"
        message = (
            f"{listed} {'is' if len(fields) == 1 else 'are'} computed in Python from the value "
            f"read on line {read_line} "
            f"(changed on {changed}) and saved on line {save.lineno}: a change another "
            f"request makes in between is lost; let the database compute it with `F()`"
        )
        blocker = self.fix_blocker(group, fields, save, mentions)
        if blocker:
            self.report(first, f"{message} ({blocker})")
            return
        f_name = self.f_name(group.function)
        if f_name is None:
            self.report(first, f"{message} (`F` cannot be imported here: the name is taken)")
            return
        name, import_edit = f_name
        edits = [(m.statement if m.own_read is None else m.own_read, self.modification_rewrite(m, name))
                 for m in group.modifications]
        update_fields = self.update_fields(group, fields, save, mentions)
        if update_fields is not None:
            edits.append((save, add_keyword("update_fields", update_fields)))
        after_save = [m for m in mentions if flow.position(m) > flow.end_position(save)
                      and flow.runs_after(analysis, analysis.statement_of(save), m)]
        if after_save:
            quoted = ", ".join(f'"{f}"' for f in fields)
            refresh = f"{obj}.refresh_from_db(fields=[{quoted}])"
            edits.append((analysis.statement_of(save), flow.statements_after([refresh])))
        if import_edit is not None:
            edits.append(import_edit)
        because = (
            "until it is reloaded the instance holds an `F()` expression, which an overridden "
            "`save()` or a signal receiver reading the field sees"
        )
        if update_fields is not None:
            because += "; `save()` now writes only the fields this function assigns"
        self.report(first, message, fix_title=f"Compute {listed} in the database with `F()`",
                    edits=edits, unsafe_because=because)

    def fix_blocker(self, group: Group, fields: list[str], save: ast.Call,
                    mentions: list[ast.Name]) -> Optional[str]:
        """Why an `F()` rewrite would change what the code does, if it would."""
        analysis = self.analysis
        first = group.modifications[0].statement
        ours = {id(m.target.value) for m in group.modifications}
        ours |= {id(m.own_read.value) for m in group.modifications if m.own_read is not None}
        save_statement = analysis.statement_of(save)
        for mention in mentions:
            if not flow.position(first) <= flow.position(mention) < flow.position(save):
                continue
            if id(mention) in ours:
                continue
            use, attr = flow.use_of(analysis, mention)
            if use == "store" or (use == "read" and attr not in fields):
                continue
            return (
                f"no fix: `{group.obj.id}` is used on line {mention.lineno} before the save, "
                "where an `F()` would not be a number"
            )
        if save.args or any(k.arg is None for k in save.keywords):
            return "no fix: `save()` takes arguments the pass does not read"
        if not flow.lone_statement(analysis, save_statement) and any(
            flow.position(m) > flow.end_position(save) for m in mentions
        ):
            return "no fix: the instance is used after a `save()` that is not a statement of its own"
        return None

    def update_fields(self, group: Group, fields: list[str], save: ast.Call,
                      mentions: list[ast.Name]) -> Optional[list[str]]:
        """The fields for `save(update_fields=...)`: every field the function assigns between
        the read and the save, when they are all known fields and nothing else touches the
        instance; None to leave `save()` as it is."""
        analysis = self.analysis
        if flow.keyword(save, "update_fields") is not None:
            return None
        known = flow.model_fields(analysis, group.model)
        read = {id(b.node) for b in analysis.local_bindings(group.obj) or []}
        assigned: list[str] = []
        for mention in mentions:
            if flow.position(mention) >= flow.position(save):
                break
            if id(mention) in read:
                continue
            use, attr = flow.use_of(analysis, mention)
            if use == "store":
                if attr not in known:
                    return None
                assigned.append(attr)
            elif use != "read":
                return None  # passed on or a method called: it may set other fields
        return list(dict.fromkeys(assigned)) or None

    def modification_rewrite(self, modification: Modification, f_name: str):
        expression = f'{f_name}("{modification.field}")'
        if modification.own_read is not None:
            return lambda original, updated: cst.parse_expression(expression)
        amount = self.analysis.code(modification.amount)
        if not isinstance(modification.amount, ATOMIC_VALUE) or "\n" in amount:
            amount = f"({amount})"
        target = self.analysis.code(modification.statement.target)

        def rewrite(original, updated):
            value = cst.parse_expression(f"{expression} {modification.operator} {amount}")
            return cst.Assign(targets=[cst.AssignTarget(target=cst.parse_expression(target))], value=value)

        return rewrite

    def f_name(self, function: ast.AST):
        """How this module names `F` (and the edit that imports it, if one is needed):
        (name, edit or None); None when `F` is bound to something else."""
        summary = self.analysis.summary
        scopes = self.analysis.scopes
        local = scopes.scope_of.get(function.body[0])
        if local is not None and "F" in local.bindings:
            return None
        for name, target in summary.imports.items():
            if target in F_NAMES and name == "F":
                return "F", None
        for name, target in summary.imports.items():
            if target == MODELS_MODULE and (local is None or name not in local.bindings):
                return f"{name}.F", None
        if any("F" in names for names in (summary.imports, summary.classes, summary.functions, summary.assigned)):
            return None
        imports = [s for s in self.analysis.tree.body if isinstance(s, ast.ImportFrom)]
        for statement in imports:  # `from django.db.models import Q` -> `... import F, Q`
            if (statement.module == MODELS_MODULE and statement.level == 0
                    and statement.lineno == statement.end_lineno
                    and all(a.name != "*" for a in statement.names)
                    and flow.lone_statement(self.analysis, statement)):
                return "F", (statement, import_f_too)
        if not imports or not flow.lone_statement(self.analysis, imports[-1]):
            return None
        return "F", (imports[-1], flow.statements_after(["from django.db.models import F"]))


def import_f_too(original, updated):
    """Add `F` to a one-line `from django.db.models import ...` (in order when the names
    are sorted); once, however many findings ask for it."""
    statement = updated.body[0]
    names = list(statement.names)
    if any(isinstance(a.name, cst.Name) and a.name.value == "F" and a.asname is None for a in names):
        return updated
    values = [a.name.value if isinstance(a.name, cst.Name) else "" for a in names]
    at = sum(v < "F" for v in values) if values == sorted(values) else len(names)
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    names.insert(at, cst.ImportAlias(name=cst.Name("F")))
    last = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    names = [a.with_changes(comma=comma) for a in names[:-1]] + [last]
    return updated.with_changes(body=[statement.with_changes(names=names), *updated.body[1:]])


def add_keyword(name: str, values: list[str]):
    text = "[" + ", ".join(f'"{v}"' for v in values) + "]"

    def rewrite(original, updated):
        tight = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
        arg = cst.Arg(keyword=cst.Name(name), value=cst.parse_expression(text), equal=tight)
        args = list(updated.args)
        if args:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return updated.with_changes(args=[*args, arg])

    return rewrite


INFO = PassInfo(
    code="QS006",
    name="lost-update",
    summary="`obj.f += x; obj.save()` on an instance read from the database -> `obj.f = F(\"f\") + x`",
    safety="unsafe",
    what=(
        "Finds read-modify-write of a numeric field without a lock: an instance read from the "
        "database (`M.objects.get(...)`, `get_object_or_404`, `.first()`, a loop over a "
        "QuerySet), then `obj.f += x`, `obj.f -= x` or `obj.f = obj.f ± x`, then `obj.save()` "
        "in the same function. It rewrites the assignment to `obj.f = F(\"f\") ± x`, adds "
        "`update_fields=[...]` to the `save()` (the fields the function assigns), and adds "
        "`obj.refresh_from_db(fields=[...])` after the save when the instance is used "
        "afterwards."
    ),
    why=(
        "The new value is computed in Python from the value read earlier. Two requests that "
        "read the same row and save it both write `old + x`: one increment is lost. With "
        "`F()` the database computes `f = f + x` in the `UPDATE`, so concurrent changes add "
        "up. Until the instance is reloaded, `obj.f` holds the `F()` expression (on Django "
        "< 6.0, and on MySQL), hence the reload when it is used again."
    ),
    fix_safety=(
        "Unsafe: until it is reloaded the instance holds an expression, which an overridden "
        "`save()`, a signal receiver or a `clean()` that reads the field would see; the added "
        "`update_fields` makes `save()` write only the fields the function assigns (added "
        "only when every one is a declared field and nothing else touches the instance "
        "before the save). Silent when the row is locked (`select_for_update()` in the "
        "function), when the instance is created in the function (`M(...)`, `create()`), "
        "when the field is given a value not derived from itself, when the model has a "
        "version field (optimistic locking, django-concurrency), and in tests. When the "
        "field is read between the change and the save the finding has no fix: an `F()` "
        "there is not a number."
    ),
    references=(
        "https://docs.djangoproject.com/en/stable/ref/models/expressions/#avoiding-race-conditions-using-f",
        "https://docs.djangoproject.com/en/stable/ref/models/instances/#specifying-which-fields-to-save",
    ),
    examples=(
        Example(
            "increment_then_save",
            """\
            from django.db.models import F

            from shop.models import OrderItem


            def add_one(item_id):
                item = OrderItem.objects.get(pk=item_id)
                item.quantity += 1
                item.save()
            """,
            """\
            from django.db.models import F

            from shop.models import OrderItem


            def add_one(item_id):
                item = OrderItem.objects.get(pk=item_id)
                item.quantity = F("quantity") + 1
                item.save(update_fields=["quantity"])
            """,
            unsafe=True,
        ),
        Example(
            "used_after_save_is_reloaded",
            """\
            from shop.models import OrderItem


            def remove(item_id, count):
                item = OrderItem.objects.get(pk=item_id)
                item.quantity = item.quantity - count
                item.save()
                return item.quantity
            """,
            """\
            from shop.models import OrderItem
            from django.db.models import F


            def remove(item_id, count):
                item = OrderItem.objects.get(pk=item_id)
                item.quantity = F("quantity") - count
                item.save(update_fields=["quantity"])
                item.refresh_from_db(fields=["quantity"])
                return item.quantity
            """,
            unsafe=True,
        ),
        Example(
            "read_before_save_is_a_diagnostic",
            """\
            from shop.models import OrderItem


            def take(item_id, count):
                item = OrderItem.objects.get(pk=item_id)
                item.quantity -= count
                if item.quantity < 0:
                    raise ValueError("not enough")
                item.save()
            """,
        ),
        Example(
            "created_in_the_function",
            """\
            from shop.models import OrderItem


            def start(order):
                item = OrderItem(order=order, quantity=0)
                item.quantity += 1
                item.save()
            """,
        ),
        Example(
            "row_locked",
            """\
            from django.db import transaction

            from shop.models import OrderItem


            def add_one(item_id):
                with transaction.atomic():
                    item = OrderItem.objects.select_for_update().get(pk=item_id)
                    item.quantity += 1
                    item.save()
            """,
        ),
        Example(
            "value_not_derived_from_itself",
            """\
            from shop.models import OrderItem


            def set_quantity(item_id, count):
                item = OrderItem.objects.get(pk=item_id)
                item.quantity = count + 1
                item.save()
            """,
        ),
    ),
    visitor=LostUpdate,
    options=(flow.CHECK_TESTS_OPTION,),
)
LostUpdate.info = INFO
