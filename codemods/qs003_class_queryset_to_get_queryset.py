"""QS003 class-queryset-to-get-queryset: a view's class-level `queryset = ...` that can go
stale -> a `get_queryset()` method that builds it per request.

Django's and DRF's generic views clone a class-level queryset per request (`.all()` in
`get_queryset()`), so `queryset = Order.objects.filter(status="x")` is not stale. It is when
a filter value was computed at import (`timezone.now()`), when a method evaluates
`self.queryset` directly (its cache is shared by every request the process serves), or when
the project's own base view returns `self.queryset` without cloning it. Those are rewritten by
default; every other view's queryset moves only with `--all-views`.

Django docs: https://docs.djangoproject.com/en/stable/topics/class-based-views/generic-display/#dynamic-filtering
"""

from __future__ import annotations

import ast
from typing import Optional


from .base import Example, Pass, PassInfo, PassOption
from .rewrite import cst, transformer
from .kinds import MANAGER, MODEL, PROVEN, QUERYSET, VOLATILE_CALLS

# Django views whose get_queryset() (MultipleObjectMixin's) applies get_ordering()
ORDERING_VIEWS = frozenset(
    """MultipleObjectMixin BaseListView ListView BaseDateListView ArchiveIndexView
    BaseArchiveIndexView YearArchiveView BaseYearArchiveView MonthArchiveView
    BaseMonthArchiveView WeekArchiveView BaseWeekArchiveView DayArchiveView BaseDayArchiveView
    TodayArchiveView BaseTodayArchiveView""".split()
)

GET_QUERYSET = """\
def get_queryset(self):
    return __QSFIX_VALUE__
"""
# MultipleObjectMixin.get_queryset() applied get_ordering() to the class attribute
GET_QUERYSET_ORDERED = """\
def get_queryset(self):
    queryset = __QSFIX_VALUE__
    ordering = self.get_ordering()
    if ordering:
        if isinstance(ordering, str):
            ordering = (ordering,)
        queryset = queryset.order_by(*ordering)
    return queryset
"""
# a subclass in the project sets its own `queryset`: it must keep getting its own rows
SUBCLASS_GUARD = """\
if self.queryset is not None:  # set by a subclass or as_view(queryset=...)
    return super().get_queryset()
"""
# Reads whose result does not depend on the rows' order.
ORDER_FREE_METHODS = frozenset("count exists aggregate get update delete in_bulk".split())
ORDER_FREE_BUILTINS = ("len", "sum", "any", "all", "set", "frozenset", "bool", "dict")
DATE_VIEWS = frozenset(v for v in ORDERING_VIEWS if "Archive" in v or "Date" in v)


