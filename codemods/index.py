"""The project index: what the scanned code defines, read cheaply with `ast`.

Every scanned file is summarised once (`summarise`), the summaries are picklable (they cross
process boundaries and could be cached), and `ProjectIndex` merges them to answer questions no
single file can: which classes are Django models (directly or through other models, across
modules and re-exports), which manager attributes each model has, which classes are custom
managers or QuerySets, and which classes are views.

Nothing here imports the code it reads.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

from .kinds import QUERYSET_BUILDERS, VOLATILE_CALLS
from .modules import module_name_for

MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
APP_CONFIGS = frozenset({"django.apps.AppConfig", "django.apps.config.AppConfig"})
MANAGER_BASES = frozenset(
    {
        "django.db.models.Manager",
        "django.db.models.manager.Manager",
        "django.db.models.manager.BaseManager",
    }
)
QUERYSET_BASES = frozenset({"django.db.models.QuerySet", "django.db.models.query.QuerySet"})
# Class-based views of Django and DRF (and their mixins), by the module they live in.
VIEW_MODULES = (
    "django.views.",
    "rest_framework.views.",
    "rest_framework.generics.",
    "rest_framework.viewsets.",
    "rest_framework.mixins.",
)
# QuerySet methods that run a query without filling the QuerySet's result cache.
NON_CACHING_METHODS = frozenset("count exists aggregate get update delete in_bulk iterator explain".split())
VIEW_ALIASES = frozenset({"django.views.View", "rest_framework.views.APIView"})

# Django's own models, for projects that use them without scanning Django: qualified name ->
# (abstract?, manager attributes they declare). Stable public API since Django 1.x.
DJANGO_MODELS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "django.contrib.auth.models.AbstractUser": (True, ("objects",)),
    "django.contrib.auth.models.AbstractBaseUser": (True, ()),
    "django.contrib.auth.base_user.AbstractBaseUser": (True, ()),
    "django.contrib.auth.models.PermissionsMixin": (True, ()),
    "django.contrib.auth.models.User": (False, ("objects",)),
    "django.contrib.auth.models.Group": (False, ("objects",)),
    "django.contrib.auth.models.Permission": (False, ("objects",)),
    "django.contrib.contenttypes.models.ContentType": (False, ("objects",)),
    "django.contrib.sites.models.Site": (False, ("objects",)),
    "django.contrib.sessions.models.Session": (False, ("objects",)),
    "django.contrib.admin.models.LogEntry": (False, ("objects",)),
    "django.contrib.flatpages.models.FlatPage": (False, ("objects",)),
    "django.contrib.redirects.models.Redirect": (False, ("objects",)),
    # well-known libraries' model bases (their managers are plain or tree/polymorphic ones
    # that do not change what count()/exists() mean)
    "model_utils.models.TimeStampedModel": (True, ()),
    "model_utils.models.TimeFramedModel": (True, ()),
    "model_utils.models.UUIDModel": (True, ()),
    "django_extensions.db.models.TimeStampedModel": (True, ()),
    "django_extensions.db.models.TitleDescriptionModel": (True, ()),
    "django_extensions.db.models.TitleSlugDescriptionModel": (True, ()),
    "polymorphic.models.PolymorphicModel": (True, ("objects",)),
    "mptt.models.MPTTModel": (True, ("objects",)),
    "treebeard.mp_tree.MP_Node": (True, ("objects",)),
    "treebeard.ns_tree.NS_Node": (True, ("objects",)),
    "treebeard.al_tree.AL_Node": (True, ("objects",)),
    "wagtail.models.Page": (False, ("objects",)),
    "wagtail.core.models.Page": (False, ("objects",)),
}
# Meta options only a model has (forms and serializers have `model` and `fields` too).
MODEL_META_OPTIONS = frozenset(
    """abstract db_table ordering unique_together index_together indexes constraints proxy
    managed get_latest_by default_related_name permissions default_permissions
    verbose_name_plural order_with_respect_to select_on_save base_manager_name
    default_manager_name""".split()
)
# Class attributes that are model fields, not managers, though a library defines them.
FIELD_LIKE_CALLEES = frozenset({"TaggableManager", "GenericRelation", "GenericForeignKey"})
# Builtins a class attribute is often made with (`status = property(_status)`): never a manager
# (an unresolved name in a class body is the builtin; `getattr()` and the like can be anything).
NOT_MANAGER_BUILTINS = frozenset(
    "property staticmethod classmethod dict list set frozenset tuple str int float bool bytes range".split()
)

RELATION_FIELDS = {
    "ForeignKey": "fk",
    "OneToOneField": "o2o",
    "ManyToManyField": "m2m",
    "ParentalKey": "fk",  # modelcluster (wagtail); behaves as a ForeignKey
    "ParentalManyToManyField": "m2m",
    "TreeForeignKey": "fk",  # django-mptt
    "TreeOneToOneField": "o2o",
    "TreeManyToManyField": "m2m",
}


@dataclass
class Relation:
    field: str
    kind: str  # fk / o2o / m2m
    target: str  # resolved dotted name, "self", or an "app_label.Model" string
    related_name: Optional[str]


@dataclass
class ClassSummary:
    qualname: str
    name: str
    module: str
    lineno: int
    bases: list[str]
    extra_bases: list[str] = field(default_factory=list)  # QuerySet behind from_queryset()
    # class-level `name = <call>`: attribute -> resolved dotted name of what is called
    # (`Manager()` -> "django.db.models.Manager", `QS.as_manager()` -> "QS.as_manager").
    call_attrs: dict[str, str] = field(default_factory=dict)
    attrs: set[str] = field(default_factory=set)
    methods: dict[str, list[str]] = field(default_factory=dict)  # name -> parameter names
    method_returns: dict[str, list[Optional[Chain]]] = field(default_factory=dict)
    # method -> its return annotation's head, resolved ("bool", "typing.List", "shop.models.Order";
    # "|" for a union): a method annotated to return something else returns no QuerySet
    method_annotations: dict[str, str] = field(default_factory=dict)
    abstract: bool = False
    meta_ordering: bool = False
    relations: list[Relation] = field(default_factory=list)
    # what QS003 must know of views: reads and writes of `self.queryset` in methods
    queryset_reads: list[tuple[str, int]] = field(default_factory=list)  # (method, line), evaluating reads
    queryset_assigned: list[str] = field(default_factory=list)  # methods doing `self.queryset = ...`
    get_queryset_returns_attr: bool = False  # `def get_queryset(self): return self.queryset`
    # the body declares Django model fields or a `Meta` with model-only options: a model even
    # when its base is a library class the index cannot see
    model_like: bool = False
    ordering: list[str] = field(default_factory=list)  # Meta.ordering's strings ("?" if not literal)
    meta_model: Optional[str] = None  # `class Meta: model = X` (a ModelForm's model), resolved
    # an AppConfig's `label = "x"` and `name = "a.b"` (string constants in any class body)
    app_label: Optional[str] = None
    app_name: Optional[str] = None


@dataclass
class ModuleSummary:
    module: str
    path: str
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted target
    star_imports: list[str] = field(default_factory=list)
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)
    assigned: set[str] = field(default_factory=set)  # module-level names bound by assignment
    # module-level function -> the chains it returns (None: a return that is not a chain)
    function_returns: dict[str, list[Optional[Chain]]] = field(default_factory=dict)
    # module-level `NAME = <chain>` bound exactly once at module level
    constants: dict[str, Chain] = field(default_factory=dict)
    top_level: set[str] = field(default_factory=set)  # constants assigned in the body itself
    # what QS004 must know before it turns a name into a call (by local name)
    global_decls: set[str] = field(default_factory=set)  # `global NAME` in a function
    mutated: set[str] = field(default_factory=set)  # `NAME.x = ...`, `NAME[i] = ...`, `del NAME`
    default_refs: set[str] = field(default_factory=set)  # dotted names in default values
    local_names: set[str] = field(default_factory=set)  # names bound inside functions/classes
    # every name the module reads or binds anywhere (`open`, `print`, a star-imported name):
    # a factory named so would change what that name means
    used_names: set[str] = field(default_factory=set)
    usage_read: bool = False  # the four fields above are filled (read_name_usage)
    dunder_all: Optional[list[str]] = None
    # QS003: classes whose `queryset` attribute is read as `Class.queryset` (not through
    # self), and classes given a queryset by `Class.as_view(queryset=...)`
    class_queryset_reads: set[str] = field(default_factory=set)
    as_view_querysets: set[str] = field(default_factory=set)
    constant_lines: dict[str, int] = field(default_factory=dict)
    volatile: dict[str, str] = field(default_factory=dict)  # constant -> call evaluated at import
    suppressed_lines: dict[int, frozenset] = field(default_factory=dict)
    # QS007: the call graph and what decides whether a transaction is open. Callers and
    # functions are keyed "f" (module level), "C.m" (method of a module-level class), "C" (the
    # class itself, for its decorators), "" (module-level code) or "?" (a nested function).
    # Read on demand (`ProjectIndex.call_graph`: a re-parse), as QS004's name usage is.
    calls: list[tuple[str, str, int, bool]] = field(default_factory=list)  # (caller, callee, line, in `with atomic()`)
    function_facts: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # -> (first parameter, decorators)
    handed_over: list[tuple[str, str, int]] = field(default_factory=list)  # (function or view class passed as an argument, to what, line)
    calls_read: bool = False
    atomic_requests: bool = False  # mentions ATOMIC_REQUESTS (read as: may be on)
    select_for_update: bool = False  # mentions select_for_update (its QS007 result reads callers anywhere)
    # module-level `NAME = f("app", "Model")` / `f("app.Model")` with string arguments only:
    # NAME -> (resolved f, its arguments); `apps.get_model()` and wrappers of it name a model
    model_lookups: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    page_cache: bool = False  # mentions cache_page or the cache middleware (its QS008 result reads writes anywhere)
    # a module-level function has a parameter annotated with a QuerySet: its typing reads callers anywhere
    queryset_parameters: bool = False
    # names stored as plain attributes (`x.NAME = ...`, `setattr(x, "NAME", ...)`, `NAME: T` in
    # a class) and `Meta.default_related_name` values: typing by relation names reads them
    stored_names: set[str] = field(default_factory=set)
    default_related_names: list[str] = field(default_factory=list)


def annotated_with_queryset(arg: ast.arg) -> bool:
    """A parameter whose annotation names a QuerySet (`QuerySet[Order]`, `"OrderQuerySet"`)."""
    return arg.annotation is not None and "QuerySet" in ast.unparse(arg.annotation)


_BUILDER_CALL = re.compile(rb"\.(?:%s)\(" % b"|".join(sorted(w.encode() for w in QUERYSET_BUILDERS)))
# `x.<name> = ...` / `x.<name>: T = ...` / `x.<name> += ...`, and an annotated class attribute
# without a value (`<name>: list` in a dataclass or a TypedDict); the lookahead makes the lines
# that cannot match (most) fail at once
STORED_ATTRIBUTE = re.compile(
    rb"\n[ \t]*(?=[\w.]+[ \t]*[-+*/|&:=])"
    rb"(?:[\w.]*\.(\w+)[ \t]*(?::[ \t]*[\w.\[\], |'\"]+)?[-+*/|&]?=(?!=)|(\w+)[ \t]*:[^=\n,()]*(?=\n))"
)
# `setattr(x, "<name>", ...)`: a pattern of its own, as its literal start is found fast
STORED_BY_SETATTR = re.compile(rb"setattr\([^,)\n]*,\s*['\"](\w+)['\"]")
DEFAULT_RELATED_NAME = re.compile(rb"default_related_name\s*=\s*['\"]([^'\"]+)['\"]")
# `self.queryset` as written (also `self .queryset`, across a line break or a parenthesis)
_SELF_QUERYSET = re.compile(rb"\bself[\s\\)]*\.\s*queryset\b")
_BUILDER_RUN = re.compile(rb"\b(\w+(?:\.\w+)*)%s" % _BUILDER_CALL.pattern)  # group: the run before it


def parameters_building_querysets(function: ast.AST, lines: list[bytes]) -> frozenset[str]:
    """Unannotated parameters of an undecorated function that its text uses as the root of
    a QuerySet-building call (`orders.filter(`, `customer.orders.all(`): the shared typing
    types these from the function's callers, so the module's results depend on them."""
    if function.decorator_list:
        return frozenset()
    segment = b"".join(lines[function.lineno - 1 : function.end_lineno])
    if not _BUILDER_CALL.search(segment):
        return frozenset()
    # every name of a dotted run that ends in a builder call (`a.b.filter(`: a and b) is a root
    roots = {part for run in _builder_runs(segment) for part in run.split(b".")}
    return frozenset(a.arg for a in _parameters(function) if a.annotation is None and a.arg.encode() in roots)


def _builder_runs(segment: bytes) -> list[bytes]:
    """The dotted runs of names just before each builder call (what `_BUILDER_RUN` finds:
    `a.b` of `a.b.filter(`), read backwards from each call (a regex tried at every word)."""
    runs = []
    for match in _BUILDER_CALL.finditer(segment):
        end = start = match.start()
        while start and segment[start - 1] in _RUN_BYTES:
            start -= 1
        run = segment[start:end].rpartition(b"..")[2].lstrip(b".")  # names joined by single dots
        if run and not run.endswith(b"."):
            runs.append(run)
    return runs


_RUN_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def _parameters(function: ast.AST) -> list[ast.arg]:
    args = function.args
    return [*args.posonlyargs, *args.args, *args.kwonlyargs]


def resolve_relative(module: str, is_package: bool, level: int, target: Optional[str]) -> str:
    """`from ..x import y` in `module` -> absolute dotted package of `x`."""
    if level == 0:
        return target or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    base = ".".join(parts)
    if target:
        return f"{base}.{target}" if base else target
    return base


def dotted(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


Chain = tuple[str, tuple[str, ...]]  # (root, steps): `Order.objects.filter(x)` -> ("app.models.Order", (".objects", ".filter", "()"))


def chain_steps(expr: ast.AST) -> tuple[ast.AST, list[str]]:
    """`Order.objects.filter(x)[0]` -> (Name Order, [".objects", ".filter", "()", "[i]"])."""
    steps: list[str] = []
    node = expr
    while True:
        if isinstance(node, ast.Attribute):
            steps.append("." + node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            steps.append("()")
            node = node.func
        elif isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                # `qs[::2]` is a list (Django slices the fetched rows), not a QuerySet
                steps.append("[::]" if node.slice.step is not None else "[:]")
            else:
                steps.append("[i]")
            node = node.value
        else:
            break
    steps.reverse()
    return node, steps


def ast_chain(node: ast.AST, resolve) -> Optional[Chain]:
    """A call/attribute chain as (root, steps); the root resolved by `resolve` when it can be."""
    root, steps = chain_steps(node)
    if not isinstance(root, ast.Name):
        return None
    name = root.id
    if name not in ("self", "super", "cls"):
        name = resolve(name) or f"?{name}"
    if ".order_by" in steps and _orders_through_relation(node):
        steps.append(ORDERING_JOIN)  # the args are not kept: say the ordering may join
    return name, tuple(steps)


# A marker step after a recorded chain whose `order_by()` may join a relation (its args are
# not kept in the chain): `count()` of it is never safe.
ORDERING_JOIN = "!ordering_join"


def _orders_through_relation(node: ast.AST) -> bool:
    while isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "order_by":
            if node.keywords or any(
                not (isinstance(a, ast.Constant) and isinstance(a.value, str)) or "__" in a.value
                for a in node.args
            ):
                return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _statements(func: ast.AST) -> Iterator[ast.stmt]:
    """The statements of a function's body, nested blocks included, not looking into nested
    functions or classes (their statements run elsewhere)."""
    stack = list(getattr(func, "body", []))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield node
        for name in _BLOCKS:
            stack.extend(getattr(node, name, None) or ())


def _returns(func: ast.AST, source_lines: Optional[list[bytes]] = None) -> list[Optional[ast.expr]]:
    """Return values of a function, not looking into nested functions or classes.

    Only statements are walked (a return is one), which skips the expressions that make up
    most of a tree; a generator is told by the word `yield` in its lines (a generator's call
    gives no QuerySet, whatever it returns)."""
    if source_lines is not None:
        segment = b"".join(source_lines[func.lineno - 1 : func.end_lineno])
        if b"yield" in segment:
            return [None]
        if b"return" not in segment:
            return []
    found: list[Optional[ast.expr]] = []
    stack = list(func.body)  # (`_statements`, inlined: this runs for every function)
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Return:
            found.append(node.value)
        elif kind in _DEFINITIONS:
            continue
        elif source_lines is None and kind is ast.Expr and isinstance(node.value, (ast.Yield, ast.YieldFrom)):
            found.append(None)
        for name in _BLOCKS:
            block = getattr(node, name, None)
            if block:
                stack.extend(block)
    return found


# values that are never a QuerySet: a local bound to one of these and returned makes a method's
# result "not a chain" (`result = []; ...; return result`)
_LITERALS = (ast.List, ast.Dict, ast.Set, ast.Tuple, ast.ListComp, ast.DictComp, ast.SetComp,
             ast.GeneratorExp, ast.Constant, ast.JoinedStr, ast.Compare)


def _literal_locals(func: ast.AST) -> set[str]:
    """Names a function binds (at statement level, not in nested functions) to a literal, a
    comprehension, a comparison or a constant."""
    names: set[str] = set()
    for node in _statements(func):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, _LITERALS):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def annotation_head(node: ast.expr) -> Optional[str]:
    """The dotted head of an annotation (`list` of `list[int]`, `QuerySet` of "QuerySet[X]"),
    "|" for a union written with `|`, None when it has no such head."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except (SyntaxError, ValueError):
            return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return "|"
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return dotted(node)


