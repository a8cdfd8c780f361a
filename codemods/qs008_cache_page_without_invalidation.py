"""QS008 cache-page-without-invalidation: a cached page that shows rows the project changes.

`cache_page` (and the per-site cache middleware) store a view's whole response for the
timeout: every request in that time gets the stored page, whatever happened to the rows it was
rendered from. When the project writes those rows (`save()`, `create()`, `update()`,
`delete()`, the admin) and nothing deletes the page from the cache (a `post_save`/`post_delete`
receiver, or a `cache.delete()`/`cache.clear()` next to the writes), users see the old rows
until the timeout ends: a stale read that no test notices (tests run without a cache).

A diagnostic: whether staleness for the timeout is acceptable is the author's call.

Django source: django/views/decorators/cache.py (`cache_page`), django/middleware/cache.py.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

from . import instance_flow as flow
from .base import Example, ModuleFacts, Pass, PassInfo
from .instance_flow import is_test_path
from .index import dotted
from .querysets import INSTANCE, MANAGER, MODEL, QUERYSET, UNKNOWN

CACHE_PAGE = "django.views.decorators.cache.cache_page"
NEVER_CACHE = "django.views.decorators.cache.never_cache"
CACHE_CONTROL = "django.views.decorators.cache.cache_control"
METHOD_DECORATOR = "django.utils.decorators.method_decorator"
REQUIRE_POST = "django.views.decorators.http.require_POST"
SITE_MIDDLEWARE = frozenset(
    {"django.middleware.cache.UpdateCacheMiddleware", "django.middleware.cache.FetchFromCacheMiddleware"}
)
URL_FUNCTIONS = frozenset({"django.urls.path", "django.urls.re_path", "django.conf.urls.url"})
MODEL_SIGNALS = frozenset(
    f"django.db.models.signals.{name}" for name in ("post_save", "post_delete", "m2m_changed", "pre_save", "pre_delete")
)
SIGNAL_WORDS = (b"post_save", b"post_delete", b"m2m_changed", b"pre_save", b"pre_delete")
WRITE_METHODS = frozenset(
    "save delete create update bulk_create bulk_update get_or_create update_or_create".split()
)
# A module holding none of these bytes makes no write call: it is not analysed for writes
WRITE_WORDS = tuple(f".{m}(".encode() for m in (*WRITE_METHODS, "register"))
# A function holding no such text holds no write call: its body is not analysed for writes
# (`x.save(`, `x .save (`, `x.\` and `save(` on the next line; `write_calls` reads attribute calls only)
WRITE_CALL = re.compile(r"\.[\s\\]*(?:%s)[\s\\]*\(" % "|".join(sorted({*WRITE_METHODS, "register"})))
# Bytes that make ProjectFacts walk a module whole (read_settings, read_url_wrapping, read_receivers)
WHOLE_MODULE_WORDS = (b"CacheMiddleware", b"CACHE_MIDDLEWARE_SECONDS", b"cache_page", *SIGNAL_WORDS)
# What a cached class-based view runs for a GET (the only requests the cache answers).
GET_METHODS = frozenset(
    "get head dispatch get_queryset get_object get_context_data list retrieve render_to_response".split()
)
INVALIDATING_WORDS = ("delete", "clear", "invalidate", "expire", "purge", "flush")
CACHE_KEY_HELPERS = frozenset({"get_cache_key", "learn_cache_key"})
MAX_WRITES_NAMED = 3
# Writes that send no model signal: a receiver never hears them.
SILENT_WRITES = frozenset({"update", "bulk_create", "bulk_update"})
SILENT_NOTE = (
    " (its receiver does not help here: `update()`, `bulk_create()` and `bulk_update()` send "
    "no post_save; delete the page's keys next to them)"
)
UNKNOWN_TIMEOUT = "an unknown time"
BY_METHOD_DECORATOR = "by `method_decorator(cache_page(...))`"


@dataclass
class ModelWrites:
    sites: list[tuple[str, int, str]] = field(default_factory=list)  # (path, line, method), not invalidated
    invalidated: bool = False  # a write with a cache deletion next to it


class ProjectFacts:
    """What QS008 reads from the whole project, once per index (kept on it): the per-site
    cache, URLconfs wrapping views in `cache_page`, signal receivers, and each model's writes,
    put together from what each module says (module facts, see `ModuleReader`)."""

    def __init__(self, index, chains):
        self.index = index
        self.chains = chains
        self.site_cache: Optional[str] = None  # the timeout when the per-site cache is on
        self.url_wrapped: dict[str, list[tuple[str, int, str]]] = {}  # view -> (path, line, timeout)
        self.receivers: set[str] = set()  # models with a receiver; "*": any model
        self.writes: dict[str, ModelWrites] = {}
        self._project_modules: Optional[list] = None
        self.missing: set[tuple[str, str, str]] = set()  # asked for while the engine gathers
        site_cache, seconds = False, None
        for summary in self.project_modules():
            source = index.source_bytes(summary.path)
            if b"CacheMiddleware" in source or b"CACHE_MIDDLEWARE_SECONDS" in source:
                found, module_seconds = self.fact("settings", summary) or (False, None)
                site_cache, seconds = site_cache or found, module_seconds or seconds
            if b"cache_page" in source:
                for view, where in self.fact("urls", summary) or ():
                    self.url_wrapped.setdefault(view, []).append(where)
            if any(word in source for word in SIGNAL_WORDS):
                self.receivers.update(self.fact("receivers", summary) or ())
        if site_cache:
            self.site_cache = seconds or "600 seconds (Django's default CACHE_MIDDLEWARE_SECONDS)"

    def fact(self, name: str, summary):
        """What `ModuleReader` reads as `name` in the module, once per run (with -j, made by
        the worker holding its tree); None while the engine gathers what a file asks for."""
        key = (INFO.code, name, summary.module)
        fact = self.index.module_fact(key, lambda: read_module(self.index, self.chains, name, summary.module))
        if fact is None:
            self.missing.add(key)
        return fact

    def project_modules(self) -> list:
        """The modules outside tests (writes in tests change no served page), listed once."""
        if self._project_modules is None:
            self._project_modules = [s for s in self.index.modules.values() if not is_test_path(s.path)]
        return self._project_modules

    def has_receiver(self, model: str) -> bool:
        return bool({"*", model, "name:" + model.rpartition(".")[2]} & self.receivers)

    def writes_of(self, model: str) -> ModelWrites:
        if model not in self.writes:
            found, complete = self.find_writes(model)
            if not complete:  # the engine is gathering what the file asks for: not kept
                return found
            self.writes[model] = found
        return self.writes[model]

    def find_writes(self, model: str) -> tuple[ModelWrites, bool]:
        """Writes typed as `model`'s (an instance's `save()`/`delete()`, a QuerySet's or
        manager's `update()`/`create()`/...), and its admin registration, in modules naming
        the model; and whether every module's writes were known (see `fact`)."""
        found = ModelWrites()
        complete = True
        word = model.rpartition(".")[2].encode()
        for summary in self.project_modules():
            source = self.index.source_bytes(summary.path)
            if word not in source or not any(w in source for w in WRITE_WORDS):
                continue
            rows = self.fact("writes", summary)
            if rows is None:
                complete = False
                continue
            for written, line, method, invalidated in rows:
                if written != model:
                    continue
                if invalidated:
                    found.invalidated = True
                else:
                    found.sites.append((display_path(summary.path), line, method))
        found.sites.sort()
        return found, complete