class ClassQuerysetToGetQueryset(Pass):
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        analysis = self.analysis
        if analysis.parents.get(node) is not analysis.tree:
            return  # only module-level classes are in the project index
        statement = _queryset_statement(node)
        if statement is None:
            return
        value = statement.value
        t = analysis.type_of(value)
        if t.kind == MANAGER:
            return  # `queryset = Order.objects`: cloned like any other, and not stale
        if t.kind != QUERYSET:
            return
        index = analysis.index
        qualname = f"{analysis.summary.module}.{node.name}"
        message = f"class-level `queryset` of {node.name} is built once, at import"
        if index.class_kind(qualname) != "view":
            self.report(statement, message, skip="not a Django or DRF view: nothing calls a get_queryset() on it")
            return
        externals = index.external_bases(qualname)
        drf = any(e.startswith("rest_framework.") for e in externals)
        skip = (
            self.why_not(node, qualname, drf)
            or self.module_level_source(value)
            or _class_name_read(analysis, value)
        )
        if skip:
            self.report(statement, message, skip=skip)
            return
        # every option set is served by one analysis: what follows is reported as if QS004
        # and --all-views were on, with the skip that applies when they are not
        unless = self.without_qs004(value)
        stale = self.staleness(node, qualname, value)
        if stale is None:
            unless.append((
                "all-views",
                "not stale: the view clones a class-level queryset per request "
                "(get_queryset() calls .all()); --all-views moves it anyway",
            ))
        ordered = any(
            e.startswith("django.views.") and e.rsplit(".", 1)[-1] in ORDERING_VIEWS
            for e in externals
        )
        keep = None
        if drf:
            keep = self.router_attribute(value, t)
            if keep is None:
                self.report(
                    statement, message,
                    skip="a DRF view: routers and schemas read `queryset.model`, and the model "
                    "cannot be named here to keep a plain `queryset = Model.objects.all()`",
                    unless=unless,
                )
                return
        unsafe = None
        if t.confidence < PROVEN:
            unsafe = t.why or "only likely a QuerySet"
        reads = self.queryset_reads(node)
        if ordered and any(self.order_matters(r) for r in reads) and self.ordering_set(qualname, externals):
            unsafe = "`self.queryset` reads become `self.get_queryset()`, which also applies the view's ordering"
        indent = self.indent_unit(node)
        position = _insert_position(node, statement)
        edits = [(read, _get_queryset_call) for read in reads]
        guard = bool(self.overriding_subclasses(qualname))
        edits.append((node, _move(node.body.index(statement), position, ordered, keep, indent, guard)))
        if stale:
            message = f"{message}: {stale}"
        self.report(
            statement,
            message,
            fix_title="Build it per request in get_queryset()",
            edits=edits,
            unsafe_because=unsafe,
            requires=self.factory_unit(value),
            unless=unless,
        )

    def factories_in(self, value: ast.AST):
        found = {}
        for sub in ast.walk(value):
            if isinstance(sub, (ast.Name, ast.Attribute)):
                factory = self.analysis.factory_for(sub)
                if factory is not None:
                    found[factory.qualname] = factory
        return list(found.values())

    def module_level_source(self, value: ast.AST) -> Optional[str]:
        """Moved into get_queryset(), a module-level QuerySet would be returned uncloned:
        only fine once QS004 makes it a call."""
        factories = self.factories_in(value)
        if len(factories) > 1:
            return "built from several module-level QuerySets"
        for factory in factories:
            if factory.skip or not self.analysis.factories_active:
                why = factory.skip or "QS004 is not selected"
                return f"built from module-level {factory.name}, which is not made a factory ({why})"
        return None

    def without_qs004(self, value: ast.AST) -> list[tuple[str, str]]:
        """What module_level_source says when QS004 is not selected, as an `unless`."""
        return [
            ("QS004", f"built from module-level {f.name}, which is not made a factory (QS004 is not selected)")
            for f in self.factories_in(value) if not f.skip
        ][:1]

    def factory_unit(self, value: ast.AST) -> Optional[str]:
        factories = self.factories_in(value)
        return factories[0].unit if factories else None

    # -- decisions ---------------------------------------------------------------------
    def overriding_subclasses(self, qualname: str) -> list[str]:
        """Who sets a queryset of their own on this view: subclasses, and
        `View.as_view(queryset=...)` calls (in urls.py, typically) on it or a subclass."""
        index = self.analysis.index
        found = [
            index.classes[sub].name
            for sub in index.subclasses(qualname)
            if "queryset" in index.classes[sub].attrs and "get_queryset" not in index.classes[sub].methods
        ]
        family = {qualname, *index.subclasses(qualname)}
        for summary in index.modules.values():
            for target in summary.as_view_querysets:
                if index.resolve(target) in family:
                    found.append(f"{index.resolve(target).rsplit('.', 1)[-1]}.as_view(queryset=...) in {summary.module}")
        return found

    def ordering_set(self, qualname: str, externals: list[str]) -> bool:
        """Does anything make get_ordering() return something for this view?"""
        index = self.analysis.index
        if any(e.rsplit(".", 1)[-1] in DATE_VIEWS for e in externals):
            return True  # date views order by their date field
        for name in index.class_and_bases(qualname) + index.subclasses(qualname):
            cls = index.classes.get(name)
            if cls and ("ordering" in cls.attrs or "get_ordering" in cls.methods):
                return True
        return False

    def why_not(self, node: ast.ClassDef, qualname: str, drf: bool) -> Optional[str]:
        index = self.analysis.index
        cls = index.classes[qualname]
        if "get_queryset" in cls.methods:
            return "the class defines get_queryset() already; its super().get_queryset() clones this attribute per request"
        if cls.queryset_assigned:
            return f"`self.queryset` is assigned in {cls.queryset_assigned[0]}(); moving the attribute would change which QuerySet is used"
        family = {qualname, *index.subclasses(qualname)}
        for summary in index.modules.values():
            for target in summary.class_queryset_reads:
                if index.resolve(target) in family or (
                    target in ("?cls", "?self.__class__") and summary.module == cls.module
                ):
                    return (
                        f"`{index.resolve(target).rsplit('.', 1)[-1]}.queryset` is read in "
                        f"{summary.module}; without the attribute it would be None"
                    )
        if _shares_lines(node):
            return "statements share a line in the class body"
        for base in index.class_and_bases(qualname)[1:]:
            base_cls = index.classes.get(base)
            if base_cls is None:
                continue
            if "get_queryset" in base_cls.methods and not self.trivial_base(base_cls):
                params = ", ".join(base_cls.methods["get_queryset"])
                return (
                    f"the project's base class {base_cls.name} defines get_queryset({params}); "
                    "a generated get_queryset(self) would bypass it"
                )
            if base_cls.queryset_assigned:
                return f"the project's base class {base_cls.name} assigns self.queryset"
        overriding = self.overriding_subclasses(qualname)
        if overriding and drf:
            return (
                f"subclass {overriding[0]} sets its own queryset, and a DRF view keeps the "
                "class attribute for its router: a get_queryset() here could not tell them apart"
            )
        for sub in index.subclasses(qualname):
            sub_cls = index.classes[sub]
            if sub_cls.queryset_reads or sub_cls.queryset_assigned:
                return f"subclass {sub_cls.name} uses self.queryset directly"
        return None

    @staticmethod
    def trivial_base(base_cls) -> bool:
        return base_cls.get_queryset_returns_attr and base_cls.methods["get_queryset"] == ["self"]

    def staleness(self, node: ast.ClassDef, qualname: str, value: ast.AST) -> Optional[str]:
        analysis = self.analysis
        volatile = _volatile(analysis, value)
        if volatile:
            return f"{volatile} evaluated once at import"
        cls = analysis.index.classes[qualname]
        if cls.queryset_reads:
            method, line = cls.queryset_reads[0]
            return (
                f"{method}() evaluates self.queryset directly (line {line}): its rows are cached "
                "once and shared by every request"
            )
        for base in analysis.index.class_and_bases(qualname)[1:]:
            base_cls = analysis.index.classes.get(base)
            if base_cls is not None and "get_queryset" in base_cls.methods and self.trivial_base(base_cls):
                return (
                    f"the project's base class {base_cls.name} returns self.queryset without "
                    "cloning it: every request shares one QuerySet and its cache"
                )
        return None

    def order_matters(self, read: ast.Attribute) -> bool:
        """Could the view's ordering (which get_queryset() applies) change what this
        `self.queryset` read gives? Not for a count, a truth test, a set or a sum."""
        analysis = self.analysis
        parent = analysis.parents.get(read)
        if isinstance(parent, ast.Attribute):
            call = analysis.parents.get(parent)
            return not (isinstance(call, ast.Call) and call.func is parent and parent.attr in ORDER_FREE_METHODS)
        if isinstance(parent, ast.Call) and read in parent.args:
            return not any(analysis.is_builtin(parent.func, name) for name in ORDER_FREE_BUILTINS)
        if isinstance(parent, ast.comprehension) and parent.iter is read:
            comprehension = analysis.parents.get(parent)
            if isinstance(comprehension, (ast.SetComp, ast.DictComp)):
                return False
            outer = analysis.parents.get(comprehension)
            return not (
                isinstance(comprehension, ast.GeneratorExp) and isinstance(outer, ast.Call)
                and any(analysis.is_builtin(outer.func, name) for name in ORDER_FREE_BUILTINS)
            )
        if isinstance(parent, (ast.If, ast.While)) and parent.test is read:
            return False
        return not (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not))

    def queryset_reads(self, node: ast.ClassDef) -> list[ast.Attribute]:
        reads = []
        for method in node.body:
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(method):
                if (
                    isinstance(sub, ast.Attribute)
                    and sub.attr == "queryset"
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == "self"
                    and isinstance(sub.ctx, ast.Load)
                ):
                    reads.append(sub)
        return reads

    def router_attribute(self, value: ast.AST, t) -> Optional[str]:
        """`Model.objects.all()` text to keep on a DRF view for routers and schemas."""
        root, steps = self.analysis.typer.chain(value)
        if isinstance(root, ast.Name) and steps and steps[0].startswith("."):
            root_type = self.analysis.typer.type_name(root)
            if root_type.kind == MODEL:
                return f"{root.id}{steps[0]}.all()"
        if t.model:
            for local, target in self.analysis.summary.imports.items():
                if self.analysis.index.resolve(target) == t.model:
                    return f"{local}._default_manager.all()"
            name = t.model.rsplit(".", 1)[-1]
            if t.model == f"{self.analysis.summary.module}.{name}":
                return f"{name}._default_manager.all()"
        return None

    def indent_unit(self, node: ast.ClassDef) -> str:
        first = node.body[0]
        line = self.analysis.line_text(first.lineno)
        body_indent = line[: len(line) - len(line.lstrip())]
        class_line = self.analysis.line_text(node.lineno)
        class_indent = class_line[: len(class_line) - len(class_line.lstrip())]
        return body_indent[len(class_indent):] or "    "