class _Summariser:
    def __init__(self, summary: ModuleSummary, source: bytes = b""):
        self.s = summary
        self.source = source
        self.lines = source.splitlines(keepends=True) if source else None

    def resolve(self, name: Optional[str]) -> Optional[str]:
        """Resolve a dotted expression text through this module's imports and definitions."""
        if not name:
            return None
        head, _, rest = name.partition(".")
        if head in self.s.imports:
            base = self.s.imports[head]
        elif head in self.s.classes or head in self.s.functions or head in self.s.assigned:
            base = f"{self.s.module}.{head}"
        else:
            return None
        return f"{base}.{rest}" if rest else base

    def run(self, tree: ast.Module) -> None:
        bound_twice: set[str] = set()
        # Imports anywhere at module level (including under `if`/`try`) count.
        for node in _module_level(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.s.imports[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        self.s.imports.setdefault(head, head)
            elif isinstance(node, ast.ImportFrom):
                base = resolve_relative(self.s.module, self.s.is_package, node.level, node.module)
                for alias in node.names:
                    if alias.name == "*":
                        self.s.star_imports.append(base)
                    else:
                        self.s.imports[alias.asname or alias.name] = f"{base}.{alias.name}"
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.s.functions.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in _bound_names(target):
                        if name in self.s.assigned:
                            bound_twice.add(name)
                        self.s.assigned.add(name)
            elif isinstance(node, ast.ClassDef):
                self.s.classes[node.name] = ClassSummary(
                    qualname=f"{self.s.module}.{node.name}",
                    name=node.name,
                    module=self.s.module,
                    lineno=node.lineno,
                    bases=[],
                )
        chain = lambda expr: ast_chain(expr, self.resolve) if expr is not None else None  # noqa: E731
        for node in _module_level(tree.body):
            if isinstance(node, ast.ClassDef):
                self.read_class(node, self.s.classes[node.name])
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.s.function_returns[node.name] = [chain(r) for r in _returns(node, self.lines)]
                if b"QuerySet" in self.source and any(map(annotated_with_queryset, _parameters(node))):
                    self.s.queryset_parameters = True
                elif self.lines is not None and parameters_building_querysets(node, self.lines):
                    self.s.queryset_parameters = True  # typed from its callers (querysets.type_from_callers)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name):
                    name = targets[0].id
                    if name not in bound_twice:
                        self.read_manager_alias(name, node)
                        self.read_model_lookup(name, node.value)
                    value = chain(node.value)
                    if value is not None and name not in bound_twice:
                        self.s.constants[name] = value
                        self.s.constant_lines[name] = node.lineno
                        volatile = self.volatile_call(node.value)
                        if volatile:
                            self.s.volatile[name] = volatile
                        if node in tree.body:
                            self.s.top_level.add(name)
                    if name == "__all__" and isinstance(node.value, (ast.List, ast.Tuple)):
                        self.s.dunder_all = [
                            e.value for e in node.value.elts
                            if isinstance(e, ast.Constant) and isinstance(e.value, str)
                        ]
        self.read_usage(tree)
        self.s.atomic_requests = b"ATOMIC_REQUESTS" in self.source
        self.s.select_for_update = b"select_for_update" in self.source
        self.s.page_cache = b"cache_page" in self.source or b"CacheMiddleware" in self.source
        self.read_stored_names()

    def read_stored_names(self) -> None:
        """The attribute names the module stores (`x.<name> = ...`, `setattr(x, "<name>", ...)`,
        `<name>: T` in a class body) and its `default_related_name`s: what decides whether an
        accessor's name is a relation's (querysets.type_by_relation_name)."""
        stored = self.s.stored_names
        for match in STORED_ATTRIBUTE.finditer(self.source):
            stored.add((match.group(1) or match.group(2)).decode())
        if b"setattr(" in self.source:
            stored.update(match.group(1).decode() for match in STORED_BY_SETATTR.finditer(self.source))
        if b"default_related_name" in self.source:
            self.s.default_related_names = [
                v.decode("utf-8", "replace") for v in DEFAULT_RELATED_NAME.findall(self.source)
            ]

    def read_usage(self, tree: ast.Module) -> None:
        """`Class.queryset` reads and `View.as_view(queryset=...)` calls (QS003), in the
        statements whose text mentions them at all."""
        if self.lines is not None and b".queryset" not in self.source and not (
            b"as_view(" in self.source and b"queryset=" in self.source
        ):
            return
        s = self.s
        for node in self._mentioning(tree.body, (b".queryset", b"queryset=")):
            if isinstance(node, ast.Attribute) and node.attr == "queryset":
                root = dotted(node.value)
                if root and root not in ("self",):
                    s.class_queryset_reads.add(self.resolve(root) or f"?{root}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "as_view"
                and any(k.arg == "queryset" for k in node.keywords)
            ):
                root = dotted(node.func.value)
                if root:
                    s.as_view_querysets.add(self.resolve(root) or f"?{root}")

    def _mentioning(self, body: list[ast.stmt], words: tuple[bytes, ...]) -> Iterator[ast.AST]:
        """Every node of the statements whose text holds one of `words`; a class is entered
        statement by statement (a form's one `self.fields[...].queryset` line does not walk
        all its methods)."""
        for stmt in body:
            if not any(self.mentions(stmt, word) for word in words):
                continue
            if isinstance(stmt, ast.ClassDef):
                yield from self._mentioning(stmt.body, words)
                for part in (*stmt.decorator_list, *stmt.bases, *stmt.keywords):
                    yield from ast.walk(part)
            else:
                yield from ast.walk(stmt)

    def read_calls(self, tree: ast.Module) -> None:
        """QS007's facts: every call of a resolvable name (and `self.m()` in a method), with
        the function it is in and whether a `with transaction.atomic()` encloses it; each
        function's first parameter and decorators. A deep walk: run on demand only."""
        self.s.calls_read = True
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.read_function(node, node.name, None)
            elif not isinstance(node, ast.ClassDef):  # a URLconf: `path("x", atomic(view))`
                self.read_body([node], "", None)
            elif isinstance(node, ast.ClassDef):
                self.s.function_facts[node.name] = ("", self.decorators(node))
                for stmt in node.body:
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.read_function(stmt, f"{node.name}.{stmt.name}", node.name)

    def read_handed_over(self, call: ast.Call, class_name: Optional[str]) -> None:
        """Functions (and `View.as_view()`) passed to a call: whoever receives them may call
        them inside a transaction or not (`atomic(view)`, `path("x", view)`)."""
        receiver = self.resolve(dotted(call.func)) or "?"
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "as_view":
                arg = arg.func.value
            text = dotted(arg)
            if text is None:
                continue
            head, _, rest = text.partition(".")
            if head == "self" and class_name is not None and rest and "." not in rest:
                name = f"{self.s.module}.{class_name}.{rest}"
            else:
                name = self.resolve(text)
            if name is not None:
                self.s.handed_over.append((name, receiver, call.lineno))

    def decorators(self, node: ast.AST) -> tuple[str, ...]:
        out = []
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            text = dotted(target)
            out.append(self.resolve(text) or f"?{text}")
            if isinstance(decorator, ast.Call):  # method_decorator(transaction.atomic, ...)
                out.extend(self.resolve(dotted(a)) or f"?{dotted(a)}" for a in decorator.args[:1])
        return tuple(out)

    def read_function(self, func: ast.AST, key: str, class_name: Optional[str]) -> None:
        args = func.args
        params = [*args.posonlyargs, *args.args]
        if class_name is not None and params:
            params = params[1:]  # self / cls
        self.s.function_facts[key] = (params[0].arg if params else "", self.decorators(func))
        self.read_body(func.body, key, class_name)

    def read_body(self, body: list[ast.stmt], key: str, class_name: Optional[str]) -> None:
        calls = self.s.calls
        stack: list[tuple[ast.AST, bool, str]] = [(stmt, False, key) for stmt in body]
        Call, AST, fields_of = ast.Call, ast.AST, _CALL_FIELDS.get
        while stack:
            node, atomic, caller = stack.pop()
            kind = type(node)
            if kind is Call:
                text = dotted(node.func)
                if text is not None:
                    head, _, rest = text.partition(".")
                    callee = self.resolve(text)
                    if head == "self" and class_name is not None and rest and "." not in rest:
                        callee = f"{self.s.module}.{class_name}.{rest}"
                    if callee is not None:
                        calls.append((caller, callee, node.lineno, atomic))
                self.read_handed_over(node, class_name)
            elif kind in _OWN_CALLERS:
                caller = "?"  # its callers are not this function's
            elif kind is ast.With or kind is ast.AsyncWith:
                for item in node.items:
                    expr = item.context_expr
                    target = expr.func if isinstance(expr, ast.Call) else expr
                    if self.resolve(dotted(target)) == "django.db.transaction.atomic":
                        atomic = True
            fields = fields_of(kind)
            if fields is None:
                fields = _CALL_FIELDS[kind] = tuple(f for f in kind._fields if f not in _NO_CALLS)
            # children in source order, popped last first (as `ast.iter_child_nodes` gives them)
            for name in fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    stack.extend([(child, atomic, caller) for child in value if isinstance(child, AST)])
                elif isinstance(value, AST):
                    stack.append((value, atomic, caller))

    def read_class(self, node: ast.ClassDef, cls: ClassSummary) -> None:
        for base in node.bases:
            text = dotted(base)
            if isinstance(base, ast.Subscript):  # Generic[...] style bases
                text = dotted(base.value)
            if (
                isinstance(base, ast.Call)
                and isinstance(base.func, ast.Attribute)
                and base.func.attr == "from_queryset"
            ):
                # `class M(Manager.from_queryset(QS))`: a manager that also has QS's methods
                text = dotted(base.func.value)
                for arg in base.args[:1]:
                    qs_text = dotted(arg)
                    cls.extra_bases.append(self.resolve(qs_text) or f"?{qs_text}")
            cls.bases.append(self.resolve(text) or f"?{text}")
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = stmt.args
                if self.lines is None or b"queryset" in self.source and _SELF_QUERYSET.search(
                    b"".join(self.lines[stmt.lineno - 1 : stmt.end_lineno])
                ):
                    self.read_queryset_uses(stmt, cls)
                returns = _returns(stmt, self.lines)
                literal_locals = _literal_locals(stmt) if any(isinstance(r, ast.Name) for r in returns) else ()
                cls.method_returns[stmt.name] = [
                    ast_chain(r, self.resolve)
                    if r is not None and not (isinstance(r, ast.Name) and r.id in literal_locals) else None
                    for r in returns
                ]
                if stmt.returns is not None:
                    head = annotation_head(stmt.returns)
                    if head is not None:
                        cls.method_annotations[stmt.name] = self.resolve(head) or head
                cls.methods[stmt.name] = [
                    a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
                ] + (["*" + args.vararg.arg] if args.vararg else []) + (
                    ["**" + args.kwarg.arg] if args.kwarg else []
                )
            elif isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
                for meta_stmt in stmt.body:
                    if isinstance(meta_stmt, ast.Assign):
                        for target in meta_stmt.targets:
                            if isinstance(target, ast.Name) and target.id == "abstract":
                                value = meta_stmt.value
                                cls.abstract = isinstance(value, ast.Constant) and value.value is True
                            if isinstance(target, ast.Name) and target.id == "ordering":
                                cls.meta_ordering = True
                                cls.ordering = _ordering_strings(meta_stmt.value)
                            if isinstance(target, ast.Name) and target.id in MODEL_META_OPTIONS:
                                cls.model_like = True
                            if isinstance(target, ast.Name) and target.id == "model":
                                cls.meta_model = self.resolve(dotted(meta_stmt.value))
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                cls.attrs.update(names)
                if isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                    cls.app_label = stmt.value.value if "label" in names else cls.app_label
                    cls.app_name = stmt.value.value if "name" in names else cls.app_name
                if isinstance(stmt.value, ast.Call):
                    called = self.describe_call(stmt.value)
                    for name in names:
                        if called:
                            cls.call_attrs[name] = called
                        relation = self.relation(name, stmt.value)
                        if relation:
                            cls.relations.append(relation)
                        if called and _is_model_field(called):
                            cls.model_like = True

    def read_manager_alias(self, name: str, node: ast.AST) -> None:
        """`OrderManager = Manager.from_queryset(OrderQuerySet)`: a manager class, recorded
        as one (so `objects = OrderManager()` elsewhere has OrderQuerySet's methods)."""
        call = node.value
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "from_queryset"
            and call.args
            and name not in self.s.classes
        ):
            return
        manager, queryset = dotted(call.func.value), dotted(call.args[0])
        cls = ClassSummary(
            qualname=f"{self.s.module}.{name}", name=name, module=self.s.module,
            lineno=node.lineno, bases=[self.resolve(manager) or f"?{manager}"],
            extra_bases=[self.resolve(queryset) or f"?{queryset}"],
        )
        self.s.classes[name] = cls

    def read_model_lookup(self, name: str, value: ast.AST) -> None:
        if (
            isinstance(value, ast.Call) and value.args and not value.keywords and len(value.args) <= 2
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in value.args)
        ):
            func = self.resolve(dotted(value.func))
            if func:
                self.s.model_lookups[name] = (func, tuple(a.value for a in value.args))

    def mentions(self, node: ast.AST, word: bytes) -> bool:
        """Does the source of `node` contain `word`? (a cheap gate before a deep walk)"""
        if self.lines is None:
            return True
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        return word in b"".join(self.lines[start - 1 : node.end_lineno])

    def read_queryset_uses(self, method: ast.AST, cls: ClassSummary) -> None:
        parents: dict[int, ast.AST] = {}
        uses: list[ast.Attribute] = []
        todo = deque([method])
        while todo:  # one walk (in `ast.walk`'s order): `self.queryset` nodes, every node's parent
            node = todo.popleft()
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
                todo.append(child)
            if (
                type(node) is ast.Attribute and node.attr == "queryset"
                and type(node.value) is ast.Name and node.value.id == "self"
            ):
                uses.append(node)
        for node in uses:
            if isinstance(node.ctx, (ast.Store, ast.Del)):
                cls.queryset_assigned.append(method.name)
                continue
            parent = parents.get(id(node))
            grand = parents.get(id(parent)) if parent is not None else None
            if (
                isinstance(parent, ast.Attribute)
                and isinstance(grand, ast.Call)
                and grand.func is parent
                and parent.attr in QUERYSET_BUILDERS | NON_CACHING_METHODS
            ):
                continue  # `self.queryset.filter(...)`, `.count()`: nothing cached on the attribute
            cls.queryset_reads.append((method.name, node.lineno))
        body = [s for s in method.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        if (
            method.name == "get_queryset"
            and len(body) == 1
            and isinstance(body[0], ast.Return)
            and dotted(body[0].value) == "self.queryset"
        ):
            cls.get_queryset_returns_attr = True

    def volatile_call(self, expr: ast.AST) -> Optional[str]:
        """A call in `expr` whose value depends on when it runs (`timezone.now()`)."""
        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                name = self.resolve(dotted(node.func))
                if name in VOLATILE_CALLS:
                    return (dotted(node.func) or name) + "()"
            elif isinstance(node, ast.Name) and node.id in self.s.volatile:
                return self.s.volatile[node.id]
        return None

    def describe_call(self, call: ast.Call) -> Optional[str]:
        func = call.func
        # `Manager.from_queryset(QS)()`
        if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute):
            if func.func.attr == "from_queryset":
                inner = self.resolve(dotted(func.func.value)) or f"?{dotted(func.func.value)}"
                qs = func.args[0] if func.args else None
                qs_name = self.resolve(dotted(qs)) if qs is not None else None
                return f"{inner}.from_queryset({qs_name or '?'})"
            return None
        text = dotted(func)
        if text is None:
            return None
        return self.resolve(text) or f"?{text}"

    def relation(self, name: str, call: ast.Call) -> Optional[Relation]:
        text = dotted(call.func) or ""
        kind = RELATION_FIELDS.get(text.rsplit(".", 1)[-1])
        if kind is None:
            return None
        target_node = call.args[0] if call.args else None
        for kw in call.keywords:
            if kw.arg == "to":
                target_node = kw.value
        related_name = None
        for kw in call.keywords:
            if kw.arg == "related_name" and isinstance(kw.value, ast.Constant):
                related_name = kw.value.value if isinstance(kw.value.value, str) else None
        if isinstance(target_node, ast.Constant) and isinstance(target_node.value, str):
            target = target_node.value
        else:
            target = self.resolve(dotted(target_node)) if target_node is not None else None
        if not target:
            return None
        return Relation(field=name, kind=kind, target=target, related_name=related_name)