class ModuleReader:
    """Reads what QS008 needs of one module, with the same typing the passes use: its
    settings, the views its URLconf wraps in `cache_page`, its signal receivers, its writes.
    One per index: a module's analysis is kept between readings, until its writes are read."""

    def __init__(self, index, chains):
        self.index = index
        self.chains = chains
        self.analyses: dict[str, object] = {}

    def analysis_of(self, summary):
        """Another module's `FileAnalysis` for the readers below, built once (and kept until
        its writes are read)."""
        if summary.path not in self.analyses:
            self.analyses[summary.path] = self.analyse(summary)
        return self.analyses[summary.path]

    def analyse(self, summary):
        """A module's `FileAnalysis` (the same typing the passes use), or None."""
        from .analysis import FileAnalysis

        try:
            tree, text, lines, skip = self.index.read_for_facts(summary.path, self.words)
            return FileAnalysis(
                summary.path, text, tree, summary, self.index, self.chains, skip_bodies=skip, lines=lines,
            )
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    def words(self, data: bytes) -> Optional[re.Pattern]:
        """What a function of the module must hold for its body to be analysed: a call of a
        write method or of `register`. Typing a call's receiver reads its own function, the module's
        and classes' bindings and the index, never another function's body (see
        codemods.quiet: a function saying `global` is always read). None (every body) in a
        module the settings, URLconf or receiver readers walk whole: they type nodes anywhere
        in it."""
        return None if any(word in data for word in WHOLE_MODULE_WORDS) else WRITE_CALL

    def settings(self, summary) -> tuple[bool, Optional[str]]:
        """(MIDDLEWARE lists both cache middlewares, CACHE_MIDDLEWARE_SECONDS as written)."""
        analysis = self.analysis_of(summary)
        if analysis is None:
            return False, None
        found, seconds = False, None
        for node in ast.walk(analysis.tree):
            if not isinstance(node, (ast.Assign, ast.AugAssign)):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if "CACHE_MIDDLEWARE_SECONDS" in names:
                seconds = f"{timeout_text(node.value)} (CACHE_MIDDLEWARE_SECONDS)"
            if names & {"MIDDLEWARE", "MIDDLEWARE_CLASSES"}:
                strings = {n.value for n in ast.walk(node.value) if isinstance(n, ast.Constant)}
                found = found or SITE_MIDDLEWARE <= strings
        return found, seconds

    def urls(self, summary) -> list[tuple[str, tuple[str, int, str]]]:
        """`cache_page(t)(view)` / `cache_page(t)(View.as_view())`, in a URLconf or anywhere:
        (the view, (path, line, timeout)), in order."""
        analysis = self.analysis_of(summary)
        wrapped = []
        for node in ast.walk(analysis.tree) if analysis is not None else ():
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Call) and len(node.args) == 1):
                continue
            if analysis.typer.qualified(node.func.func) != CACHE_PAGE:
                continue
            view = node.args[0]
            if isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute) and view.func.attr == "as_view":
                view = view.func.value
            qualname = analysis.typer.qualified(view)
            if qualname is not None:
                where = (display_path(summary.path), node.lineno, page_timeout(node.func))
                wrapped.append((self.index.resolve(qualname), where))
        return wrapped

    def receivers(self, summary) -> set[str]:
        """`@receiver(post_save, sender=M)` and `post_save.connect(f, sender=M)`; a receiver
        for no sender, or one the tool cannot name, counts for every model ("*")."""
        analysis = self.analysis_of(summary)
        senders = set()
        # every node of the module (its analysis skipped no body: `words`), in any order
        for node in analysis.parents if analysis is not None else ():
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "connect":
                if analysis.typer.qualified(func.value) in MODEL_SIGNALS:
                    sender = keyword(node, "sender") or (node.args[1] if len(node.args) > 1 else None)
                    senders.add(self.sender_model(analysis, sender))
            elif analysis.typer.qualified(func) == "django.dispatch.receiver" and node.args:
                signals = node.args[0].elts if isinstance(node.args[0], (ast.List, ast.Tuple)) else [node.args[0]]
                if any(analysis.typer.qualified(s) in MODEL_SIGNALS for s in signals):
                    senders.add(self.sender_model(analysis, keyword(node, "sender")))
        return senders

    def sender_model(self, analysis, sender: Optional[ast.AST]) -> str:
        if sender is None:
            return "*"
        if isinstance(sender, ast.Attribute) and sender.attr == "through":
            sender = sender.value.value if isinstance(sender.value, ast.Attribute) else sender.value
        if isinstance(sender, ast.Constant) and isinstance(sender.value, str):
            return "name:" + sender.value.rpartition(".")[2]
        qualname = analysis.typer.qualified(sender)
        return self.index.resolve(qualname) if qualname else "*"

    def writes(self, summary) -> list[tuple[str, int, str, bool]]:
        """The module's writes of every model: (model, line, method, a cache deletion next to
        it), writes in a rolled-back block left out. Its analysis is not kept: once read, a
        module costs no memory."""
        analysis = self.analyses.pop(summary.path) if summary.path in self.analyses else self.analyse(summary)
        rows = []
        for node in write_calls(analysis) if analysis is not None else ():
            model = self.written_model(analysis, node)
            if model and not rolled_back(analysis, node):
                rows.append((model, node.lineno, node.func.attr, invalidates_near(analysis, node)))
        return rows

    def written_model(self, analysis, call: ast.Call) -> Optional[str]:
        """The model a write call writes (None: not a write the typing can tie to a model)."""
        func = call.func
        if func.attr == "register":
            if not call.args:
                return None
            # `admin.site.register(M)`, `@admin.register(M)`, `my_site.register(M)`: the admin
            # saves M; other registries (`reversion.register(M)`) write nothing
            owner = (dotted(func.value) or "").lower()
            if "admin" in owner or owner.endswith("site"):
                return self.index.resolve(analysis.typer.qualified(call.args[0]) or "") or None
            return None
        receiver = analysis.type_of(func.value)
        if receiver.confidence <= UNKNOWN or not receiver.model:
            return None
        if func.attr in ("save", "delete") and receiver.kind == INSTANCE:
            return receiver.model
        if receiver.kind in (QUERYSET, MANAGER) and func.attr != "save":
            return receiver.model
        return None


