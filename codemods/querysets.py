"""Is this expression a QuerySet? The one typing every pass uses.

An expression is reduced to a chain — a root name and steps (`.attr`, `()`, `[i]`, `[:]`) — and
the chain is typed against the project index. The same `type_chain` types expressions of the
file being analysed (`ExprTyper`) and the chains the index recorded for function returns and
module-level constants in other files, so there is one set of rules.

Each answer carries a confidence: PROVEN (the rules of Django and of the scanned code leave no
other possibility), LIKELY (the code says so, but something the tool cannot see could differ: an
annotation, a custom manager method, a class from outside the project), or UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import ast
import fnmatch
import re

from .index import ORDERING_JOIN, ModuleSummary, ProjectIndex, ast_chain, chain_steps, dotted
from .index import annotated_with_queryset, defines_name, exports_name, parameters_building_querysets
from .options import Options
from .project import Project
from .quiet import definitions
from .scopes import FUNCTION_NODES, Binding, ScopeMap
from .wording import a_kind, cut

from .kinds import (  # noqa: F401 - re-exported: the passes import them from here too
    UNKNOWN,
    LIKELY,
    PROVEN,
    QUERYSET,
    MANAGER,
    RAW,
    MODEL,
    INSTANCE,
    FUNCTION,
    METHOD,
    OTHER,
    MODULE,
    NOTHING,
    PENDING,
    QUERYSET_BUILDERS,
)

# reverse accessors and many-to-many fields of Django's own models (User.groups, ...): the
# relation-name typing cannot tell them from a project's relation of the same name
DJANGO_ACCESSORS = frozenset(
    "groups user_permissions permissions user_set group_set permission_set logentry_set "
    "redirect_set flatpage_set sites".split()
)
RELATION_STEP = re.compile(r"\.(\w+)\.(?:%s)\(" % "|".join(sorted(QUERYSET_BUILDERS)))
# QuerySet methods no other common library's objects have (unlike `filter`, `all`, `order_by`).
DJANGO_ONLY_METHODS = frozenset({"values_list", "select_related", "prefetch_related", "only", "annotate"})
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

UNSEEN_MODEL = "unseen_model"  # in QsType.seen: `x._default_manager` of an x not typed
GET_USER_MODEL = "django.contrib.auth.get_user_model"
# a project model on one of these may be the configured user model
USER_MODEL_BASES = frozenset({
    "django.contrib.auth.models.AbstractUser",
    "django.contrib.auth.models.AbstractBaseUser",
    "django.contrib.auth.base_user.AbstractBaseUser",
})
GET_OBJECT_OR_404 = "django.shortcuts.get_object_or_404"
GET_MODEL = frozenset({"django.apps.apps.get_model", "django.apps.registry.apps.get_model"})
# return annotations of a method that say it gives no QuerySet
NOT_QUERYSET_ANNOTATIONS = frozenset(
    {"bool", "int", "float", "str", "bytes", "dict", "list", "tuple", "set", "frozenset", "None"}
    | {f"typing.{name}" for name in ("Dict", "List", "Tuple", "Set", "FrozenSet", "Iterator", "Generator", "Mapping", "Sequence")}
    | {f"collections.abc.{name}" for name in ("Iterator", "Generator", "Mapping", "Sequence")}
)
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
    # the model whose table the rows come from, kept through values() (its Meta.ordering
    # still orders the rows)
    ordering_model: Optional[str] = None

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
            # the QuerySet first: it is why the site was looked at
            one, another = (other, first) if other.kind == QUERYSET else (first, other)
            why = f"{a_kind(one.kind)} on one path and {a_kind(another.kind)} on another"
            return QsType(NOTHING, UNKNOWN, why=why, near=QUERYSET in (first.kind, other.kind))
    weakest = min(types, key=lambda t: t.confidence)
    seen = frozenset().union(*(t.seen for t in types))
    return replace(first, confidence=weakest.confidence, why=weakest.why or first.why, seen=seen)


def _past_unknown(t: QsType, steps: Sequence[str]) -> QsType:
    """An unknown that may be a QuerySet stays "near" one only through QuerySet-building
    steps: `e.exists()` or `e[0]` is no QuerySet whatever `e` is, and a site reported as
    "skipped: maybe a QuerySet" on it would contradict itself."""
    builds = all(s in ("()", "[:]") or (s.startswith(".") and s[1:] in QUERYSET_BUILDERS) for s in steps)
    return t if builds or not t.near else replace(t, near=False)


def count_caveat(t: QsType, chains: Optional["ChainTyper"] = None) -> Optional[str]:
    """Why `count()` may not equal `len()` for this QuerySet. Django's count() clears the
    ordering; with DISTINCT the ORDER BY columns (explicit or Meta.ordering) are part of
    the selected rows, with GROUP BY (annotate) an explicit order_by adds groups, and an
    ordering through a to-many relation joins one row per related row."""
    model = t.model or t.ordering_model
    meta = chains.meta_ordering(model) if chains is not None and model else None
    if UNSEEN_MODEL in t.seen and model is None and "order_by" not in t.seen:
        return "a model the tool cannot see: its `Meta.ordering` may go through a to-many relation, which `len()` counts and `count()` drops"
    if "ordering_join" in t.seen or (
        "order_by" not in t.seen and meta and chains.ordering_joins_many(model, meta)
    ) or ("user_model" in t.seen and "order_by" not in t.seen and chains is not None
          and chains.user_model_orders_through_many()):
        return "ordered through a to-many relation (or one the tool cannot follow): `len()` counts one row per joined row, `count()` drops the ordering and the join"
    if "distinct" in t.seen and ("order_by" in t.seen or meta is None or meta):
        return "`.distinct()`: `count()` drops the ordering columns Django adds to SELECT DISTINCT, so it can count other rows"
    if "order_by" in t.seen and t.seen & {"annotate", "alias"}:
        return "`annotate()` with `order_by()`: `count()` drops the ordering Django adds to GROUP BY, so it can count other groups"
    if t.seen & {"union", "intersection", "difference"} and "distinct" in t.seen:
        return "a combined QuerySet with `.distinct()`"
    return None


class ChainTyper:
    """Types chains against the project index (shared by every file and every pass)."""

    def __init__(self, index: ProjectIndex, options: Optional[Options] = None, project: Optional[Project] = None):
        """`project`: the run's (made here from `options` when not given)."""
        self.index = index
        self.project = project or Project(index, (options or Options()).for_analysis())
        self.project.typer = self
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
        if name in summary.model_lookups:
            found = self.looked_up_model(*summary.model_lookups[name])
            if found is not None:
                return found
        if name in summary.constants and _depth < 10:
            root, steps = summary.constants[name]
            return self.type_chain(self.type_root(root, _depth + 1), steps)
        return NOT_KNOWN

    def type_root(self, root: str, _depth: int = 0) -> QsType:
        if root.startswith("?") or root in ("self", "cls", "super"):
            return NOT_KNOWN
        return self.type_global(root, _depth)

    def is_model_getter(self, qualname: str) -> bool:
        """`apps.get_model`, or a project function that only returns `apps.get_model(...)`
        (or `apps.get_registered_model(...)`) calls, like Oscar's `get_model`."""
        if qualname in GET_MODEL:
            return True
        module, _, name = qualname.rpartition(".")
        summary = self.index.modules.get(module)
        returns = summary.function_returns.get(name) if summary else None
        return bool(returns) and all(
            r is not None and r[0] == "django.apps.apps"
            and r[1] in ((".get_model", "()"), (".get_registered_model", "()"))
            for r in returns
        )

    def looked_up_model(self, getter: str, arguments: tuple[str, ...]) -> Optional[QsType]:
        """The model `getter(*arguments)` gives, when `getter` looks models up by label."""
        getter = self.index.resolve(getter)
        if not self.is_model_getter(getter):
            return None
        model = self.index.model_by_label(arguments)
        if model is None:
            return None
        if getter in GET_MODEL:
            return QsType(MODEL, PROVEN, model=model)
        return QsType(MODEL, LIKELY, model=model, why="a model looked up by a project function: another app may provide it")

    def function_result(self, qualname: str) -> QsType:
        if qualname == GET_USER_MODEL:
            # some model chosen by settings: its `objects` gives QuerySets (see manager_of)
            return QsType(MODEL, PROVEN, model=None)
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

    # -- relevance: the cheap check before a file (or a function) is analysed ------------
    RELEVANT_KINDS = frozenset({MODEL, MANAGER, QUERYSET, RAW, INSTANCE})

    def global_is_relevant(self, qualname: str) -> bool:
        """Could an expression rooted at this module-level name be typed as anything a pass
        acts on? Every typing rule starts from such a name (a model, a module holding one, a
        function or constant giving one, a view/manager class for `self.get_queryset()`, a
        QuerySet class for annotations), so code naming none of them has no finding."""
        memo = self.__dict__.setdefault("_relevant_globals", {})
        if qualname not in memo:
            memo[qualname] = self._global_is_relevant(qualname)
        return memo[qualname]

    def _global_is_relevant(self, qualname: str) -> bool:
        index = self.index
        if qualname in (GET_USER_MODEL, GET_OBJECT_OR_404) or qualname in QUERYSET_ANNOTATIONS:
            return True
        if qualname in GET_MODEL or any(g.startswith(qualname + ".") for g in GET_MODEL):
            return True  # `apps.get_model("shop", "Order")`, `django.apps.apps.get_model(...)`
        resolved = index.resolve(qualname)
        if index.class_kind(resolved) is not None:
            return True
        t = self.type_global(resolved)
        if t.kind in self.RELEVANT_KINDS:
            return True
        if t.kind == FUNCTION and t.method:
            return self.function_result(t.method).kind in self.RELEVANT_KINDS or self.is_model_getter(t.method)
        if t.kind == MODULE:
            return self.module_prefix_is_relevant(resolved)
        return False

    def module_prefix_is_relevant(self, name: str) -> bool:
        """A module (or package) through which a chain can reach something relevant."""
        if getattr(self, "_relevant_prefixes", None) is None:
            prefixes: set[str] = set()
            for module, summary in self.index.modules.items():
                if self.defines_relevant(summary):
                    parts = module.split(".")
                    prefixes.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            self._relevant_prefixes = prefixes
        return name in self._relevant_prefixes

    def defines_relevant(self, summary: ModuleSummary) -> bool:
        """Defines or imports a concrete model, a function or constant giving a QuerySet,
        manager, model or instance, or a view/manager/QuerySet class."""
        index = self.index
        for cls in summary.classes.values():
            kind = index.class_kind(cls.qualname)
            if kind is not None and not (kind == "model" and index.is_abstract_model(cls.qualname)):
                return True
        for name in summary.functions:
            if self.function_result(f"{summary.module}.{name}").kind in self.RELEVANT_KINDS:
                return True
        for name in summary.constants:
            if self.type_global(f"{summary.module}.{name}").kind in self.RELEVANT_KINDS:
                return True
        for target in summary.imports.values():
            resolved = index.resolve(target)
            kind = index.class_kind(resolved)
            if kind is not None and not (kind == "model" and index.is_abstract_model(resolved)):
                return True
        return False

    def relevant_names(self, summary: ModuleSummary, text: str) -> set[str]:
        """Words whose absence from a piece of this module proves it has no finding: its
        module-level names bound to relevant globals, and the words other rules start from
        (`get_queryset` in a view or manager, `QuerySet` in an annotation). The passes add their
        own words (`PassInfo.words`, `more_words`; see engine.analyse_file)."""
        names: set[str] = set()
        for local, target in summary.imports.items():
            if self.global_is_relevant(target):
                names.add(local)
        for star in summary.star_imports:
            if self.global_is_relevant(star):
                return {""}  # names we cannot list: every piece may be relevant
        for name in (*summary.classes, *summary.functions, *summary.constants):
            if self.global_is_relevant(f"{summary.module}.{name}"):
                names.add(name)
        if ("self" in text or "cls" in text) and any(
            self.index.class_kind(cls.qualname) in ("model", "queryset", "manager")
            for cls in summary.classes.values()
        ):
            names.update(("self", "cls"))  # methods of a model, QuerySet or manager type `self`/`cls`
        if any(cls.meta_model for cls in summary.classes.values()):
            names.add("instance")  # a ModelForm's `self.instance`
        names.update(lookalike_words(text))
        names.update(self.relation_name_words(text))
        called = set(SELF_CALL.findall(text)) if summary.classes and "self." in text else ()
        for cls in summary.classes.values():
            for method in called & cls.method_returns.keys():
                if self.returns_queryset(cls.method_returns[method]):
                    names.add(method)  # `self.method()` is typed from its returns
        if summary.queryset_parameters:
            # a parameter typed from its callers reaches a QuerySet only through such a call
            names.update(m for m in QUERYSET_BUILDERS if f".{m}(" in text)
        if "QuerySet" in text:
            names.add("QuerySet")
        if "get_queryset" in text:
            names.add("get_queryset")
        return names

    # -- steps -----------------------------------------------------------------------
    def type_chain(self, current: QsType, steps: Sequence[str]) -> QsType:
        if current.kind == NOTHING and current.confidence == UNKNOWN and not current.near:
            for name in ("._default_manager", "._base_manager"):
                if name in steps:  # `model_cls._default_manager`: some model's manager
                    cut = len(steps) - list(reversed(steps)).index(name)
                    return self.type_chain(self.unseen_model_manager(name[1:]), steps[cut:])
        for i, step in enumerate(steps):
            if current.kind in (NOTHING, PENDING):
                return _past_unknown(current, steps[i:])
            current = self.step(current, step)
        return current

    def manager_by_relation_name(self, name: str) -> Optional[QsType]:
        """`x.<name>` of an `x` the tool cannot type, taken for a related manager by its name
        alone: `<name>` is a to-many accessor (a many-to-many field, a `related_name`, a
        `<model>_set`) of the project's models that gives ONE model wherever it is declared,
        no accessor of Django's own models, and nothing else of the project has an attribute
        or method so named. Likely at most (a class outside the project may have one); None
        when the name does not qualify. Each name is judged once per index."""
        memo = self.__dict__.setdefault("_by_relation_name", {})
        if name not in memo:
            memo[name] = self._manager_by_relation_name(name)
        return memo[name]

    def model_by_relation_name(self, name: str) -> Optional[str]:
        """The one model the to-many accessor `<name>` gives on every project model that has
        it (none of Django's own models has it); None otherwise."""
        found = self.index.accessor(name)
        if len(found) != 1 or name in DJANGO_ACCESSORS:
            return None
        kind, target = next(iter(found))
        return target if kind == "manager" else None

    def related_manager_classes(self, model: str) -> tuple[str, ...]:
        """A related manager subclasses the model's default manager: its overrides count."""
        return tuple(c for info in self.index.managers(model)[0].values() for c in info.classes)

    def _manager_by_relation_name(self, name: str) -> Optional[QsType]:
        target = self.model_by_relation_name(name)
        if target is None or name in self.names_defined() or self.plain_attribute_in_text(name):
            return None  # a property, a method, a serializer's or a form's field, a stored attribute
        return QsType(MANAGER, LIKELY, model=target, classes=self.related_manager_classes(target))

    def names_defined(self) -> set[str]:
        """The names a class of the project defines as a method or a plain attribute (not a
        relation field): `x.<name>` may be one of those."""
        if getattr(self, "_names_defined", None) is None:
            names: set[str] = set()
            for cls in self.index.classes.values():
                names.update(cls.methods)
                fields = {r.field for r in cls.relations}
                names.update(a for a in cls.attrs if a not in fields)
            self._names_defined = names
        return self._names_defined

    def relation_name_facts(self) -> tuple:
        """What typing by relation names reads of modules a file need not import (for the
        cache's keys): each accessor, what it gives and whether it qualifies alone (the names
        classes define or store anywhere decide that), and the names several concrete models
        share (a model alone under its name matters only through its relations, above)."""
        accessors = self.index.relation_accessors()
        verdicts = [(n, sorted(accessors[n], key=repr), self.manager_by_relation_name(n) is not None)
                    for n in sorted(accessors)]
        shared = sorted((name, sorted(models)) for name, models in self.concrete_models_by_name().items() if len(models) > 1)
        return verdicts, shared

    def concrete_models_by_name(self) -> dict[str, list[str]]:
        """Concrete models by their class name in lower case (built once per index)."""
        if getattr(self, "_concrete_by_name", None) is None:
            by_name: dict[str, list[str]] = {}
            for qualname, cls in self.index.classes.items():
                if self.index.is_model(qualname) and not self.index.is_abstract_model(qualname):
                    by_name.setdefault(cls.name.lower(), []).append(qualname)
            self._concrete_by_name = by_name
        return self._concrete_by_name

    def manager_of_named_model(self, owner: Optional[str], name: str) -> tuple[Optional[QsType], str]:
        """`event.items` / `self.event.items` where the relation name `items` alone does not
        decide (something else of the project has an attribute so named) but the object's
        own name does: exactly one concrete model is named so (`event`: `Event`,
        `order_line`: `OrderLine`), it has `items` as a related manager, and that gives the
        one model every `items` accessor gives. (None, model name) otherwise."""
        if not owner:
            return None, ""
        models = self.concrete_models_by_name().get(owner.replace("_", "").lower(), [])
        target = self.model_by_relation_name(name)
        if len(models) != 1 or target is None:
            return None, ""
        relation = self.index.relation_of(models[0], name)
        if relation != ("manager", target):
            return None, ""
        model = models[0].rpartition(".")[2]
        return QsType(MANAGER, LIKELY, model=target, classes=self.related_manager_classes(target)), model

    def plain_attribute_in_text(self, name: str) -> bool:
        """Does the project's text store `<name>` as a plain attribute anywhere (`x.<name> =
        ...`, `setattr(x, "<name>", ...)`, an annotated class attribute without a value) or
        make it a reverse accessor through `Meta.default_related_name`? (Each module's text was
        read for it by the index: `ModuleSummary.stored_names`.)"""
        if getattr(self, "_stored_names", None) is None:
            stored: set[str] = set()
            patterns: set[str] = set()
            for summary in self.index.modules.values():
                stored.update(summary.stored_names)
                patterns.update(re.sub(r"%\(\w+\)s", "*", v) for v in summary.default_related_names)
            self._stored_names = (stored, patterns)
        stored, patterns = self._stored_names
        return name in stored or any(fnmatch.fnmatchcase(name, p) for p in patterns)

    def relation_name_words(self, text: str) -> set[str]:
        """The relation names `type_by_relation_name` may type in `text` (`.items.all(`): a
        word for the cheap check, so the names of one model only, not read further."""
        accessors = self.index.relation_accessors()
        return {n for n in RELATION_STEP.findall(text) if n in accessors and self.model_by_relation_name(n)}

    def unseen_model_manager(self, attr: str) -> QsType:
        """`x._default_manager` / `x._base_manager` of an `x` the tool cannot type: Django sets
        them on every model class (and nothing else has them), so it is a manager of some
        model, as `get_user_model().objects` is: proven, unless a class of the project defines
        such a name itself or one of its managers changes what count()/exists() mean. Which
        model is not known, nor its Meta.ordering (see `count_caveat`)."""
        if any(attr in cls.attrs or attr in cls.methods for cls in self.index.classes.values()):
            return QsType(MANAGER, LIKELY, why=f"`{attr}` of an object the tool cannot see (a class of the project defines `{attr}`)")
        if self.project_overrides_semantics():
            return QsType(MANAGER, LIKELY, why=f"`{attr}` of a model the tool cannot see, which may have one of the project's managers")
        return QsType(MANAGER, PROVEN, seen=frozenset({UNSEEN_MODEL}))

    def step(self, t: QsType, step: str) -> QsType:
        if step == ORDERING_JOIN:
            return replace(t, seen=t.seen | {"ordering_join"}) if t.kind == QUERYSET else t
        if step.startswith("."):
            attr = step[1:]
            if t.kind == MODEL:
                return self.manager_of(t, attr)
            if t.kind in (MANAGER, QUERYSET):
                return QsType(METHOD, t.confidence, t.model, t.classes, method=attr, on=t.kind, why=t.why,
                              seen=t.seen, ordering_model=t.ordering_model)
            if t.kind == INSTANCE and t.model:
                return self.instance_attr(t, attr)
            if t.kind == MODULE and t.method:
                return self.type_global(f"{t.method}.{attr}")
            return QsType(NOTHING, UNKNOWN, why=f"`.{attr}` of {a_kind(t.kind)}")
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

    def fresh_querysets_from_callers(self, function: str, position: int, keyword: str) -> Optional[QsType]:
        """What every caller of the module-level `function` passes as its parameter (at
        `position`, or as `keyword`) when each passes a QuerySet chain built in the call
        itself (`f(Order.objects.filter(...))`): nobody else holds it, so nobody reads its
        rows afterwards. None when a caller passes anything else (a name: it may use it
        again), when there is no caller, or when the function is handed over (callers unseen)."""
        memo = self.__dict__.setdefault("_fresh_from_callers", {})
        key = (function, position, keyword)
        if key not in memo:
            memo[key] = self._fresh_querysets_from_callers(function, position, keyword)
        return memo[key]

    def _fresh_querysets_from_callers(self, function: str, position: int, keyword: str) -> Optional[QsType]:
        from .index import _Summariser

        index = self.index
        sites = index.call_sites(function)
        if not sites or index.handed_over_sites(function):
            return None
        passed: list[QsType] = []
        for module in sorted({site[0] for site in sites}):
            summary = index.modules[module]
            try:
                tree = ast.parse(index.source_bytes(summary.path))
            except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
                return None
            resolve = _Summariser(summary, b"").resolve
            lines = {line for site_module, _, line, _ in sites if site_module == module}
            calls = [
                node for node in ast.walk(tree)
                if isinstance(node, ast.Call) and node.lineno in lines
                and index.resolve(resolve(dotted(node.func)) or "") == function
            ]
            if len(calls) != sum(1 for site in sites if site[0] == module):
                return None  # a call this reading does not pair with the index's sites
            for call in calls:
                argument = _argument_for(call, position, keyword)
                chain = ast_chain(argument, resolve) if isinstance(argument, ast.Call) else None
                if chain is None:
                    return None
                passed.append(self.type_chain(self.type_root(chain[0]), chain[1]))
        result = meet(passed)
        return result if result.kind == QUERYSET and result.confidence == PROVEN else None

    def passed_by_callers(self, function: str, position: int, keyword: str,
                          home: Optional["ExprTyper"] = None) -> Optional[QsType]:
        """What every project caller of the module-level `function` passes for a parameter (at
        `position`, or as `keyword`), typed in the caller's own scope (`f(order)` with
        `order = Order.objects.get(...)` there): a QuerySet, a model instance or a model, the
        same model and classes from every caller, each proven. None when a caller passes
        anything else, leaves the parameter to its default, hides it in `*args`/`**kwargs`,
        when there is no caller, when the function is handed over or aliased (callers unseen).
        `home`: the typer of the function's own module, when the caller has one."""
        memo = self.__dict__.setdefault("_passed_memo", {})
        key = (function, position, keyword)
        if key not in memo:
            memo[key] = None  # recursion guard: a caller's argument typed from this parameter
            memo[key] = self._passed_by_callers(function, position, keyword, home)
        return memo[key]

    def _passed_by_callers(self, function: str, position: int, keyword: str,
                           home: Optional["ExprTyper"]) -> Optional[QsType]:
        """(see `passed_by_callers`) Module by module, the function's own first, giving up at
        the first caller that passes anything unproven: most functions have one, and the
        other modules are then never read."""
        index = self.index
        own, _, name = function.rpartition(".")
        passed: list[QsType] = []
        word = name.encode()
        for module in sorted(self._importers_toward(function), key=lambda m: (m != own, m)):
            try:
                if word not in index.source_bytes(index.modules[module].path):
                    continue  # imports toward it, never names it
            except OSError:
                return None
            typer = home if module == own and home is not None and home.reads_every_use(name) else None
            if typer is None and not self._may_only_call(module, function, name):
                return None  # named otherwise than in a call (`path("x", views.f)`): seen in the text
            typer = typer or self._caller_typer(module, name)
            calls = typer.calls_of(function, name) if typer is not None else None
            if calls is None:
                return None  # unreadable, or the function is used otherwise than called
            for call in calls:
                argument = _argument_for(call, position, keyword)
                if argument is None:
                    return None
                passed.append(typer.type_of(argument))
            if calls and _agreed(passed) is None:
                return None
        if not passed or index.handed_over_sites(function):
            return None
        return _agreed(passed)

    def _importers_toward(self, function: str) -> set[str]:
        """The modules where a name can resolve to the module-level `function`: its own, and
        those importing the function, its module or a package above it, or star-importing
        anything (a call resolves only through the module's imports, as
        `ExprTyper.qualified` reads). A module naming it otherwise (`x.meta_values.all()`)
        holds no call of it."""
        if getattr(self, "_importers", None) is None:
            importers: dict[str, set[str]] = {}
            stars: set[str] = set()
            for module, summary in self.index.modules.items():
                if summary.star_imports:
                    stars.add(module)
                for target in summary.imports.values():
                    importers.setdefault(self.index.resolve(target), set()).add(module)
            self._importers = (importers, stars)
        importers, stars = self._importers
        own = function.rpartition(".")[0]
        found = {own, *stars, *importers.get(function, ())}
        parts = own.split(".")
        for end in range(1, len(parts) + 1):
            found.update(importers.get(".".join(parts[:end]), ()))
        return {m for m in found if m in self.index.modules}

    def _may_only_call(self, module: str, function: str, name: str) -> bool:
        """A look at the text before reading a module for its calls of `function`: False when
        it names it as a value (`path("x", views.f)`, `register(f)`, `g = f`) outside an
        import line (one more is allowed where the module imports it by that name: a
        parenthesised import list). Its callers are then unseen, and reading the module would
        only find that out (`ExprTyper.calls_of` is the check; this only saves the reading)."""
        summary = self.index.modules[module]
        try:
            data = self.index.source_bytes(summary.path)
        except OSError:
            return False
        imported = 1 if self.index.resolve(summary.imports.get(name, "")) == function else 0
        values = 0
        for match in re.finditer(rb"(?<![\w])%s\b" % re.escape(name.encode()), data):
            start = data.rfind(b"\n", 0, match.start()) + 1
            end = data.find(b"\n", match.end())
            line, rest = data[start:end if end != -1 else len(data)], data[match.end():end if end != -1 else len(data)]
            if _VALUE_END.match(rest) and not _IMPORT_LINE.match(line):
                values += 1
                if values > imported:
                    return False
        return True

    def _caller_typer(self, module: str, name: str) -> Optional["ExprTyper"]:
        """An `ExprTyper` of another module for the calls of the function `name` (read once
        per module and name). Bodies of functions that do not name it are not read
        (`quiet_definitions`): an argument is typed in the function holding the call, and
        module-level bindings are always read."""
        typers = self.__dict__.setdefault("_caller_typers", {})
        if (module, name) not in typers:
            summary = self.index.modules[module]
            try:
                tree, _, _, skip = self.index.read_for_facts(summary.path, lambda data: (name,))
                typers[(module, name)] = ExprTyper(ScopeMap(tree, skip), summary, self)
            except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
                typers[(module, name)] = None
        return typers[(module, name)]

    def manager_users(self) -> dict[str, list[str]]:
        """Manager/QuerySet class -> the concrete models one of whose managers is built on it,
        declared or inherited (a proxy or child model may order its rows otherwise)."""
        if getattr(self, "_users", None) is None:
            index, users = self.index, {}
            for model in index.classes:
                if index.is_model(model) and not index.is_abstract_model(model):
                    for info in index.managers(model)[0].values():
                        for name in info.classes:
                            users.setdefault(name, set()).add(model)
            self._users = {name: sorted(models) for name, models in users.items()}
        return self._users

    def models_using(self, qualname: str) -> list[str]:
        """Concrete models one of whose managers is built on the Manager/QuerySet class."""
        return self.manager_users().get(qualname, [])

    def returns_queryset(self, returns) -> bool:
        """Are these recorded returns (of a method) all chains typed as a QuerySet?"""
        if not returns or any(r is None for r in returns):
            return False
        return meet([self.type_chain(self.type_root(r[0]), r[1]) for r in returns]).kind == QUERYSET

    def project_overrides_semantics(self) -> bool:
        """Does any Manager/QuerySet class of the project override count(), exists(), ...?"""
        if getattr(self, "_overrides", None) is None:
            index = self.index
            self._overrides = any(
                index.class_kind(q) in ("manager", "queryset") and set(cls.methods) & SEMANTIC_METHODS
                for q, cls in index.classes.items()
            )
        return self._overrides

    def manager_of(self, t: QsType, attr: str) -> QsType:
        index = self.index
        if t.model is None:  # get_user_model(): its managers are not known
            if attr != "objects":
                return NOT_KNOWN
            if self.project_overrides_semantics():
                return QsType(MANAGER, LIKELY, why="`objects` of the configured user model, which may be the project's own with its own manager")
            # whatever the user model is, its `objects` is a manager: none of the project's
            # managers changes what count()/exists() mean, and Django's own do not (its
            # Meta.ordering may: see count_caveat)
            return QsType(MANAGER, PROVEN, seen=frozenset({"user_model"}))
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
            # a related manager subclasses the target's default manager: its overrides count
            classes = tuple(c for info in self.index.managers(target)[0].values() for c in info.classes)
            why = t.why if t.confidence == LIKELY and t.why else "a related manager"
            return QsType(MANAGER, t.confidence, model=target, classes=classes, why=why)
        if kind == "instance":
            return QsType(INSTANCE, t.confidence, model=target, why=t.why)
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
            return QsType(QUERYSET, t.confidence, model, t.classes, why=t.why, seen=t.seen | {name},
                          ordering_model=t.ordering_model or t.model)
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

    def user_model_orders_through_many(self) -> bool:
        """Does a project model that may be the configured user model (one on Django's
        AbstractBaseUser) order its rows through a to-many relation (or one not seen)?"""
        if getattr(self, "_user_ordering", None) is None:
            index = self.index
            self._user_ordering = False
            for model in index.classes:
                if (index.is_model(model) and not index.is_abstract_model(model)
                        and USER_MODEL_BASES & set(index.class_and_bases(model))):
                    meta = self.meta_ordering(model)
                    if meta is None or (meta and self.ordering_joins_many(model, meta)):
                        self._user_ordering = True
        return self._user_ordering

    def meta_ordering(self, model: str) -> Optional[list[str]]:
        """The model's Meta.ordering (inherited too): [] when none, None when a base the
        index cannot see may set one."""
        mro, complete = self.index.model_mro(model)
        for name in mro:
            cls = self.index.classes.get(name)
            if cls is not None and cls.meta_ordering:
                return cls.ordering
        return [] if complete else None

    def ordering_joins_many(self, model: Optional[str], fields: Sequence[str]) -> bool:
        """Does ordering by `fields` join a reverse FK or many-to-many relation (or one the
        index cannot follow)?"""
        for name in fields:
            if not name or name == "?" or model is None:
                return True
            parts = name.lstrip("-+").split("__")
            current = model
            for position, part in enumerate(parts):
                relation = self.index.relation_of(current, part)
                if relation is not None and relation[0] == "manager":
                    return True
                if relation is None:
                    if position < len(parts) - 1:
                        return True  # a relation the index cannot follow
                    break
                current = relation[1]
        return False

    def annotated_result(self, head: Optional[str], name: str) -> Optional[QsType]:
        """What a method annotated to return `head` gives, when that is certainly no QuerySet
        (a builtin type, a container of `typing`, a model: an instance); None otherwise."""
        if head is None:
            return None
        if head in NOT_QUERYSET_ANNOTATIONS or self.index.is_model(self.index.resolve(head) or head):
            return QsType(OTHER, PROVEN, why=f"`{name}()` is annotated to return `{head.rpartition('.')[2]}`, not a QuerySet")
        return None

    def custom_method_result(self, t: QsType, name: str) -> Optional[QsType]:
        """A custom QuerySet/Manager method that returns `self.<builder>(...)` chains only."""
        for qualname in t.classes:
            for cls_name in self.index.class_and_bases(qualname):
                cls = self.index.classes.get(cls_name)
                if cls is None or name not in cls.method_returns:
                    continue
                annotated = self.annotated_result(cls.method_annotations.get(name), name)
                if annotated is not None:
                    return annotated
                returns = cls.method_returns[name]
                if not returns or any(r is None for r in returns):
                    # `return [...]`, `return result` bound to a literal, `return False`, no return
                    return QsType(NOTHING, UNKNOWN, why=f"`{name}()` may return something other than a QuerySet")
                if any(r[0] != "self" for r in returns):
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
                if result.kind in (OTHER, INSTANCE, RAW, MANAGER):
                    # `return self.filter(...).exists()`: a bool, never a QuerySet
                    return QsType(OTHER, PROVEN, why=f"`{name}()` returns {a_kind(result.kind)}, not a QuerySet")
                return None
        return None