def _volatile(analysis, value: ast.AST) -> Optional[str]:
    typer = analysis.typer
    for sub in ast.walk(value):
        if isinstance(sub, ast.Call):
            name = typer.qualified(sub.func)
            if name in VOLATILE_CALLS:
                return f"`{analysis.quote(sub.func)}()`"
        if isinstance(sub, (ast.Name, ast.Attribute)):
            factory = analysis.factory_for(sub)
            qualname = factory.qualname if factory else None
            if qualname is None and isinstance(sub, ast.Name):
                scope = analysis.scopes.binding_scope(sub)
                if scope is analysis.scopes.module and sub.id in analysis.summary.volatile:
                    return f"{analysis.summary.volatile[sub.id]} (in {sub.id})"
            if qualname:
                module, _, name = qualname.rpartition(".")
                summary = analysis.index.modules.get(module)
                if summary and name in summary.volatile:
                    return f"{summary.volatile[name]} (in module-level {name})"
    return None


def _class_name_read(analysis, value: ast.AST) -> Optional[str]:
    """A name of the class body read by the expression: a method cannot see it by that name."""
    for sub in ast.walk(value):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            scope = analysis.scopes.binding_scope(sub)
            if scope is not None and scope.kind == "class":
                return (
                    f"it reads `{sub.id}` from the class body, which get_queryset() could not "
                    "see by that name"
                )
    return None