def write_calls(analysis) -> list[ast.Call]:
    """The module's calls of a write method or `register` (in the code its analysis read)."""
    return [
        node for node in analysis.parents
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and (node.func.attr in WRITE_METHODS or node.func.attr == "register")
    ]


# what `ProjectFacts.fact(name, ...)` reads of a module
READS = {"settings": ModuleReader.settings, "urls": ModuleReader.urls,
         "receivers": ModuleReader.receivers, "writes": ModuleReader.writes}


def read_module(index, chains, name: str, module: str):
    """The fact `name` of `module` (`ModuleFacts.compute`: where the engine asks, or here)."""
    reader = getattr(index, "_qs008_reader", None)
    if reader is None:
        reader = index._qs008_reader = ModuleReader(index, chains)
    return READS[name](reader, index.modules[module])


def project_facts(index, chains) -> ProjectFacts:
    """The project's facts, made once per index. Made while the engine gathers what files ask
    for, some are missing: each file asks for them again, and they are made again once known."""
    facts = getattr(index, "_qs008_facts", None)
    if facts is None or facts.missing and index.asking is None:
        facts = index._qs008_facts = ProjectFacts(index, chains)
    elif facts.missing:
        index.asking |= facts.missing
    return facts


def keyword(call: ast.Call, name: str) -> Optional[ast.AST]:
    return next((k.value for k in call.keywords if k.arg == name), None)