# what follows a name used as a value (`f,` `f)` `f]` `f}` or the line's end), and an import line
_VALUE_END = re.compile(rb"[ \t]*(?:[,)\]}]|#|\r?$)")
_IMPORT_LINE = re.compile(rb"[ \t]*(?:from|import)\b")


class ExprTyper:
    """Types `ast` expressions of one module, with its scopes (`ScopeMap`)."""

    def __init__(self, scopes: ScopeMap, summary: ModuleSummary, chains: ChainTyper):
        self.scopes = scopes
        self.summary = summary
        self.chains = chains
        self._busy: set = set()
        self._cache: dict = {}
        self._assumptions = 0
        self._lines: Optional[list[bytes]] = None

    def resolve_global(self, name: str) -> Optional[str]:
        """A module-level name -> its qualified name, through this module's imports."""
        summary = self.summary
        if name in summary.imports:
            return summary.imports[name]
        if name in summary.classes or name in summary.functions or name in summary.assigned:
            return f"{summary.module}.{name}"
        return None

    def star_imported(self, name: str) -> Optional[str]:
        """A name no statement binds, from `from .models import *`: its qualified name when
        exactly one star-imported module defines it."""
        index = self.chains.index
        found = set()
        for star in self.summary.star_imports:
            target = index.modules.get(star)
            if target is None or not exports_name(target, name):
                continue
            resolved = index.resolve(f"{star}.{name}")
            if resolved != f"{star}.{name}" or defines_name(target, name):
                found.add(resolved)
        return found.pop() if len(found) == 1 else None

    def qualified(self, expr: ast.AST) -> Optional[str]:
        """`models.QuerySet` / `QuerySet` -> "django.db.models.QuerySet" (module-level names only)."""
        text = dotted(expr)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        root = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or self.scopes.binding_scope(root) is not self.scopes.module:
            return None
        base = self.resolve_global(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    def is_builtin(self, expr: ast.AST, name: str) -> bool:
        return (
            isinstance(expr, ast.Name)
            and expr.id == name
            and self.scopes.binding_scope(expr) is None
        )

    def reads_every_use(self, name: str) -> bool:
        """Does this typer's scope map walk every body that names `name` (as a whole word)?
        A file's analysis leaves bodies that name nothing relevant unread (`codemods.quiet`)."""
        skipped = self.scopes.skip_bodies
        if not skipped:
            return True
        lines = self.source_lines()
        if not lines:
            return False
        word = re.compile(rb"(?<![\w])%s(?![\w])" % re.escape(name.encode()))
        for node in definitions(self.scopes.tree):
            if id(node) in skipped:
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if word.search(b"".join(lines[start - 1 : node.end_lineno])):
                    return False
        return True

    def calls_of(self, function: str, name: str) -> Optional[list[ast.Call]]:
        """The calls of the module-level `function` (whose own name is `name`) in the code this
        typer reads, in order; None when the module also uses it otherwise (passes it on,
        binds it to another name, imports it under another name): callers then go unseen."""
        index = self.chains.index
        if any(alias != name and index.resolve(target) == function for alias, target in self.summary.imports.items()):
            return None
        uses = self._cache.get("uses")
        if uses is None:  # every name and attribute read, by identifier (one walk, for every function)
            uses = self._cache["uses"] = {}
            for node, parent in self.scopes.parents.items():
                kind = type(node)
                if kind is ast.Name and type(node.ctx) is ast.Load:
                    uses.setdefault(node.id, []).append((node, parent))
                elif kind is ast.Attribute and type(node.ctx) is ast.Load:
                    uses.setdefault(node.attr, []).append((node, parent))
        calls = []
        for node, parent in uses.get(name, ()):
            if index.resolve(self.qualified(node) or "") != function:
                continue
            if type(parent) is not ast.Call or parent.func is not node:
                return None
            calls.append(parent)
        calls.sort(key=lambda call: (call.lineno, call.col_offset))
        return calls

    chain = staticmethod(chain_steps)

    def type_of(self, expr: ast.AST) -> QsType:
        return self._memo(id(expr), self._type_of, expr)

    def _memo(self, key, compute, *args) -> QsType:
        """Memoised typing with a guard for definitions in terms of themselves
        (`qs = qs.filter(...)`): while a key is being typed, asking for it again answers
        PENDING, which `meet` ignores, so the other bindings decide and a non-QuerySet among
        them still wins. Results resting on such an open assumption are not cached."""
        if key in self._cache:
            return self._cache[key]
        if key in self._busy:
            self._assumptions += 1
            return QsType(PENDING, UNKNOWN)
        self._busy.add(key)
        before = self._assumptions
        try:
            result = compute(*args)
        finally:
            self._busy.discard(key)
        if self._assumptions == before or not self._busy:
            self._cache[key] = result
        return result

    def _type_of(self, expr: ast.AST) -> QsType:
        if isinstance(expr, ast.IfExp):
            return meet([self.type_of(expr.body), self.type_of(expr.orelse)])
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.BitOr, ast.BitAnd)):
            both = meet([self.type_of(expr.left), self.type_of(expr.right)])
            return both if both.kind == QUERYSET else NOT_KNOWN
        if isinstance(expr, LITERALS):
            return QsType(OTHER, PROVEN, why="not a QuerySet but " + LITERAL_NAMES[type(expr)])
        if isinstance(expr, ast.Call):
            special = self.type_special_call(expr)
            if special is not None:
                return special
        result = self._type_chain_of(expr)
        if result.kind == QUERYSET and "order_by" in result.seen and self.orders_through_many(expr, result):
            result = replace(result, seen=result.seen | {"ordering_join"})
        return result

    def orders_through_many(self, expr: ast.AST, t: QsType) -> bool:
        """An `order_by(...)` of this chain whose fields join a to-many relation."""
        model = t.model or t.ordering_model
        node = expr
        while isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "order_by":
                fields = [
                    a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else "?"
                    for a in node.args
                ]
                if node.keywords or self.chains.ordering_joins_many(model, fields):
                    return True
            node = node.func if isinstance(node, ast.Call) else node.value
        return False

    def _type_chain_of(self, expr: ast.AST) -> QsType:
        root, steps = self.chain(expr)
        node = expr
        while isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
            if node is not expr and isinstance(node, ast.Call):
                special = self.type_special_call(node)  # `apps.get_model("a", "B").objects...`
                if special is not None:
                    return self.chains.type_chain(special, steps[len(self.chain(node)[1]):])
            node = node.func if isinstance(node, ast.Call) else node.value
        if not isinstance(root, ast.Name):
            return NOT_KNOWN
        typed = self._type_rooted_chain(root, steps)
        if typed.kind in (NOTHING, OTHER) and typed.confidence == UNKNOWN and not typed.near:
            looks = self.looks_like_queryset(expr) or self.type_by_relation_name(expr)
            if looks is not None:
                return looks
        return typed

    def chain_nodes(self, expr: ast.AST) -> tuple[list[str], list[ast.AST]]:
        """The chain's steps and, for each, the expression it ends (`nodes[i]` is the
        expression after `steps[:i + 1]`)."""
        _, steps = self.chain(expr)
        nodes = []
        node = expr
        while isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
            nodes.append(node)
            node = node.func if isinstance(node, ast.Call) else node.value
        nodes.reverse()
        return steps, nodes

    def looks_like_queryset(self, expr: ast.AST) -> Optional[QsType]:
        """A chain the index cannot type but which only a QuerySet (or a manager) makes: a
        `filter()`/`exclude()` with a `field__lookup=` keyword, a Django-only method
        (`values_list()`, `select_related()`, `only()`, ...) or a `<model>_set` accessor.
        Likely a QuerySet, never proven: the fix is unsafe."""
        steps, nodes = self.chain_nodes(expr)
        for position in range(len(steps) - 1, 0, -1):
            call = nodes[position]
            if steps[position] != "()" or not isinstance(call, ast.Call):
                continue
            method, owner = steps[position - 1][1:], call.func
            lookup = method in ("filter", "exclude") and any(k.arg and "__" in k.arg for k in call.keywords)
            accessor = isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Attribute) and (
                owner.value.attr.endswith("_set") and method in QUERYSET_BUILDERS
            )
            if lookup or accessor or method in DJANGO_ONLY_METHODS:
                start = QsType(QUERYSET, LIKELY, why=f"`.{method}()` looks like a QuerySet's, but the tool cannot see where it comes from")
                return self.chains.type_chain(self.model_by_accessor(start, owner), steps[position + 1:])
        return None

    def model_by_accessor(self, start: QsType, owner: ast.AST) -> QsType:
        """A chain only a QuerySet makes, called on `x.<rel>` of an `x` the tool cannot type:
        its model is the one `<rel>` names (`ChainTyper.model_by_relation_name`), if any."""
        if not isinstance(owner, ast.Attribute) or not isinstance(owner.value, ast.Attribute):
            return start
        accessor = owner.value
        model = self.chains.model_by_relation_name(accessor.attr)
        if model is None:
            return start
        typed = self.type_of(accessor.value)
        if typed.kind != NOTHING or typed.confidence != UNKNOWN or typed.near:
            return start
        why = f"{start.why}; its model is taken from the relation name `{accessor.attr}`"
        return replace(start, model=model, classes=self.chains.related_manager_classes(model), why=why)

    def type_by_relation_name(self, expr: ast.AST) -> Optional[QsType]:
        """`x.<rel>.all()` / `x.<rel>.filter(...)` where the tool cannot type `x` but `<rel>`
        names one related manager of the project's models and nothing else
        (`ChainTyper.manager_by_relation_name`): likely a QuerySet of that model, never proven."""
        steps, nodes = self.chain_nodes(expr)
        for position in range(len(steps) - 3, -1, -1):
            accessor = nodes[position]
            if not (
                isinstance(accessor, ast.Attribute) and steps[position + 1][1:] in QUERYSET_BUILDERS
                and steps[position + 1].startswith(".") and steps[position + 2] == "()"
            ):
                continue
            manager, model = self.chains.manager_by_relation_name(accessor.attr), ""
            if manager is None:
                manager, model = self.chains.manager_of_named_model(_last_name(accessor.value), accessor.attr)
            if manager is None:
                continue
            owner = self.type_of(accessor.value)
            if owner.kind != NOTHING or owner.confidence != UNKNOWN or owner.near:
                continue  # typed as something else (or maybe a QuerySet): not for its name to say
            owner_code = cut(ast.unparse(accessor.value))
            if model:
                why = f"typed by its names only: `{owner_code}` is taken for an instance of `{model}`, whose relation `{accessor.attr}` it reads"
            else:
                why = f"typed by its relation name `{accessor.attr}` only: the object it is read from (`{owner_code}`) is unknown"
            return self.chains.type_chain(replace(manager, why=why), steps[position + 1:])
        return None

    def _type_rooted_chain(self, root: ast.Name, steps: list[str]) -> QsType:
        if root.id == "self" and steps[:1] == [".instance"]:
            instance = self.type_form_instance(root)
            if instance is not None:
                return self.chains.type_chain(instance, steps[1:])
        if root.id in ("self", "super") and ".get_queryset" in steps[:3]:
            start = self.type_get_queryset(root, steps)
            if start is not None:
                cut = steps.index(".get_queryset") + 2
                return self.chains.type_chain(start, steps[cut:])
        if root.id == "self" and len(steps) >= 2 and steps[1] == "()":
            start = self.type_own_method(root, steps[0][1:])
            if start is not None:
                return self.chains.type_chain(start, steps[2:])
        return self.chains.type_chain(self.type_name(root), steps)

    def type_own_method(self, root: ast.Name, name: str) -> Optional[QsType]:
        """`self.method()` of a module-level class whose `method` returns QuerySet chains
        only (a subclass may override it: likely at most)."""
        if self.type_of(root).kind != NOTHING:
            return None
        cls_node = self.enclosing_class(root)
        if cls_node is None or self.scopes.parents.get(cls_node) is not self.scopes.tree:
            return None
        cls = self.summary.classes.get(cls_node.name)
        returns = cls.method_returns.get(name) if cls is not None and cls.lineno == cls_node.lineno else None
        if not self.chains.returns_queryset(returns):
            return None
        result = meet([self.chains.type_chain(self.chains.type_root(r[0]), r[1]) for r in returns])
        return result.weaker(LIKELY, f"`self.{name}()`: a subclass may override it")

    def type_special_call(self, call: ast.Call) -> Optional[QsType]:
        """Calls whose result depends on an argument: `get_object_or_404(Model, ...)`."""
        arguments = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if arguments and len(arguments) == len(call.args) <= 2 and not call.keywords:
            getter = self.qualified(call.func)
            if getter is None and isinstance(call.func, ast.Attribute) and call.func.attr == "get_model":
                getter = "django.apps.apps.get_model" if dotted(call.func.value) == "apps" else None
            found = self.chains.looked_up_model(getter, tuple(arguments)) if getter else None
            if found is not None:
                return found
        if call.args and self.qualified(call.func) == GET_OBJECT_OR_404:
            first = self.type_of(call.args[0])
            if first.kind in (MODEL, QUERYSET, MANAGER):
                return QsType(INSTANCE, first.confidence, model=first.model)
        return None

    def enclosing_class(self, node: ast.AST) -> Optional[ast.ClassDef]:
        """The class whose method `node` is directly in (not in a nested function)."""
        function_seen = False
        for ancestor in self.scopes.ancestors(node):
            if isinstance(ancestor, FUNCTION_NODES):
                if function_seen:
                    return None
                function_seen = True
            elif isinstance(ancestor, ast.ClassDef):
                return ancestor if function_seen else None
        return None

    def type_form_instance(self, root: ast.Name) -> Optional[QsType]:
        """`self.instance` in a ModelForm's method: an instance of its `Meta.model`
        (ModelForm always sets one, a new one when none is given)."""
        if self.type_of(root).kind != NOTHING:
            return None  # `self` is something else here
        cls_node = self.enclosing_class(root)
        if cls_node is None or self.scopes.parents.get(cls_node) is not self.scopes.tree:
            return None
        index = self.chains.index
        qualname = f"{self.summary.module}.{cls_node.name}"
        for name in index.class_and_bases(qualname):
            cls = index.classes.get(name)
            if cls is not None and cls.meta_model:
                model = index.resolve(cls.meta_model)
                forms = [b for b in index.class_and_bases(qualname) if b.rpartition(".")[2].endswith("ModelForm")]
                if forms and index.class_kind(model) == "model":
                    return QsType(INSTANCE, PROVEN, model=model)
                return None
        return None

    def type_get_queryset(self, root: ast.Name, steps: list[str]) -> Optional[QsType]:
        """`self.get_queryset()` / `super().get_queryset()` in a view or manager method."""
        if root.id == "self" and steps[:2] != [".get_queryset", "()"]:
            return None
        if root.id == "super" and steps[:3] != ["()", ".get_queryset", "()"]:
            return None
        cls_node = self.enclosing_class(root)
        if cls_node is None:
            return None
        kind = self.chains.index.class_kind(f"{self.summary.module}.{cls_node.name}")
        if kind not in ("view", "manager"):
            return None
        return QsType(QUERYSET, LIKELY, why=f"`get_queryset()` of a {kind}: a subclass may override it")

    def type_name(self, node: ast.Name) -> QsType:
        name = node.id
        scope = self.scopes.binding_scope(node)
        if scope is None:
            if name in ("None", "True", "False"):
                return QsType(OTHER, PROVEN, why=f"the builtin `{name}`")
            starred = self.star_imported(name)
            return self.chains.type_global(starred) if starred else NOT_KNOWN
        if scope.kind == "class":
            return QsType(NOTHING, UNKNOWN, why=f"`{name}` is a class attribute")
        if scope.kind in ("function", "comprehension"):
            reaching = self.reaching_binding(node, scope.bindings[name])
            if reaching is not None:
                return self._memo(("binding", id(reaching)), self.type_local, name, [reaching])
            return self._memo(("local", id(scope), name), self.type_local, name, scope.bindings[name])
        qualname = self.resolve_global(name)
        if qualname is None:
            return NOT_KNOWN
        if qualname == f"{self.summary.module}.{name}" and name in self.summary.assigned:
            if name not in self.summary.constants:
                return QsType(NOTHING, UNKNOWN, why=f"`{name}` is bound more than once in the module")
        return self.chains.type_global(qualname)

    def reaching_binding(self, node: ast.Name, bindings: list[Binding]) -> Optional[Binding]:
        """The one binding that reaches `node` in straight-line code (`rows = [...]; ...;
        rows = Order.objects.all(); len(rows)`): the last plain assignment before it in a
        block that encloses it, with no other binding of the name after that one (none in a
        loop around the site either). None when several may reach it."""
        if len(bindings) < 2 or any(b.kind not in ("assign", "param") for b in bindings):
            return None
        site = (node.lineno, node.col_offset)
        before = [b for b in bindings if b.kind == "assign" and self._end(b) < site]
        if not before:
            return None
        loops = []
        for ancestor in self.scopes.ancestors(node):
            if isinstance(ancestor, FUNCTION_NODES):
                break
            if isinstance(ancestor, (ast.For, ast.AsyncFor, ast.While)):
                loops.append(ancestor)
        if any(
            b.kind == "assign" and self._end(b) >= site and any(self.scopes.contains(loop, b.node) for loop in loops)
            for b in bindings
        ):
            return None  # a binding after the site reaches it through a loop
        last = max(before, key=self._end)
        statement = self.scopes.parents.get(last.node)
        if not isinstance(statement, ast.Assign) or statement.value is not last.value:
            return None
        block_owner = self.scopes.parents.get(statement)
        if block_owner is None or not self.scopes.contains(block_owner, node):
            return None
        for field in ("body", "orelse", "finalbody"):
            block = getattr(block_owner, field, None)
            if isinstance(block, list) and statement in block:
                if any(self.scopes.contains(s, node) for s in block[block.index(statement) + 1:]):
                    return last
        return None

    @staticmethod
    def _end(binding: Binding) -> tuple[int, int]:
        value = binding.value if binding.value is not None else binding.node
        return (value.end_lineno or 0, value.end_col_offset or 0)

    def type_local(self, name: str, bindings: list[Binding]) -> QsType:
        types: list[QsType] = []
        for binding in bindings:
            if binding.kind == "assign":
                types.append(self.type_of(binding.value))
            elif binding.kind == "param":
                types.append(self.type_param(binding.node))
            elif binding.kind == "loop":
                iterated = self.type_of(self.listed_queryset(binding.value))
                if iterated.kind == QUERYSET:
                    types.append(QsType(INSTANCE, iterated.confidence, model=iterated.model, why=iterated.why))
                else:
                    types.append(QsType(NOTHING, UNKNOWN, why=f"`{name}` is a loop variable"))
            else:
                return QsType(NOTHING, UNKNOWN, why=f"`{name}` is bound by something other than a plain assignment")
        return meet(types)

    def listed_queryset(self, expr: ast.AST) -> ast.AST:
        """`list(qs)` / `sorted(qs)` iterated: the same instances as `qs`."""
        while (
            isinstance(expr, ast.Call) and len(expr.args) == 1 and not expr.keywords
            and any(self.is_builtin(expr.func, name) for name in ("list", "sorted", "reversed", "tuple"))
        ):
            expr = expr.args[0]
        return expr

    def type_param(self, arg: ast.arg) -> QsType:
        unknown = QsType(NOTHING, UNKNOWN, why="a function parameter: callers may pass a list or None")
        receiver = self.type_receiver(arg)
        if receiver is not None:
            return receiver
        annotation = arg.annotation
        if annotation is None:
            return self.type_from_callers(arg) or unknown
        target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
        index = self.chains.index
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            # `"Order"` / `"shop.models.Order"`: through this module's names
            head, _, rest = target.value.strip().partition(".")
            base = self.resolve_global(head) if head.isidentifier() else None
            qualname = f"{base}.{rest}" if base and rest else base
        else:
            qualname = self.qualified(target)
        if qualname and target is annotation and index.class_kind(qualname) == "model":
            # an instance: QuerySets built from it here (`order.lines.filter()`) are fresh
            return QsType(INSTANCE, PROVEN, model=index.resolve(qualname))
        if qualname and (index.resolve(qualname) in QUERYSET_ANNOTATIONS or index.class_kind(qualname) == "queryset"):
            function = self.scopes.parents.get(arg)
            if function is not None and _has_default(function, arg):
                return QsType(NOTHING, UNKNOWN, near=True, why="a parameter with a default value")
            fresh = self.fresh_from_callers(arg)
            if fresh is not None:
                return fresh
            return QsType(QUERYSET, LIKELY, why="a parameter annotated as a QuerySet; callers may pass something else")
        return unknown


    def type_from_callers(self, arg: ast.arg) -> Optional[QsType]:
        """An unannotated parameter of an undecorated module-level function, typed by what
        every project caller passes (`ChainTyper.passed_by_callers`). A decorator may hand the
        function to callers the project does not show (a template filter, a task, a signal
        receiver), so a decorated function's parameters stay unknown. The QuerySet itself is
        still the caller's (see `FileAnalysis.judge_receiver`); new QuerySets built from it
        here, or from an instance's relations, are this function's own."""
        function = self.scopes.parents.get(arg)
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function.decorator_list:
            return None
        if arg.arg not in self.parameters_building_querysets(function):
            return None  # (the cache keys only modules with such parameters by their callers)
        if self.scopes.parents.get(function) is not self.scopes.tree or function.name not in self.summary.functions:
            return None
        if len(self.scopes.module.bindings.get(function.name, [])) != 1:
            return None  # defined twice, or rebound (`f = wrap(f)`): callers may get another
        positional = [*function.args.posonlyargs, *function.args.args]
        if arg in positional:
            position, keyword = positional.index(arg), "" if arg in function.args.posonlyargs else arg.arg
        elif arg in function.args.kwonlyargs:
            position, keyword = len(positional) + 1_000, arg.arg
        else:
            return None  # *args / **kwargs
        qualname = f"{self.summary.module}.{function.name}"
        return self.chains.passed_by_callers(qualname, position, keyword, home=self)

    def parameters_building_querysets(self, function: ast.AST) -> frozenset:
        """(the summariser's rule, on the same bytes: see `index.parameters_building_querysets`)"""
        key = ("building", id(function))
        if key not in self._cache:
            lines = self.source_lines()
            self._cache[key] = parameters_building_querysets(function, lines) if lines else frozenset()
        return self._cache[key]

    def source_lines(self) -> list[bytes]:
        """The module's bytes as the engine read them, split in lines (read once; [] when
        they cannot be read)."""
        if self._lines is None:
            try:
                self._lines = self.chains.index.source_bytes(self.summary.path).splitlines(keepends=True)
            except OSError:
                self._lines = []
        return self._lines

    def fresh_from_callers(self, arg: ast.arg) -> Optional[QsType]:
        """The QuerySet every caller passes for `arg` of a module-level function, when each
        passes one built in the call (see `ChainTyper.fresh_querysets_from_callers`)."""
        function = self.scopes.parents.get(arg)
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or not annotated_with_queryset(arg):
            return None  # (the cache keys a module by its callers only when it has such parameters)
        if self.scopes.parents.get(function) is not self.scopes.tree or function.name not in self.summary.functions:
            return None
        if arg not in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs):
            return None
        positional = [*function.args.posonlyargs, *function.args.args]
        position = positional.index(arg) if arg in positional else len(positional) + 1_000
        keyword = "" if arg in function.args.posonlyargs else arg.arg
        qualname = f"{self.summary.module}.{function.name}"
        return self.chains.fresh_querysets_from_callers(qualname, position, keyword)

    def type_receiver(self, arg: ast.arg) -> Optional[QsType]:
        """`self` of a method of a module-level model, QuerySet or Manager class: an instance
        of the model (its relations give fresh QuerySets), the QuerySet itself (one the
        caller may use again: the site is at best unsafe) or the manager."""
        function = self.scopes.parents.get(arg)
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        positional = [*function.args.posonlyargs, *function.args.args]
        if not positional or positional[0] is not arg:
            return None
        cls_node = self.scopes.parents.get(function)
        if not isinstance(cls_node, ast.ClassDef) or self.scopes.parents.get(cls_node) is not self.scopes.tree:
            return None
        decorators = {dotted(d) for d in function.decorator_list}
        if "staticmethod" in decorators:
            return None
        qualname = f"{self.summary.module}.{cls_node.name}"
        cls = self.summary.classes.get(cls_node.name)
        if cls is None or cls.lineno != cls_node.lineno:
            return None  # the name is bound to another class too
        kind = self.chains.index.class_kind(qualname)
        if "classmethod" in decorators:
            return self.type_model_classmethod_receiver(qualname) if kind == "model" else None
        if kind == "model":
            return QsType(INSTANCE, PROVEN, model=qualname)
        if kind not in ("queryset", "manager"):
            return None
        # the model it serves decides what count() means (its Meta.ordering): known when
        # exactly one model uses the class, and the class does not pick another QuerySet
        models = self.chains.models_using(qualname)
        overridden = self.chains.index.overridden_methods((qualname,))
        if len(models) == 1 and "get_queryset" not in overridden:
            confidence, model, why = PROVEN, models[0], ""
        else:
            confidence, model, why = LIKELY, None, f"`self` of a {kind} whose model is not known here"
        return QsType(QUERYSET if kind == "queryset" else MANAGER, confidence, model, (qualname,), why=why)

    def type_model_classmethod_receiver(self, qualname: str) -> QsType:
        """`cls` of a model's classmethod: the model (`cls.objects` its manager), or one of
        its subclasses when it has some (another `Meta.ordering` or manager: likely at most)."""
        if self.chains.index.subclasses(qualname):
            return QsType(MODEL, LIKELY, model=qualname, why="`cls` may be a subclass of the model")
        return QsType(MODEL, PROVEN, model=qualname)