def _queryset_statement(node: ast.ClassDef) -> Optional[ast.AST]:
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target = statement.target
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "queryset":
            return statement
    return None


def _shares_lines(node: ast.ClassDef) -> bool:
    body = node.body
    if body and body[0].lineno == node.lineno:
        return True  # `class V(ListView): queryset = ...`
    return any(a.end_lineno >= b.lineno for a, b in zip(body, body[1:]))


def _insert_position(node: ast.ClassDef, statement: ast.AST) -> int:
    """After the class attributes: the last simple statement before the first method."""
    position = 0
    for i, child in enumerate(node.body):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            break
        position = i + 1
    return position


def _get_queryset_call(original, updated: cst.Attribute) -> cst.Call:
    return cst.Call(
        func=updated.with_changes(attr=cst.Name("get_queryset"), lpar=[], rpar=[]),
        lpar=updated.lpar, rpar=updated.rpar,
    )


@transformer
def _reindent():
    class Reindent(cst.CSTTransformer):
        """Shift continuation lines of a moved expression one level deeper. Lines libcst
        already indents relative to the enclosing block (`indent=True`) follow by
        themselves."""

        def __init__(self, unit: str):
            super().__init__()
            self.unit = unit

        def leave_ParenthesizedWhitespace(self, original, updated):
            if updated.indent:
                return updated
            return updated.with_changes(
                last_line=cst.SimpleWhitespace(self.unit + updated.last_line.value)
            )

    return Reindent