def display_path(path: str) -> str:
    if os.path.isabs(path):
        try:
            return os.path.relpath(path)
        except ValueError:
            return path
    return path


def timeout_text(expr: Optional[ast.AST]) -> str:
    """A timeout as written when it is a number (`60 * 15` -> "900 seconds"), else unknown."""
    if expr is None:
        return UNKNOWN_TIMEOUT
    try:
        value = _constant(expr)
    except ValueError:
        return UNKNOWN_TIMEOUT
    return "no expiry (None)" if value is None else f"{value:g} seconds"


def _constant(expr: ast.AST):
    if isinstance(expr, ast.Constant) and (expr.value is None or type(expr.value) in (int, float)):
        return expr.value
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Mult, ast.Add)):
        left, right = _constant(expr.left), _constant(expr.right)
        if left is not None and right is not None:
            return left * right if isinstance(expr.op, ast.Mult) else left + right
    raise ValueError("not a number")


def page_timeout(cache_page_call: ast.Call) -> str:
    return timeout_text(cache_page_call.args[0] if cache_page_call.args else keyword(cache_page_call, "timeout"))


def rolled_back(analysis, write: ast.AST) -> bool:
    """Inside `with rolledback_transaction():` (a context manager named for rolling back):
    a write that never persists (a dry run)."""
    for ancestor in analysis.scopes.ancestors(write):
        if isinstance(ancestor, (ast.With, ast.AsyncWith)):
            for item in ancestor.items:
                expr = item.context_expr
                name = dotted(expr.func if isinstance(expr, ast.Call) else expr) or ""
                if "rollback" in name.lower() or "rolledback" in name.lower():
                    return True
    return False


def invalidates_near(analysis, write: ast.AST) -> bool:
    """The function holding the write (or the module, for a module-level write) deletes cache
    entries: `cache.delete(...)`, `caches["x"].clear()`, a `get_cache_key` helper, or a
    project helper named for it (`invalidate_cache()`, `clear_page_cache()`)."""
    holder = analysis.tree
    for ancestor in analysis.scopes.ancestors(write):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
            holder = ancestor
    memo = analysis.__dict__.setdefault("_qs008_invalidates", {})
    if id(holder) not in memo:
        # every deletion it knows names "cache" (the call, its owner or a key helper): a
        # holder whose text never says it is not walked
        if holder is analysis.tree:
            text = analysis.text
        else:
            start = min([holder.lineno, *(d.lineno for d in holder.decorator_list)])
            text = "".join(analysis.lines[start - 1 : holder.end_lineno])
        memo[id(holder)] = "cache" in text.lower() and any(
            isinstance(node, ast.Call) and is_cache_deletion(node.func) for node in ast.walk(holder)
        )
    return memo[id(holder)]


