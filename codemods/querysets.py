"""Is this expression a QuerySet? The one typing every pass uses.

An expression is reduced to a chain — a root name and steps (`.attr`, `()`, `[i]`, `[:]`) — and
the chain is typed against the project index. The same `type_chain` types libcst expressions
(`ExprTyper`, for the file being rewritten) and the `ast` chains the index recorded for function
returns and module-level constants in other files, so there is one set of rules.

Each answer carries a confidence: PROVEN (the rules of Django and of the scanned code leave no
other possibility), LIKELY (the code says so, but something the tool cannot see could differ: an
annotation, a custom manager method, a class from outside the project), or UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import libcst as cst
from libcst.metadata import (
    Assignment,
    ClassScope,
    FunctionScope,
    GlobalScope,
    QualifiedNameProvider,
    ScopeProvider,
)

from .index import Chain, ModuleSummary, ProjectIndex, resolve_relative

UNKNOWN, LIKELY, PROVEN = 0, 1, 2
CONFIDENCE_NAMES = {UNKNOWN: "unknown", LIKELY: "likely", PROVEN: "proven"}

# Kinds
QUERYSET = "QuerySet"
MANAGER = "Manager"
RAW = "RawQuerySet"
MODEL = "model class"
INSTANCE = "model instance"
FUNCTION = "function"
METHOD = "method"  # a bound method not yet called: `Order.objects.filter`
OTHER = "other"
MODULE = "module"
NOTHING = "unknown"
PENDING = "pending"  # a binding still being typed (a loop like `qs = qs.filter()`)

# QuerySet (and Manager-proxied) methods that return a new QuerySet without evaluating it.
QUERYSET_BUILDERS = frozenset(
    """all filter exclude order_by reverse distinct values values_list dates datetimes none
    union intersection difference select_related prefetch_related extra defer only using
    select_for_update annotate alias complex_filter""".split()
)
ROW_CHANGING = frozenset({"values", "values_list", "dates", "datetimes"})
# Methods that return one model instance.
INSTANCE_METHODS = frozenset("get first last latest earliest create".split())
# Methods whose result is neither a QuerySet nor an instance.
OTHER_METHODS = frozenset(
    """count exists aggregate in_bulk iterator update delete explain contains get_or_create
    update_or_create bulk_create bulk_update values_list_flat""".split()
)
# If a project's QuerySet/Manager class overrides one of these, the rewrite's meaning changes.
SEMANTIC_METHODS = frozenset({"count", "exists", "__len__", "__bool__", "__iter__"})

GET_USER_MODEL = "django.contrib.auth.get_user_model"
GET_OBJECT_OR_404 = "django.shortcuts.get_object_or_404"
QUERYSET_ANNOTATIONS = frozenset(
    {"django.db.models.QuerySet", "django.db.models.query.QuerySet"}
)


@dataclass(frozen=True)
class QsType:
    kind: str
    confidence: int = PROVEN
    model: Optional[str] = None  # qualified model name, when known
    classes: tuple[str, ...] = ()  # the project's Manager/QuerySet classes behind it
    method: Optional[str] = None  # for METHOD: the method's name; for FUNCTION: qualname
    on: Optional[str] = None  # for METHOD: the kind it is bound to
    why: str = ""
    # Not typed as a QuerySet, but close enough that a user would expect the site to be
    # mentioned: a QuerySet on some paths, a class overriding `count()`, ...
    near: bool = False
    # QuerySet methods seen along the chain (some change what count() means)
    seen: frozenset = frozenset()

    @property
    def is_queryset(self) -> bool:
        return self.kind == QUERYSET and self.confidence > UNKNOWN

    def weaker(self, confidence: int, why: str = "") -> "QsType":
        if confidence >= self.confidence:
            return self
        return replace(self, confidence=confidence, why=why or self.why)


NOT_KNOWN = QsType(NOTHING, UNKNOWN, why="not known to be a QuerySet")


def meet(types: Sequence[QsType]) -> QsType:
    """The type every one of `types` agrees on, at the weakest confidence among them."""
    types = [t for t in types if t.kind != PENDING]
    if not types:
        return NOT_KNOWN
    first = types[0]
    for other in types[1:]:
        if other.kind != first.kind:
            why = f"a {first.kind} on one path and {other.kind} on another"
            return QsType(NOTHING, UNKNOWN, why=why, near=QUERYSET in (first.kind, other.kind))
    weakest = min(types, key=lambda t: t.confidence)
    seen = frozenset().union(*(t.seen for t in types))
    return replace(first, confidence=weakest.confidence, why=weakest.why or first.why, seen=seen)


def count_caveat(t: QsType) -> Optional[str]:
    """Why `count()` may not equal `len()` for this QuerySet. Django's count() clears the
    ordering; with DISTINCT the ORDER BY columns (explicit or Meta.ordering) are part of
    the selected rows, and with GROUP BY (annotate) an explicit order_by adds groups."""
    if "distinct" in t.seen:
        return "`.distinct()`: `count()` drops the ordering columns Django adds to SELECT DISTINCT, so it can count other rows"
    if "order_by" in t.seen and t.seen & {"annotate", "alias"}:
        return "`annotate()` with `order_by()`: `count()` drops the ordering Django adds to GROUP BY, so it can count other groups"
    if t.seen & {"union", "intersection", "difference"} and "distinct" in t.seen:
        return "a combined QuerySet with `.distinct()`"
    return None


class ChainTyper:
    """Types chains against the project index (shared by every file and every pass)."""

    def __init__(self, index: ProjectIndex):
        self.index = index
        self._function_cache: dict[str, QsType] = {}

    # -- roots ------------------------------------------------------------------------
    def type_global(self, qualname: str, _depth: int = 0) -> QsType:
        index = self.index
        qualname = index.resolve(qualname)
        kind = index.class_kind(qualname)
        if kind == "model":
            return QsType(MODEL, PROVEN, model=qualname)
        if qualname == GET_USER_MODEL:
            return QsType(FUNCTION, PROVEN, method=qualname)
        if qualname == GET_OBJECT_OR_404:
            return QsType(FUNCTION, PROVEN, method=qualname)
        if index.is_module(qualname):
            return QsType(MODULE, PROVEN, method=qualname)
        module, _, name = qualname.rpartition(".")
        summary = index.modules.get(module)
        if summary is None:
            return NOT_KNOWN
        if name in summary.functions:
            return QsType(FUNCTION, PROVEN, method=qualname)
        if name in summary.constants and _depth < 10:
            root, steps = summary.constants[name]
            return self.type_chain(self.type_root(root, _depth + 1), steps)
        return NOT_KNOWN

    def type_root(self, root: str, _depth: int = 0) -> QsType:
        if root.startswith("?") or root in ("self", "cls", "super"):
            return NOT_KNOWN
        return self.type_global(root, _depth)

    def function_result(self, qualname: str) -> QsType:
        if qualname == GET_USER_MODEL:
            return QsType(MODEL, LIKELY, model=None, why="the user model is chosen by settings")
        if qualname == GET_OBJECT_OR_404:
            return QsType(INSTANCE, PROVEN)
        if qualname in self._function_cache:
            return self._function_cache[qualname]
        self._function_cache[qualname] = NOT_KNOWN  # recursion guard
        module, _, name = qualname.rpartition(".")
        summary = self.index.modules.get(module)
        returns = summary.function_returns.get(name, []) if summary else []
        if not returns or any(r is None for r in returns):
            result = QsType(OTHER if returns else NOTHING, UNKNOWN, why="function does not always return a QuerySet")
        else:
            result = meet([self.type_chain(self.type_root(root), steps) for root, steps in returns])
        self._function_cache[qualname] = result
        return result

    # -- steps -----------------------------------------------------------------------
    def type_chain(self, current: QsType, steps: Sequence[str]) -> QsType:
        for step in steps:
            if current.kind in (NOTHING, PENDING):
                return current
            current = self.step(current, step)
        return current

    def step(self, t: QsType, step: str) -> QsType:
        index = self.index
        if step.startswith("."):
            attr = step[1:]
            if t.kind == MODEL:
                return self.manager_of(t, attr)
            if t.kind in (MANAGER, QUERYSET):
                return QsType(METHOD, t.confidence, t.model, t.classes, method=attr, on=t.kind, why=t.why, seen=t.seen)
            if t.kind == INSTANCE and t.model:
                return self.instance_attr(t, attr)
            if t.kind == MODULE and t.method:
                return self.type_global(f"{t.method}.{attr}")
            return QsType(NOTHING, UNKNOWN, why=f"`.{attr}` of a {t.kind}")
        if step == "()":
            if t.kind == METHOD:
                return self.method_result(t)
            if t.kind == FUNCTION and t.method:
                return self.function_result(t.method)
            if t.kind == MODEL:
                return QsType(INSTANCE, t.confidence, model=t.model)
            return NOT_KNOWN
        if step in ("[i]", "[:]"):
            if t.kind == QUERYSET:
                if step == "[:]":
                    return replace(t, why="a sliced QuerySet")
                return QsType(INSTANCE, t.confidence, model=t.model)
            return NOT_KNOWN
        return NOT_KNOWN

    def manager_of(self, t: QsType, attr: str) -> QsType:
        index = self.index
        if t.model is None:  # get_user_model(): its managers are not known
            if attr == "objects":
                return QsType(MANAGER, LIKELY, why="`objects` of the configured user model")
            return NOT_KNOWN
        if attr in ("_default_manager", "_base_manager"):
            return QsType(MANAGER, t.confidence, model=t.model)
        if index.is_abstract_model(t.model):
            return QsType(OTHER, UNKNOWN, why="an abstract model has no manager")
        managers, complete = index.managers(t.model)
        info = managers.get(attr)
        if info is not None:
            confidence = min(t.confidence, PROVEN if info.proven else LIKELY)
            return QsType(MANAGER, confidence, model=t.model, classes=info.classes,
                          why="" if info.proven else "a manager from a class outside the project")
        if not complete and attr == "objects":
            return QsType(MANAGER, LIKELY, model=t.model,
                          why="the model inherits from a class the project does not define")
        return QsType(OTHER, UNKNOWN, why=f"`{attr}` is not a manager of the model")

    def instance_attr(self, t: QsType, attr: str) -> QsType:
        relation = self.index.relation_of(t.model, attr)
        if relation is None:
            return NOT_KNOWN
        kind, target = relation
        if kind == "manager":
            return QsType(MANAGER, t.confidence, model=target, why="a related manager")
        if kind == "instance":
            return QsType(INSTANCE, t.confidence, model=target)
        return NOT_KNOWN

    def method_result(self, t: QsType) -> QsType:
        name = t.method or ""
        overridden = self.index.overridden_methods(t.classes) if t.classes else set()
        if overridden & SEMANTIC_METHODS:
            return QsType(NOTHING, UNKNOWN, near=True, why="the project's QuerySet class overrides "
                          + ", ".join(sorted(overridden & SEMANTIC_METHODS)))
        if name in QUERYSET_BUILDERS:
            if name in overridden:
                return QsType(QUERYSET, min(t.confidence, LIKELY), t.model, t.classes,
                              why=f"`{name}()` is overridden by the project's class",
                              seen=t.seen | {name})
            # values()/values_list()/dates() rows are dicts, tuples or dates, not instances
            model = None if name in ROW_CHANGING else t.model
            return QsType(QUERYSET, t.confidence, model, t.classes, why=t.why, seen=t.seen | {name})
        if name == "raw":
            return QsType(RAW, t.confidence, t.model)
        if name in INSTANCE_METHODS:
            return QsType(INSTANCE, t.confidence, t.model)
        if name in OTHER_METHODS:
            return QsType(OTHER, t.confidence)
        if name in overridden:
            returned = self.custom_method_result(t, name)
            if returned is not None:
                return returned
            return QsType(QUERYSET, LIKELY, t.model, t.classes,
                          why=f"`{name}()` is a custom method of the project's manager")
        return QsType(NOTHING, UNKNOWN, why=f"`{name}()` is not a QuerySet method")

    def custom_method_result(self, t: QsType, name: str) -> Optional[QsType]:
        """A custom QuerySet/Manager method that returns `self.<builder>(...)` chains only."""
        for qualname in t.classes:
            for cls_name in self.index.class_and_bases(qualname):
                cls = self.index.classes.get(cls_name)
                if cls is None or name not in cls.method_returns:
                    continue
                returns = cls.method_returns[name]
                if not returns or any(r is None or r[0] != "self" for r in returns):
                    return None
                self_type = QsType(QUERYSET, t.confidence, t.model, t.classes, seen=t.seen)
                results = []
                for _, steps in returns:
                    if ".%s" % name in steps:  # recursion through itself
                        return None
                    results.append(self.type_chain(self_type, steps))
                result = meet(results)
                if result.kind == QUERYSET:
                    return result
                return None
        return None


@dataclass(frozen=True)
class _LoopItem:
    """The binding of a `for` target: an item of `iterable`."""

    iterable: cst.BaseExpression


class ExprTyper:
    """Types libcst expressions of one module.

    `metadata` maps providers to their resolved tables (ScopeProvider, QualifiedNameProvider,
    ParentNodeProvider), as `FileAnalysis` gets them from one MetadataWrapper.
    """

    def __init__(self, scopes, qualnames, parents, summary: ModuleSummary, chains: ChainTyper):
        self.scopes = scopes
        self.qualnames = qualnames
        self.parents = parents
        self.summary = summary
        self.chains = chains
        self._busy: set[int] = set()
        self._cache: dict[int, QsType] = {}
        self._assumptions = 0

    def qualified(self, node: cst.CSTNode) -> Optional[str]:
        names = self.qualnames.get(node) or set()
        if hasattr(names, "__call__") and not isinstance(names, (set, frozenset)):
            names = names()  # libcst hands some metadata over lazily
        if len(names) != 1:
            return None
        name = next(iter(names)).name
        if name.startswith("."):
            level = len(name) - len(name.lstrip("."))
            return resolve_relative(
                self.summary.module, self.summary.is_package, level, name.lstrip(".")
            )
        return name

    @staticmethod
    def chain(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, list[str]]:
        steps: list[str] = []
        node = expr
        while True:
            if isinstance(node, cst.Attribute):
                steps.append("." + node.attr.value)
                node = node.value
            elif isinstance(node, cst.Call):
                steps.append("()")
                node = node.func
            elif isinstance(node, cst.Subscript):
                sliced = any(isinstance(e.slice, cst.Slice) for e in node.slice)
                steps.append("[:]" if sliced else "[i]")
                node = node.value
            else:
                break
        steps.reverse()
        return node, steps

    def type_of(self, expr: cst.BaseExpression) -> QsType:
        key = id(expr)
        if key in self._cache:
            return self._cache[key]
        if key in self._busy:
            # `qs = qs.filter(...)`: assume nothing about this binding while typing the others;
            # the rest of the bindings decide, and a non-QuerySet among them still wins.
            self._assumptions += 1
            return QsType(PENDING, UNKNOWN)
        self._busy.add(key)
        before = self._assumptions
        try:
            result = self._type_of(expr)
        finally:
            self._busy.discard(key)
        if self._assumptions == before or not self._busy:
            self._cache[key] = result  # not cached while it rests on an open assumption
        return result

    def _type_of(self, expr: cst.BaseExpression) -> QsType:
        if isinstance(expr, cst.IfExp):
            return meet([self.type_of(expr.body), self.type_of(expr.orelse)])
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, (cst.BitOr, cst.BitAnd)
        ):
            both = meet([self.type_of(expr.left), self.type_of(expr.right)])
            return both if both.kind == QUERYSET else NOT_KNOWN
        if isinstance(
            expr,
            (cst.List, cst.ListComp, cst.Tuple, cst.Set, cst.SetComp, cst.Dict, cst.DictComp,
             cst.GeneratorExp, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString,
             cst.Integer, cst.Float),
        ):
            return QsType(OTHER, PROVEN, why="not a QuerySet but a " + type(expr).__name__.lower())
        if isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)):
            special = self.type_special_call(expr)
            if special is not None:
                return special
        root, steps = self.chain(expr)
        if not isinstance(root, cst.Name):
            return NOT_KNOWN
        if root.value in ("self", "super") and ".get_queryset" in steps[:3]:
            start = self.type_get_queryset(root, steps)
            if start is not None:
                cut = steps.index(".get_queryset") + 2
                return self.chains.type_chain(start, steps[cut:])
        return self.chains.type_chain(self.type_name(root), steps)

    def type_special_call(self, call: cst.Call) -> Optional[QsType]:
        """Calls whose result depends on an argument: `get_object_or_404(Model, ...)`."""
        if self.qualified(call.func) == GET_OBJECT_OR_404 and call.args:
            first = self.type_of(call.args[0].value)
            if first.kind == MODEL:
                return QsType(INSTANCE, first.confidence, model=first.model)
            if first.kind in (QUERYSET, MANAGER):
                return QsType(INSTANCE, first.confidence, model=first.model)
        return None

    def enclosing_class(self, node: cst.CSTNode) -> Optional[cst.ClassDef]:
        current = self.parents.get(node)
        function_seen = False
        while current is not None:
            if isinstance(current, cst.FunctionDef):
                if function_seen:
                    return None  # a nested function: `self` is not the method's
                function_seen = True
            if isinstance(current, cst.ClassDef):
                return current if function_seen else None
            current = self.parents.get(current)
        return None

    def type_get_queryset(self, root: cst.Name, steps: list[str]) -> Optional[QsType]:
        """`self.get_queryset()` / `super().get_queryset()` in a view or manager method."""
        if root.value == "self" and steps[:2] != [".get_queryset", "()"]:
            return None
        if root.value == "super" and steps[:3] != ["()", ".get_queryset", "()"]:
            return None
        cls_node = self.enclosing_class(root)
        if cls_node is None:
            return None
        qualname = f"{self.summary.module}.{cls_node.name.value}"
        index = self.chains.index
        kind = index.class_kind(qualname)
        if kind not in ("view", "manager"):
            return None
        why = (
            "`get_queryset()` of a view: a subclass may override it"
            if kind == "view"
            else "`get_queryset()` of a manager: a subclass may override it"
        )
        return QsType(QUERYSET, LIKELY, why=why)

    def type_name(self, node: cst.Name) -> QsType:
        name = node.value
        if name in ("None", "True", "False"):
            return QsType(OTHER, PROVEN, why=f"`{name}`")
        scope = self.scopes.get(node)
        if scope is None:
            return NOT_KNOWN
        assignments = list(scope[name]) if name in scope else []
        local = [a for a in assignments if not isinstance(a.scope, (GlobalScope, ClassScope))]
        if local:
            return self.type_local(name, local)
        if any(isinstance(a.scope, ClassScope) for a in assignments):
            return QsType(NOTHING, UNKNOWN, why=f"`{name}` is a class attribute")
        qualname = self.qualified(node)
        if qualname is None:
            return NOT_KNOWN
        if "." not in qualname:
            if name in self.summary.assigned and name not in self.summary.constants:
                return QsType(NOTHING, UNKNOWN, why=f"`{name}` is bound more than once in the module")
            qualname = f"{self.summary.module}.{qualname}"
        return self.chains.type_global(qualname)

    def type_local(self, name: str, assignments: list) -> QsType:
        types: list[QsType] = []
        for assignment in assignments:
            if not isinstance(assignment, Assignment):
                return QsType(NOTHING, UNKNOWN, why=f"`{name}` is bound by an import")
            types.append(self.type_binding(name, assignment.node))
        return meet(types)

    def type_binding(self, name: str, node: cst.CSTNode) -> QsType:
        """The type one binding gives its name: `x = <expr>`, a parameter, a loop target..."""
        if isinstance(node, cst.Param):
            return self.type_param(node)
        value = self.assigned_value(node)
        if value is None:
            return QsType(NOTHING, UNKNOWN, why=f"`{name}` is bound by something other than a plain assignment")
        if isinstance(value, _LoopItem):
            iterated = self.type_of(value.iterable)
            if iterated.kind == QUERYSET:
                return QsType(INSTANCE, iterated.confidence, model=iterated.model)
            return NOT_KNOWN
        return self.type_of(value)

    def assigned_value(self, target: cst.CSTNode) -> Optional[cst.BaseExpression]:
        """`x = value` / `x: T = value` -> value, for the Name target of the binding."""
        parent = self.parents.get(target)
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.target is target:
            return _LoopItem(parent.iter)
        if isinstance(parent, cst.AssignTarget):
            assign = self.parents.get(parent)
            if isinstance(assign, cst.Assign):
                return assign.value
        if isinstance(parent, cst.AnnAssign) and parent.target is target and parent.value is not None:
            return parent.value
        if isinstance(parent, cst.NamedExpr) and parent.target is target:
            return parent.value
        return None

    def type_param(self, param: cst.Param) -> QsType:
        unknown = QsType(NOTHING, UNKNOWN, why="a function parameter: callers may pass a list or None")
        if param.annotation is None:
            return unknown
        ann = param.annotation.annotation
        target = ann.value if isinstance(ann, cst.Subscript) else ann
        if not isinstance(target, (cst.Name, cst.Attribute)):
            return unknown
        qualname = self.qualified(target)
        if qualname and (
            self.chains.index.resolve(qualname) in QUERYSET_ANNOTATIONS
            or self.chains.index.class_kind(qualname) == "queryset"
        ):
            if param.default is not None:
                return QsType(NOTHING, UNKNOWN, near=True, why="a parameter with a default value")
            return QsType(QUERYSET, LIKELY, why="a parameter annotated as a QuerySet; callers may pass something else")
        return unknown