def _ordering_strings(value: ast.AST) -> list[str]:
    """`ordering = ["-created", "items__quantity"]` -> its strings; "?" for anything else."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return [
            e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else "?"
            for e in value.elts
        ]
    return ["?"]


def _is_model_field(called: str) -> bool:
    """`models.CharField(...)`, `models.ForeignKey(...)`: a Django model field's class."""
    name = called.rpartition(".")[2]
    return called.startswith("django.db.models.") and (name.endswith("Field") or name in RELATION_FIELDS)


def _bound_names(target: ast.AST) -> Iterable[str]:
    """Names a target binds: `x`, `a, (b, *c)`; not the roots of `x.attr = ` or `x[i] = `."""
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _bound_names(elt)
    elif isinstance(target, ast.Starred):
        yield from _bound_names(target.value)


def defines_name(summary: ModuleSummary, name: str) -> bool:
    return name in summary.classes or name in summary.functions or name in summary.assigned


def exports_name(summary: ModuleSummary, name: str) -> bool:
    """Does `from <module> import *` bind `name`? (`__all__`, else its public names; a
    star import inside it may bind it too)"""
    if summary.dunder_all is not None:
        return name in summary.dunder_all
    if name.startswith("_"):
        return False
    return defines_name(summary, name) or name in summary.imports or bool(summary.star_imports)