LOOKUP_CALL = re.compile(r"\.(filter|exclude)\([^)]*?\w__\w+\s*=")


def set_accessors(text: str) -> set[str]:
    """The words `\\b(\\w+_set)\\.` finds in `text` (`order_set.`), found from each `_set.`
    (that expression, tried at every position of the text, cost 4 ms a file)."""
    found = set()
    at = text.find("_set.")
    while at != -1:
        start = at
        while start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        if start < at:
            found.add(text[start : at + 4])
        at = text.find("_set.", at + 5)
    return found


SELF_CALL = re.compile(r"self\.(\w+)\(")  # `self.method(` as `relevant_names` looked for it


def _last_name(expr: ast.AST) -> Optional[str]:
    """`self.event` / `event` -> "event"; None for anything else."""
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return expr.id if isinstance(expr, ast.Name) else None


def lookalike_words(text: str) -> set[str]:
    """Words that start a chain only a QuerySet makes (`looks_like_queryset`), in `text`."""
    words = {m for m in DJANGO_ONLY_METHODS if f".{m}(" in text}
    if ".filter(" in text or ".exclude(" in text:
        words.update(m.group(1) for m in LOOKUP_CALL.finditer(text))
    if "_set." in text:
        words.update(set_accessors(text))
    words.update(m for m in ("_default_manager", "_base_manager") if m in text)
    return words