def is_cache_deletion(func: ast.AST) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name in CACHE_KEY_HELPERS:
        return True
    if isinstance(func, ast.Attribute) and any(word in name for word in INVALIDATING_WORDS):
        owner = func.value.value if isinstance(func.value, ast.Subscript) else func.value
        if "cache" in (dotted(owner) or "").lower():
            return True
    return "cache" in name.lower() and any(word in name for word in INVALIDATING_WORDS)


class CachePageWithoutInvalidation(Pass):
    @property
    def idle(self) -> bool:
        analysis = self.analysis
        if flow.skips_file(analysis):
            return True
        index = analysis.index
        page_cache = getattr(index, "_qs008_page_cache", None)
        if page_cache is None:
            page_cache = index._qs008_page_cache = any(
                getattr(s, "page_cache", True) for s in index.modules.values()
            )
        return not page_cache

    def finish(self) -> None:
        if self.idle:  # the engine calls `finish()` of idle passes too
            return
        analysis = self.analysis
        self.facts = project_facts(analysis.index, analysis.typer.chains)
        for node in analysis.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.check_function_view(node)
            elif isinstance(node, ast.ClassDef):
                self.check_class_view(node)

    def qualified(self, expr: ast.AST) -> Optional[str]:
        return self.analysis.typer.qualified(expr)

    def cache_page_call(self, decorator: ast.AST) -> Optional[ast.Call]:
        """`cache_page(t)`, or the `cache_page(t)` inside `method_decorator(...)`."""
        if not isinstance(decorator, ast.Call):
            return None
        if self.qualified(decorator.func) == CACHE_PAGE:
            return decorator
        if self.qualified(decorator.func) == METHOD_DECORATOR and decorator.args:
            inner = decorator.args[0]
            for item in inner.elts if isinstance(inner, (ast.List, ast.Tuple)) else [inner]:
                if isinstance(item, ast.Call) and self.qualified(item.func) == CACHE_PAGE:
                    return item
        return None

    def opts_out(self, decorators: Iterable[ast.AST]) -> bool:
        """`never_cache`, `cache_control(no_cache=True)` (or private/no_store/max_age=0) and
        `require_POST`: the per-site cache never stores such a response."""
        for decorator in decorators:
            items = [decorator]
            is_call = isinstance(decorator, ast.Call)
            if is_call and self.qualified(decorator.func) == METHOD_DECORATOR and decorator.args:
                first = decorator.args[0]
                items = list(first.elts) if isinstance(first, (ast.List, ast.Tuple)) else [first]
            for item in items:
                target = item.func if isinstance(item, ast.Call) else item
                name = self.qualified(target)
                if name in (NEVER_CACHE, REQUIRE_POST):
                    return True
                if name == CACHE_CONTROL and isinstance(item, ast.Call):
                    for k in item.keywords:
                        if k.arg in ("no_cache", "private", "no_store") or (k.arg == "max_age" and _is_zero(k.value)):
                            return True
        return False

    def routed(self, qualname: str) -> bool:
        return any(r in URL_FUNCTIONS for _, r, _ in self.analysis.index.handed_over_sites(qualname))

    def how_cached(self, qualname: str, decorators, opts_out: bool) -> Optional[tuple[str, str]]:
        """(how the page is cached, its timeout) when not by a decorator: a URLconf's
        `cache_page(t)(view)`, or the per-site middleware for a routed view."""
        wrapped = self.facts.url_wrapped.get(qualname)
        if wrapped:
            path, line, timeout = wrapped[0]
            return f"by `cache_page(...)` in {path}:{line}", timeout
        if self.facts.site_cache is not None and not opts_out and self.routed(qualname):
            return "by the per-site cache middleware", self.facts.site_cache
        return None

    def check_function_view(self, function) -> None:
        module = self.analysis.summary.module
        for decorator in function.decorator_list:
            call = self.cache_page_call(decorator)
            if call is not None:
                self.check_reads(decorator, function.name, "by `@cache_page`", page_timeout(call), [function])
                return
        params = [*function.args.posonlyargs, *function.args.args]
        if not params or params[0].arg != "request":
            return
        decorators = function.decorator_list
        found = self.how_cached(f"{module}.{function.name}", decorators, self.opts_out(decorators))
        if found is not None:
            self.check_reads(function, function.name, found[0], found[1], [function])

    def check_class_view(self, cls: ast.ClassDef) -> None:
        methods = [n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        get_path = [m for m in methods if m.name in GET_METHODS]
        for decorator in cls.decorator_list:
            call = self.cache_page_call(decorator)
            names = keyword(decorator, "name") if isinstance(decorator, ast.Call) else None
            if call is not None and isinstance(names, ast.Constant) and names.value in GET_METHODS:
                self.check_reads(decorator, cls.name, BY_METHOD_DECORATOR, page_timeout(call), [cls])
                return
        for method in get_path:
            for decorator in method.decorator_list:
                call = self.cache_page_call(decorator)
                if call is not None and call is not decorator:
                    self.check_reads(decorator, cls.name, BY_METHOD_DECORATOR, page_timeout(call), [cls])
                    return
        qualname = f"{self.analysis.summary.module}.{cls.name}"
        if self.analysis.index.class_kind(qualname) != "view":
            return
        decorators = [*cls.decorator_list, *(d for m in get_path for d in m.decorator_list)]
        found = self.how_cached(qualname, decorators, self.opts_out(decorators))
        if found is not None:
            self.check_reads(cls, cls.name, found[0], found[1], [cls])

    def read_models(self, roots: list[ast.AST]) -> set[str]:
        """Models whose rows the view reads, as the shared typing sees them (anything it cannot
        type is no read: precision first). A class-based view: its `model`/`queryset`
        attributes and the methods a GET runs."""
        analysis = self.analysis
        models: set[str] = set()
        nodes: list[ast.AST] = []
        for root in roots:
            if isinstance(root, ast.ClassDef):
                for stmt in root.body:
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in GET_METHODS:
                        nodes.extend(ast.walk(stmt))
                    elif isinstance(stmt, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id in ("model", "queryset") for t in stmt.targets
                    ):
                        nodes.extend(ast.walk(stmt.value))
            else:
                nodes.extend(ast.walk(root))
        for node in nodes:
            if not isinstance(node, (ast.Call, ast.Attribute, ast.Name)):
                continue
            if not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
                continue
            qstype = analysis.type_of(node)
            if qstype.model and qstype.confidence > UNKNOWN and qstype.kind in (QUERYSET, MANAGER, INSTANCE, MODEL):
                if qstype.kind != MODEL or self.is_model_attribute(node):
                    models.add(analysis.index.resolve(qstype.model))
        return models

    def is_model_attribute(self, node: ast.AST) -> bool:
        """`model = Order` on a class-based view (a bare model name elsewhere reads nothing)."""
        parent = self.analysis.parents.get(node)
        return isinstance(parent, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "model" for t in parent.targets
        )

    def check_reads(self, anchor: ast.AST, view: str, how: str, timeout: str, roots: list[ast.AST]) -> None:
        if timeout == "0 seconds":
            return  # `cache_page(0)` stores nothing
        facts = self.facts
        stale = []
        signalled = False
        for model in sorted(self.read_models(roots)):
            writes = facts.writes_of(model)
            if writes.invalidated:
                continue
            sites = writes.sites
            if facts.has_receiver(model):
                # a receiver hears save()/delete()/create(), never update() or bulk_*()
                sites = [s for s in sites if s[2] in SILENT_WRITES]
                signalled = signalled or bool(sites)
            if not sites:
                continue
            named = ", ".join(f"{path}:{line}" for path, line, _ in sites[:MAX_WRITES_NAMED])
            more = len(sites) - MAX_WRITES_NAMED
            if more > 0:
                named += f" and {more} more"
            stale.append(f"{model.rpartition('.')[2]} (written at {named})")
        if not stale:
            return
        self.report(
            anchor,
            f"`{view}` is cached {how} for {timeout} and reads {'; '.join(stale)} with no cache "
            "invalidation (no post_save/post_delete receiver hears these writes, no cache deletion "
            "next to them): the page shows the old rows until it expires; add a "
            "post_save/post_delete receiver that calls `cache.clear()` (or deletes the page's "
            "keys), or shorten the timeout"
            + (SILENT_NOTE if signalled else ""),
        )


def _is_zero(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Constant) and expr.value == 0


# the two examples' shared code (a cached view and a write of what it reads)
RECEIVER_IMPORTS = """\
from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver
"""
CACHED_VIEW_IMPORTS = """\
from django.shortcuts import render
from django.views.decorators.cache import cache_page

from shop.models import Order


"""
CACHED_VIEW_AND_WRITE = """\
@cache_page(60 * 15)
def open_orders(request):
    return render(request, "orders.html", {"orders": Order.objects.filter(status="open")})


def close(request, pk):
    order = Order.objects.get(pk=pk)
    order.status = "closed"
    order.save()
"""
RECEIVER = """

@receiver(post_save, sender=Order)
def forget_pages(sender, **kwargs):
    cache.clear()
"""


INFO = PassInfo(
    code="QS008",
    name="cache-page-without-invalidation",
    summary=(
        "a page cached with `cache_page` (or the per-site cache) that reads rows the project "
        "writes, with no invalidation (diagnostic)"
    ),
    safety="none (diagnostic)",
    what=(
        "Finds views whose response is cached: `@cache_page(...)`, "
        "`method_decorator(cache_page(...))` on a class-based view or its `get()`/`dispatch()`, "
        "`cache_page(...)(view)` or `cache_page(...)(View.as_view())` in a URLconf, or every "
        "routed view when settings list `UpdateCacheMiddleware` and `FetchFromCacheMiddleware` "
        "(views under `never_cache`, `cache_control(no_cache=True)`/`private`, or `require_POST` "
        "excepted). For the models such a view reads (its QuerySets, `get_object_or_404`, "
        "`Model.objects...`; for a class-based view its `model`, `queryset` and the methods a "
        "GET runs), it looks for the project's writes of that model (`save()`, `delete()`, "
        "`create()`, `update()`, `bulk_*`, `get_or_create()`, `update_or_create()`, an admin "
        "registration) and reports the model when nothing invalidates the page: no "
        "`post_save`/`post_delete`/`m2m_changed` receiver for it, and no `cache.delete()`, "
        "`delete_many()`, `clear()` or `get_cache_key()` helper next to the writes."
    ),
    why=(
        "A cached page is served as stored for the whole timeout. When the rows it was "
        "rendered from change, every visitor sees the old ones until it expires: an edited "
        "price, a deleted post, a closed order still shown as open. Tests run without a "
        "cache, so they never notice."
    ),
    fix_safety=(
        "No fix: how stale a page may be is the author's call. The finding names the models, "
        "where the project writes them (at most three places, then how many more) and the "
        "timeout (the literal, CACHE_MIDDLEWARE_SECONDS, or unknown); add a receiver that "
        "deletes the page's keys or calls `cache.clear()`, or shorten the timeout. Precision "
        "first: a view whose reads cannot be typed, a model with any model-signal receiver "
        "(or one for no sender; its `update()`/`bulk_create()`/`bulk_update()` writes, which "
        "send no signal, are still reported), or one of whose writes sits in a function that "
        "deletes cache entries is not reported. Writes are found by the shared typing in modules naming "
        "the model (a ModelForm's `form.save()` is not seen); writes in management commands "
        "count, migrations and tests do not."
    ),
    references=(
        "https://docs.djangoproject.com/en/stable/topics/cache/#the-per-view-cache",
        "https://docs.djangoproject.com/en/stable/topics/cache/#the-per-site-cache",
        "https://docs.djangoproject.com/en/stable/ref/signals/#post-save",
    ),
    examples=(
        Example(
            "cached_view_of_written_model",
            CACHED_VIEW_IMPORTS + CACHED_VIEW_AND_WRITE,
            diagnostic=True,
        ),
        Example(
            "invalidated_by_a_receiver",
            RECEIVER_IMPORTS + CACHED_VIEW_IMPORTS + CACHED_VIEW_AND_WRITE + RECEIVER,
        ),
    ),
    visitor=CachePageWithoutInvalidation,
    options=(flow.CHECK_TESTS_OPTION,),
    # the settings, URLconfs, receivers and writes of other modules, read where their trees are
    module_facts=ModuleFacts(compute=read_module, asked_by=lambda summary: summary.page_cache),
    # once a page is cached anywhere, writes, receivers and URLconfs anywhere decide its findings
    reads_whole_project=lambda index: (
        set(index.modules) if any(m.page_cache for m in index.modules.values()) else set()
    ),
)
CachePageWithoutInvalidation.info = INFO