def _is_django_queryset_machinery(qualname: str) -> bool:
    """Django's own Manager/QuerySet classes (scanned when the project is Django itself):
    their methods are the standard ones, not overrides."""
    return (
        qualname in MANAGER_BASES
        or qualname in QUERYSET_BASES
        or qualname.startswith("django.db.models.")
    )


def _module_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements that run at import: the body, and inside module-level if/try blocks."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _module_level(node.body)
            for handler in node.handlers:
                yield from _module_level(handler.body)
            yield from _module_level(node.orelse)
            yield from _module_level(node.finalbody)


# QS007's call walk (`_Summariser.read_body`): nodes that are their own callers, and the
# fields of each node type that may hold a call (not contexts, operators or names)
_OWN_CALLERS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef})
_NO_CALLS = frozenset({"ctx", "op", "ops", "type_comment", "type_ignores", "id", "attr", "arg", "name", "names",
                       "module", "level", "kind", "is_async", "conversion", "lineno", "col_offset"})
_CALL_FIELDS: dict[type, tuple[str, ...]] = {}


def summarise(path: str, source: bytes, tree: Optional[ast.Module] = None) -> ModuleSummary:
    module, is_package = module_name_for(path)
    summary = ModuleSummary(module=module, path=path, is_package=is_package)
    if tree is None:
        tree = ast.parse(source)
    _Summariser(summary, source).run(tree)
    lowered = source.lower()
    if b"qsfix" in lowered or b"noqa" in lowered:
        from .files import decode
        from .suppression import suppressions

        summary.suppressed_lines = suppressions(decode(source))
    return summary