LITERALS = (
    ast.List, ast.ListComp, ast.Tuple, ast.Set, ast.SetComp, ast.Dict, ast.DictComp,
    ast.GeneratorExp, ast.Constant, ast.JoinedStr,
)
# for messages: `not a QuerySet but a list comprehension` (not `a listcomp`)
LITERAL_NAMES = {
    ast.List: "a list", ast.ListComp: "a list comprehension", ast.Tuple: "a tuple", ast.Set: "a set",
    ast.SetComp: "a set comprehension", ast.Dict: "a dict", ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression", ast.Constant: "a constant", ast.JoinedStr: "an f-string",
}


def _agreed(types: list[QsType]) -> Optional[QsType]:
    """The one proven QuerySet, instance or model type all of `types` are (same model, same
    project classes), or None."""
    if not types:
        return None
    first = types[0]
    if first.kind not in (QUERYSET, INSTANCE, MODEL) or (first.kind != QUERYSET and first.model is None):
        return None
    for t in types:
        if t.confidence != PROVEN or (t.kind, t.model, t.classes, t.ordering_model) != (
            first.kind, first.model, first.classes, first.ordering_model
        ):
            return None
    return replace(first, why="", seen=frozenset().union(*(t.seen for t in types)))


def _argument_for(call: ast.Call, position: int, keyword: str) -> Optional[ast.AST]:
    """The expression `call` passes for a parameter (None when `*args`/`**kwargs` hide it)."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    if position < len(call.args):
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _has_default(function: ast.AST, arg: ast.arg) -> bool:
    args = getattr(function, "args", None)
    if args is None:
        return False
    positional = [*args.posonlyargs, *args.args]
    if arg in positional:
        return positional.index(arg) >= len(positional) - len(args.defaults)
    if arg in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(arg)] is not None
    return False