def _move(index: int, position: int, ordered: bool, keep: Optional[str], unit: str, guard: bool):
    def rewrite(original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        body = list(updated.body.body)
        line = body[index]
        method = _get_queryset_method(line, ordered, unit, guard)
        if keep is not None:
            # DRF routers derive the basename from queryset.model, and schemas read it: the
            # kept line stays where it is, the method goes after the class attributes
            # (the line's trailing comment went with the expression it was about)
            body[index] = line.with_changes(
                body=[line.body[0].with_changes(value=cst.parse_expression(keep))],
                trailing_whitespace=cst.TrailingWhitespace(newline=line.trailing_whitespace.newline),
            )
            at = position
            leading = [cst.EmptyLine(indent=False)]
            body.insert(at, method.with_changes(leading_lines=leading))
        else:
            # the method takes the attribute's place (and its comments): nothing else moves,
            # so a diff shows only the attribute become the method
            at = index
            leading = list(line.leading_lines)
            if at > 0 and (not leading or leading[0].comment is not None):
                leading.insert(0, cst.EmptyLine(indent=False))
            body[at] = method.with_changes(leading_lines=leading)
        if at + 1 < len(body):  # a blank line between the method and what follows it
            following = body[at + 1]
            if not following.leading_lines or following.leading_lines[0].comment is not None:
                body[at + 1] = following.with_changes(
                    leading_lines=[cst.EmptyLine(indent=False), *following.leading_lines]
                )
        return updated.with_changes(body=updated.body.with_changes(body=body))

    return rewrite


def _get_queryset_method(
    line: cst.SimpleStatementLine, ordered: bool, unit: str, guard: bool
) -> cst.FunctionDef:
    """The method built from the `queryset = ...` line; the line's trailing comment stays on
    the expression."""
    value = line.body[0].value.visit(_reindent()(unit))
    template = cst.parse_statement(GET_QUERYSET_ORDERED if ordered else GET_QUERYSET)
    method = template.visit(_fill()(value))
    statements = list(method.body.body)
    # both templates hold the value in their first statement
    statements[0] = statements[0].with_changes(trailing_whitespace=line.trailing_whitespace)
    if guard:
        statements.insert(0, cst.parse_statement(SUBCLASS_GUARD))
    return method.with_changes(body=method.body.with_changes(body=statements))


@transformer
def _fill():
    class Fill(cst.CSTTransformer):
        """Put the moved expression where the template says `__QSFIX_VALUE__`."""

        def __init__(self, value):
            super().__init__()
            self.value = value

        def leave_Name(self, original, updated):
            if updated.value == "__QSFIX_VALUE__":
                return self.value
            return updated

    return Fill


def _more_words(typer, summary, text: str) -> tuple[str, ...]:
    return ("queryset",) if "queryset" in text and summary.classes else ()  # a view's attribute


def _dependency_facts(index, typer) -> tuple:
    """Which views have a class-level queryset, and who reads it, across the project."""
    classes = sorted(
        (c.qualname, tuple(c.bases), "queryset" in c.attrs, "ordering" in c.attrs,
         sorted(m for m in c.methods if m in ("get_queryset", "get_ordering")),
         c.queryset_reads, c.queryset_assigned, c.get_queryset_returns_attr)
        for c in index.classes.values()
        if "queryset" in c.attrs or "ordering" in c.attrs or c.queryset_reads
        or c.queryset_assigned or "get_queryset" in c.methods or "get_ordering" in c.methods
    )
    modules = sorted(
        (m.module, sorted(m.as_view_querysets), sorted(m.class_queryset_reads))
        for m in index.modules.values() if m.as_view_querysets or m.class_queryset_reads
    )
    return classes, modules


INFO = PassInfo(
    code="QS003",
    name="class-queryset-to-get-queryset",
    summary="a view's class-level `queryset` that can go stale -> `get_queryset()` (every view's with --all-views)",
    safety="safe or unsafe",
    what=(
        "Finds class-level `queryset = <QuerySet>` on Django generic views and DRF views (and "
        "the project's own subclasses of them, across modules) and moves the expression into a "
        "`get_queryset(self)` method that takes the attribute's place; reads of "
        "`self.queryset` in the class's methods become `self.get_queryset()`. On list views "
        "the method applies `get_ordering()` as Django's did; on DRF views a plain "
        "`queryset = Model.objects.all()` stays in its place and the method follows the "
        "class attributes, because routers derive the basename from `queryset.model` and "
        "schema generation reads it."
    ),
    why=(
        "A class attribute is evaluated once, at import. Django and DRF clone it per request, "
        "so a plain filter is fine, but a filter value computed at import "
        "(`timezone.now() - timedelta(days=7)`) is frozen until the process restarts, and a "
        "method that evaluates `self.queryset` directly fills one result cache that every "
        "later request reads. Only those stale sites are rewritten by default; the others are "
        "reported as skipped, and `--all-views` moves every view's queryset for teams that "
        "want the style everywhere."
    ),
    fix_safety=(
        "Safe when the attribute is a QuerySet beyond doubt and nothing else depends on the "
        "attribute: the class does not define get_queryset() already, no project base class "
        "defines a get_queryset() of its own (other parameters, other logic), no subclass "
        "sets its own queryset or uses self.queryset, and self.queryset is never assigned. "
        "Those are skipped with the reason. Unsafe when it is only likely a QuerySet, or when "
        "rewritten self.queryset reads would now see a list view's ordering."
    ),
    references=(
        "https://docs.djangoproject.com/en/stable/topics/class-based-views/generic-display/#dynamic-filtering",
        "https://docs.djangoproject.com/en/stable/ref/class-based-views/mixins-multiple-object/#django.views.generic.list.MultipleObjectMixin.get_queryset",
        "https://www.django-rest-framework.org/api-guide/generic-views/#get_querysetself",
    ),
    examples=(
        Example(
            "filter_value_frozen_at_import",
            """\
            from datetime import timedelta

            from django.utils import timezone
            from django.views.generic import DetailView
            from shop.models import Order


            class RecentOrder(DetailView):
                queryset = Order.objects.filter(created__gte=timezone.now() - timedelta(days=7))
                template_name = "order.html"

                def get_context_data(self, **kwargs):
                    return super().get_context_data(**kwargs)
            """,
            """\
            from datetime import timedelta

            from django.utils import timezone
            from django.views.generic import DetailView
            from shop.models import Order


            class RecentOrder(DetailView):
                def get_queryset(self):
                    return Order.objects.filter(created__gte=timezone.now() - timedelta(days=7))

                template_name = "order.html"

                def get_context_data(self, **kwargs):
                    return super().get_context_data(**kwargs)
            """,
        ),
        Example(
            "plain_queryset_is_cloned_per_request",
            """\
            from django.views.generic import DetailView
            from shop.models import Order


            class OrderDetail(DetailView):
                queryset = Order.objects.filter(status="active")
            """,
        ),
        Example(
            "admin_get_queryset_takes_a_request",
            """\
            from django.contrib import admin
            from django.utils import timezone
            from shop.models import Order


            class OrderAdmin(admin.ModelAdmin):
                queryset = Order.objects.filter(created__gte=timezone.now())

                def get_queryset(self, request):
                    return super().get_queryset(request)
            """,
        ),
        Example(
            "form_field_queryset",
            """\
            from django import forms
            from shop.models import Customer


            class PickForm(forms.Form):
                customer = forms.ModelChoiceField(queryset=Customer.objects.all())
            """,
        ),
    ),
    visitor=ClassQuerysetToGetQueryset,
    options=(
        PassOption("all-views", help="move every view's class-level queryset, not only the stale ones"),
    ),
    runs_after=("QS004",),  # it moves the factory calls QS004 made
    more_words=_more_words,
    dependency_facts=_dependency_facts,
)
ClassQuerysetToGetQueryset.info = INFO