@dataclass
class ManagerInfo:
    proven: bool  # False: declared through a class the index cannot see
    classes: tuple[str, ...] = ()  # project Manager/QuerySet classes behind it


class ProjectIndex:
    def __init__(self, summaries: Iterable[ModuleSummary] = ()):
        self.modules: dict[str, ModuleSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        for summary in summaries:
            self.add(summary)
        self._kind_cache: dict[str, Optional[str]] = {}
        self._resolving: set[str] = set()
        # set by the engine: the modules being rewritten, and files that failed to parse
        self.targets: set[str] = set(self.modules)
        self.failed_sources: dict[str, bytes] = {}
        # set by the engine: each file's bytes as it read them (by absolute path), so a fact
        # read later comes from the text being judged (a stdin buffer), never the disk again
        self.sources: dict[str, bytes] = {}
        # set by the engine while it analyses: the trees it keeps for the analysis (`tree_of`)
        self.trees = None
        # what a pass read in another module (`module_fact`), by (pass code, what, module);
        # with -j the engine may fill it with facts made by the worker holding the module's tree
        self.module_facts: dict[tuple[str, str, str], object] = {}
        # set by the engine while it gathers what a file asks for: the facts not known yet
        self.asking: Optional[set[tuple[str, str, str]]] = None

    def add(self, summary: ModuleSummary) -> None:
        self.modules[summary.module] = summary
        for cls in summary.classes.values():
            self.classes[cls.qualname] = cls

    # -- names ---------------------------------------------------------------------------
    def resolve(self, name: str, _depth: int = 0) -> str:
        """Follow re-exports (`from .models import Order` in a package) to the defining name."""
        if name in self.classes or _depth > 20:
            return name
        if _depth == 0:  # (the index does not change once built: each name is followed once)
            memo = self.__dict__.setdefault("_resolved", {})
            if name not in memo:
                memo[name] = self._resolve(name, 0)
            return memo[name]
        return self._resolve(name, _depth)

    def _resolve(self, name: str, _depth: int) -> str:
        module, _, attr = name.rpartition(".")
        summary = self.modules.get(module)
        if summary is not None and attr in summary.imports:
            return self.resolve(summary.imports[attr], _depth + 1)
        if summary is not None and summary.star_imports and not defines_name(summary, attr):
            # `from .orders import *` in `models/__init__.py`: the name lives further on
            for star in summary.star_imports:
                target = self.modules.get(star)
                if target is None or not exports_name(target, attr):
                    continue
                resolved = self.resolve(f"{star}.{attr}", _depth + 1)
                if resolved != f"{star}.{attr}" or defines_name(target, attr):
                    return resolved
        if summary is None and module:
            # `pkg.models.Order` written as `pkg.Order` two levels deep, etc.
            head = self.resolve(module, _depth + 1)
            if head != module:
                return self.resolve(f"{head}.{attr}", _depth + 1)
        return name

    def name_usage(self, module: str) -> ModuleSummary:
        """The module's summary with QS004's name-usage facts read (once; a re-parse of the
        bytes the engine read). Without them (a worker, given summaries whose facts the
        parent read already) the module counts as unreadable: the plan then skips."""
        summary = self.modules[module]
        # a summary cached before `used_names` existed has its other facts but not that one
        if not summary.usage_read or not hasattr(summary, "used_names"):
            data = self.sources.get(summary.path)
            try:
                if data is None:
                    raise ValueError("source not kept")
                tree = self.tree_of(summary.path, data)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                summary.usage_read = True
                summary.global_decls.add("*")  # unreadable now: assume the worst
                return summary
            read_name_usage(summary, tree)
        return summary

    def module_fact(self, key: tuple[str, str, str], compute: Callable[[], object]) -> object:
        """What a pass reads in another module, `key` = (its code, what, the module), made by
        `compute()` once per run. While the engine gathers what a file asks for (`asking` is
        a set: see engine.PoolExecutor), a fact not known yet is only noted there, and None
        returned: the engine has it made where the module's tree is, then analyses the file
        again."""
        if key in self.module_facts:
            return self.module_facts[key]
        if self.asking is not None:
            self.asking.add(key)
            return None
        fact = self.module_facts[key] = compute()
        return fact

    def source_bytes(self, path: str) -> bytes:
        """A file's bytes: as the engine read them when it kept them (`sources`, by absolute
        path: a stdin buffer is judged as given), else from the disk."""
        data = getattr(self, "sources", {}).get(path)
        if data is None:
            with open(path, "rb") as handle:
                data = handle.read()
        return data

    def tree_of(self, path: str, data: Optional[bytes] = None) -> ast.Module:
        """A module's tree, for a fact read on demand: the one the engine keeps for the
        file's analysis when it still has it (parsed from the same bytes, `data` or
        `source_bytes`), else parsed again (and kept, within the trees' budget: with -j, a
        worker reads the files the other parsed, often for more than one fact). A kept tree
        is shared, never taken (and never changed: every reader only reads)."""
        if data is None:
            data = self.source_bytes(path)
        trees = getattr(self, "trees", None)
        tree = trees.peek(path, data) if trees is not None else None
        if tree is None:
            from .trees import parse_frozen  # what lives to the end is kept from collections

            tree = parse_frozen(data, path)
            if trees is not None:
                trees.keep_read(path, data, tree)  # another fact may read it (up to the budget)
        return tree

    def read_for_facts(self, path: str, words: Callable[[bytes], Optional[Iterable[str]]]):
        """Another module read for a fact: `(tree, text, lines, skip_bodies)`, the tree the
        engine keeps (or parsed again), and the functions whose text names none of
        `words(data)` (or holds no match, when it is a pattern) left unread (`codemods.quiet`; `None`: read every body)."""
        from .files import split_lines
        from .quiet import quiet_definitions

        data = self.source_bytes(path)
        tree = self.tree_of(path, data)
        text = data.decode("utf-8", "replace")
        lines = split_lines(text)
        wanted = words(data)
        if wanted is not None and not isinstance(wanted, re.Pattern):
            wanted = set(wanted)
        return tree, text, lines, quiet_definitions(tree, text, lines, wanted)

    def call_graph(self, module: str) -> ModuleSummary:
        """The module's summary with QS007's call facts read (once; from its tree)."""
        summary = self.modules[module]
        if not summary.calls_read:
            try:
                source = self.source_bytes(summary.path)
                tree = self.tree_of(summary.path, source)
            except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
                summary.calls_read = True
                summary.calls.append(("?", "*", 0, False))  # unreadable now: a caller we cannot see
                return summary
            _Summariser(summary, source).read_calls(tree)
        return summary

    def call_sites(self, qualname: str) -> list[tuple[str, str, int, bool]]:
        """Every call of the function or method `qualname` in the project, as (module,
        caller, line, in `with atomic()`); modules not naming it (for a method: its class)
        are not parsed."""
        return [site for name in self.modules_naming(qualname) for site in self.call_sites_in(name, qualname)]

    def call_sites_in(self, module: str, qualname: str) -> list[tuple[str, str, int, bool]]:
        """The calls of `qualname` in one module (see `call_sites`)."""
        by_callee = self._calls_by_callee(module)
        return [(module, caller, line, atomic)
                for caller, line, atomic in by_callee.get("*", by_callee.get(qualname, ()))]

    def _calls_by_callee(self, module: str) -> dict[str, list[tuple[str, int, bool]]]:
        """The module's calls by the name their callee resolves to, in order (resolved once
        for every function asked about); "*": the module could not be read (its only entry)."""
        if getattr(self, "_callees", None) is None:
            self._callees: dict[str, dict[str, list[tuple[str, int, bool]]]] = {}
        by_callee = self._callees.get(module)
        if by_callee is None:
            by_callee = self._callees[module] = {}
            for caller, callee, line, atomic in self.call_graph(module).calls:
                key = callee if callee == "*" else self.resolve(callee)
                by_callee.setdefault(key, []).append((caller, line, atomic))
        return by_callee

    def handed_over_sites(self, qualname: str) -> list[tuple[str, str, int]]:
        """Where the function (or view class) `qualname` is passed to a call, as (module,
        what it is passed to, line)."""
        sites = []
        for name in self.modules_naming(qualname):
            summary = self.call_graph(name)
            for passed, receiver, line in summary.handed_over:
                if self.resolve(passed) == qualname:
                    sites.append((name, receiver, line))
            if any(callee == "*" for _, callee, _, _ in summary.calls):
                sites.append((name, "?", 0))  # unreadable now
        return sites

    def modules_naming(self, qualname: str) -> list[str]:
        """Modules whose text names the function (for a method: its class)."""
        owner, _, name = qualname.rpartition(".")
        word = (owner.rpartition(".")[2] if owner in self.classes else name).encode()
        if getattr(self, "_sources_naming", None) is None:
            self._sources_naming: dict[bytes, list[str]] = {}
        if word not in self._sources_naming:
            naming = []
            for module, summary in self.modules.items():
                try:
                    if word in self.source_bytes(summary.path):
                        naming.append(module)
                except OSError:
                    naming.append(module)
            self._sources_naming[word] = naming
        return self._sources_naming[word]

    def is_module(self, name: str) -> bool:
        """A scanned module, or a package prefix of one (`shop` for `shop.models`)."""
        if name in self.modules:
            return True
        if getattr(self, "_prefixes", None) is None:
            self._prefixes = {
                ".".join(m.split(".")[:i]) for m in self.modules for i in range(1, m.count(".") + 1)
            }
        return name in self._prefixes

    # -- class kinds -------------------------------------------------------------------------
    def class_kind(self, qualname: str) -> Optional[str]:
        """'model', 'manager', 'queryset' or None, following bases across the project."""
        qualname = self.resolve(qualname)
        if qualname in self._kind_cache:
            return self._kind_cache[qualname]
        if qualname in MODEL_BASES or qualname in DJANGO_MODELS:
            return "model"
        if qualname in MANAGER_BASES:
            return "manager"
        if qualname in QUERYSET_BASES:
            return "queryset"
        if qualname in VIEW_ALIASES or (
            qualname.startswith(VIEW_MODULES) and qualname not in self.classes
        ):
            return "view"
        cls = self.classes.get(qualname)
        if cls is None or qualname in self._resolving:
            return None
        self._resolving.add(qualname)
        kind = None
        for base in cls.bases:
            if base.startswith("?"):
                continue
            if base.endswith(".from_queryset"):
                base = base.rsplit(".", 1)[0]
            kind = self.class_kind(base)
            if kind:
                break
        if kind is None and cls.model_like and any(
            b not in ("?object", "object") for b in self.external_bases(qualname)
        ):
            kind = "model"  # declares model fields on a library base the index cannot see
        self._resolving.discard(qualname)
        self._kind_cache[qualname] = kind
        return kind

    def model_by_label(self, arguments: tuple[str, ...]) -> Optional[str]:
        """`("shop", "Order")` / `("shop.Order",)` -> the one concrete model of that name
        (case-insensitive, as the app registry) in a module of a package named like the app
        label (Django's default label), or None."""
        if len(arguments) == 1:
            label, _, name = arguments[0].rpartition(".")
        else:
            label, name = arguments
        if not label or not name:
            return None
        labelled, relabelled = self.app_labels()
        if label in labelled:
            package = labelled[label]
            in_app = lambda module: module == package or module.startswith(package + ".")  # noqa: E731
        else:  # the package name is the label, unless an AppConfig gave the package another
            in_app = lambda module: label in module.split(".") and not any(  # noqa: E731
                module == p or module.startswith(p + ".") for p in relabelled
            )
        found = [
            q for q, cls in self.classes.items()
            if cls.name.lower() == name.lower() and in_app(cls.module)
            and self.is_model(q) and not self.is_abstract_model(q)
        ]
        return found[0] if len(found) == 1 else None

    def app_labels(self) -> tuple[dict[str, str], set[str]]:
        """`AppConfig.label`s: label -> the app's package (its `name`, else the package the
        config is in), and the packages whose label is not their last name part. A label two
        configs claim names no package (Django refuses to start)."""
        if getattr(self, "_app_labels", None) is None:
            packages: dict[str, set[str]] = {}
            relabelled: set[str] = set()
            for q, cls in self.classes.items():
                if cls.app_label is None or not APP_CONFIGS & set(self.class_and_bases(q)):
                    continue
                package = cls.app_name or cls.module.rpartition(".")[0]
                packages.setdefault(cls.app_label, set()).add(package)
                if package.rpartition(".")[2] != cls.app_label:
                    relabelled.add(package)
            labelled = {label: next(iter(found)) for label, found in packages.items() if len(found) == 1}
            self._app_labels = (labelled, relabelled)
        return self._app_labels

    def is_model(self, qualname: str) -> bool:
        return self.class_kind(qualname) == "model"

    def is_abstract_model(self, qualname: str) -> bool:
        qualname = self.resolve(qualname)
        if qualname in DJANGO_MODELS:
            return DJANGO_MODELS[qualname][0]
        cls = self.classes.get(qualname)
        return bool(cls and cls.abstract) or qualname in MODEL_BASES

    def model_mro(self, qualname: str) -> tuple[list[str], bool]:
        """Model classes from `qualname` up, and whether every base could be seen."""
        order: list[str] = []
        complete = True
        stack = [self.resolve(qualname)]
        while stack:
            current = stack.pop(0)
            if current in order or current in MODEL_BASES:
                continue
            order.append(current)
            cls = self.classes.get(current)
            if cls is None:
                complete = complete and current in DJANGO_MODELS
                continue
            for base in cls.bases:
                resolved = self.resolve(base) if not base.startswith("?") else base
                if resolved in MODEL_BASES:
                    continue
                if resolved.startswith("?") or (
                    resolved not in self.classes and resolved not in DJANGO_MODELS
                ):
                    # a mixin we cannot see may declare managers
                    complete = False
                    continue
                stack.append(resolved)
        return order, complete

    def managers(self, model: str) -> tuple[dict[str, ManagerInfo], bool]:
        """Manager attributes of a concrete model, and whether the list is complete.

        Django adds `objects` only when no class in the MRO declares a manager; managers of
        abstract and concrete parents are inherited.
        """
        found: dict[str, ManagerInfo] = {}
        mro, complete = self.model_mro(model)
        for qualname in mro:
            if qualname in DJANGO_MODELS:
                for name in DJANGO_MODELS[qualname][1]:
                    found.setdefault(name, ManagerInfo(proven=True))
                continue
            cls = self.classes.get(qualname)
            if cls is None:
                continue
            for attr, called in cls.call_attrs.items():
                info = self.manager_from_call(called)
                if info is not None:
                    found.setdefault(attr, info)
                elif self.may_be_manager(called):
                    # e.g. `objects = ScopedManager(...)` from another package: probably a
                    # manager, and if so Django adds no default `objects`
                    found.setdefault(attr, ManagerInfo(proven=False))
                    complete = False
        if not found and complete:
            found["objects"] = ManagerInfo(proven=True)
        return found, complete

    def manager_from_call(self, called: str) -> Optional[ManagerInfo]:
        """What a class attribute `= <called>()` is, when it is a manager."""
        if called.endswith(".as_manager"):
            qs = called[: -len(".as_manager")]
            if not qs.startswith("?") and self.class_kind(qs) == "queryset":
                return ManagerInfo(proven=True, classes=(self.resolve(qs),))
            return None
        if ".from_queryset(" in called:
            manager, _, qs = called.partition(".from_queryset(")
            qs = qs.rstrip(")")
            if not manager.startswith("?") and self.class_kind(manager) == "manager":
                classes = tuple(
                    self.resolve(c) for c in (manager, qs) if c and not c.startswith("?")
                )
                proven = not qs.startswith("?") and self.class_kind(qs) == "queryset"
                return ManagerInfo(proven=proven, classes=classes)
            return None
        if called.startswith("?"):
            return None
        if self.class_kind(called) == "manager":
            resolved = self.resolve(called)
            cls = self.classes.get(resolved)
            # `Alias = Manager.from_queryset(QS)` (or a class on it): QS's methods too
            extra = tuple(self.resolve(c) for c in (cls.extra_bases if cls else ()) if not c.startswith("?"))
            return ManagerInfo(proven=True, classes=(resolved, *extra))
        return None

    def may_be_manager(self, called: str) -> bool:
        """A class attribute's callee the index cannot see through: it may be a manager."""
        if ".from_queryset(" in called or called.endswith(".as_manager"):
            return True
        if called.startswith("?"):
            return called[1:] not in NOT_MANAGER_BUILTINS
        resolved = self.resolve(called)
        callee = resolved.rpartition(".")[2]
        if callee.endswith("Field") or callee in FIELD_LIKE_CALLEES:
            return False  # a library's model field (`CountryField()`), not a manager
        if resolved in self.classes:
            if self.class_kind(resolved) is not None:
                return False
            # a project class whose bases are all seen and none is a manager is not one
            return any(
                b.startswith("?") or self.resolve(b) not in self.classes
                for b in self.class_and_bases(resolved)[1:] + self.classes[resolved].bases
                if not self.resolve(b).startswith(("django.", "builtins."))
            )
        module = resolved.rpartition(".")[0]
        if resolved.startswith("django.") or module in self.modules:
            return False  # Django's fields and the project's functions are not managers
        return True

    def overridden_methods(self, classes: Iterable[str]) -> set[str]:
        """Methods the project's own Manager/QuerySet classes define (following their bases)."""
        names: set[str] = set()
        stack = list(classes)
        seen: set[str] = set()
        while stack:
            current = self.resolve(stack.pop())
            if current in seen or _is_django_queryset_machinery(current):
                continue
            seen.add(current)
            cls = self.classes.get(current)
            if cls is None:
                continue
            names.update(cls.methods)
            for base in (*cls.bases, *cls.extra_bases):
                if base.endswith(".from_queryset"):
                    base = base.rsplit(".", 1)[0]
                if not base.startswith("?"):
                    stack.append(base)
        return names

    def class_and_bases(self, qualname: str) -> list[str]:
        """The class and its project bases, nearest first (a simple linearisation)."""
        order: list[str] = []
        stack = [self.resolve(qualname)]
        while stack:
            current = stack.pop(0)
            if current in order:
                continue
            order.append(current)
            cls = self.classes.get(current)
            if cls is not None:
                stack.extend(
                    self.resolve(b.rsplit(".from_queryset", 1)[0])
                    for b in (*cls.bases, *cls.extra_bases)
                    if not b.startswith("?")
                )
        return order

    # -- relations ---------------------------------------------------------------------
    def _model_by_reference(self, source: ClassSummary, target: str) -> Optional[str]:
        """`ForeignKey("self")`, `"app.Model"`, `"Model"` or a resolved name -> model qualname."""
        if target == "self":
            return source.qualname
        if target in self.classes or "." in target and self.resolve(target) in self.classes:
            resolved = self.resolve(target)
            return resolved if self.is_model(resolved) else None
        name = target.rsplit(".", 1)[-1]
        same_module = f"{source.module}.{name}"
        if "." not in target and same_module in self.classes:
            return same_module
        if getattr(self, "_models_by_name", None) is None:
            self._models_by_name: dict[str, list[str]] = {}
            for qualname, cls in self.classes.items():
                if self.is_model(qualname):
                    self._models_by_name.setdefault(cls.name, []).append(qualname)
        candidates = self._models_by_name.get(name, [])
        return candidates[0] if len(candidates) == 1 else None

    def _reverse_relations(self) -> dict[str, list[tuple[str, Relation]]]:
        if getattr(self, "_reverse", None) is None:
            reverse: dict[str, list[tuple[str, Relation]]] = {}
            for cls in self.classes.values():
                for relation in cls.relations:
                    target = self._model_by_reference(cls, relation.target)
                    if target is not None:
                        reverse.setdefault(target, []).append((cls.qualname, relation))
            self._reverse = reverse
        return self._reverse

    def relation_of(self, model: str, attr: str) -> Optional[tuple[str, str]]:
        """What `instance.<attr>` is on a model instance: ("manager"|"instance", model)."""
        model = self.resolve(model)
        for qualname in self.model_mro(model)[0]:
            cls = self.classes.get(qualname)
            for relation in cls.relations if cls else ():
                if relation.field == attr:
                    target = self._model_by_reference(cls, relation.target)
                    if target is None:
                        return None
                    return ("manager" if relation.kind == "m2m" else "instance", target)
        for source, relation in self._reverse_relations().get(model, []):
            name = relation.related_name
            source_cls = self.classes[source]
            if name is None:
                name = source_cls.name.lower() if relation.kind == "o2o" else source_cls.name.lower() + "_set"
            if name == attr and "%(" not in name and name != "+":
                return ("instance" if relation.kind == "o2o" else "manager", source)
        return None

    def relation_accessors(self) -> dict[str, set[tuple[str, Optional[str]]]]:
        """Every relation accessor of the project's models (a relation field's name, a
        reverse accessor: `related_name` or `<model>_set`) -> what it gives on the models
        that have it: ("manager", model) or ("instance", model); ("?", None) where the model
        cannot be resolved, the declaring model is abstract (each concrete child has its
        own) or a name pattern (`%(class)s_items`, kept with `*` for the pattern) may make it.
        Built once per index."""
        if getattr(self, "_accessors", None) is None:
            accessors: dict[str, set[tuple[str, Optional[str]]]] = {}
            for cls in self.classes.values():
                if not cls.relations or not self.is_model(cls.qualname):
                    continue
                abstract = self.is_abstract_model(cls.qualname)
                for relation in cls.relations:
                    target = self._model_by_reference(cls, relation.target)
                    kind = "manager" if relation.kind == "m2m" else "instance"
                    accessors.setdefault(relation.field, set()).add((kind, target) if target else ("?", None))
                    name = relation.related_name
                    if name is None:
                        name = cls.name.lower() if relation.kind == "o2o" else cls.name.lower() + "_set"
                    if name.endswith("+"):
                        continue
                    pattern = "%(" in name or abstract or target is None
                    reverse = "instance" if relation.kind == "o2o" else "manager"
                    key = re.sub(r"%\(\w+\)s", "*", name) if "%(" in name else name
                    accessors.setdefault(key, set()).add(("?", None) if pattern else (reverse, cls.qualname))
            self._accessors = accessors
        return self._accessors

    def accessor(self, name: str) -> set[tuple[str, Optional[str]]]:
        """What `x.<name>` gives on the project's models that have it (`relation_accessors`),
        ("?", None) among them when a name pattern may make it too."""
        accessors = self.relation_accessors()
        found = set(accessors.get(name, ()))
        if found and any("*" in key and fnmatch.fnmatchcase(name, key) for key in accessors):
            found.add(("?", None))
        return found

    def subclasses(self, qualname: str) -> list[str]:
        """Project classes that derive from `qualname`, directly or not."""
        if getattr(self, "_children", None) is None:
            children: dict[str, list[str]] = {}
            for cls in self.classes.values():
                for base in cls.bases:
                    if not base.startswith("?"):
                        children.setdefault(self.resolve(base), []).append(cls.qualname)
            self._children = children
        out: list[str] = []
        stack = list(self._children.get(self.resolve(qualname), []))
        while stack:
            current = stack.pop()
            if current not in out:
                out.append(current)
                stack.extend(self._children.get(current, []))
        return out

    def external_bases(self, qualname: str) -> list[str]:
        """Resolved names of the classes outside the project that `qualname` builds on."""
        out = []
        for name in self.class_and_bases(qualname):
            if name not in self.classes:
                out.append(name)
        for name in self.class_and_bases(qualname):
            cls = self.classes.get(name)
            for base in cls.bases if cls else ():
                if base.startswith("?"):
                    out.append(base)
        return out


def read_name_usage(summary: ModuleSummary, tree: ast.Module) -> None:
    """What QS004 must know of a module's names before it turns one into a call: `global`
    declarations, mutation or deletion, uses in default values, names bound in functions and
    class bodies (collisions). One deep walk, so it runs only for the few modules QS004's plan
    involves (`ProjectIndex.name_usage`)."""
    s = summary
    s.used_names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            s.global_decls.update(node.names)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            text = dotted(node.value) if isinstance(node.value, (ast.Name, ast.Attribute)) else None
            if isinstance(root, ast.Name):
                s.mutated.add(root.id)
                if text:
                    s.mutated.add(text)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    s.mutated.add(target.id)
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    s.local_names.update(t.id for t in targets if isinstance(t, ast.Name))
                elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    s.local_names.add(stmt.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            for default in [*args.defaults, *(d for d in args.kw_defaults if d)]:
                for sub in ast.walk(default):
                    text = dotted(sub) if isinstance(sub, (ast.Name, ast.Attribute)) else None
                    if text:
                        s.default_refs.add(text)
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None:
                    s.local_names.add(arg.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            # module-level stores are in `assigned`; any other is a function's or a class's
            s.local_names.add(node.id)
        s.used_names.update(_names_of(node))
    s.usage_read = True


def _names_of(node: ast.AST) -> Iterable[str]:
    """The plain names a node reads or binds: a variable, an import's local name, an
    `except ... as` or `match` capture, a `global`/`nonlocal` declaration."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.alias):
        return (node.asname or node.name.split(".")[0],)
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return node.names
    binders = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler, ast.MatchAs, ast.MatchStar)
    name = node.name if isinstance(node, binders) else None
    rest = getattr(node, "rest", None) if isinstance(node, ast.MatchMapping) else None
    return tuple(n for n in (name, rest) if n)
