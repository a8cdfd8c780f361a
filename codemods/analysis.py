"""Per-file analysis every pass shares: scopes, expression typing, and the answer to "are this
QuerySet's rows (or its result cache) used anywhere else?". Built once per file, on `ast`.

Why reuse matters: `bool(qs)` and `len(qs)` fetch every row into `qs._result_cache`; later
iteration, `len()`, `bool()`, `count()`, `exists()`, indexing and `first()` on that same object
then read the cache for free. `exists()`/`count()` never fill it. Rewriting a QuerySet whose
cache is used elsewhere therefore *adds* a query, which is why Django's docs say to keep
`bool()`/`len()` there. The only accesses that leave the cache alone are calls that build a new
QuerySet (`qs.filter(...)`, `qs.order_by(...)`): they clone without the cache.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional

from .files import split_lines
from .index import ModuleSummary, ProjectIndex, resolve_relative
from .querysets import (
    LIKELY,
    MANAGER,
    QUERYSET,
    QUERYSET_BUILDERS,
    RAW,
    ChainTyper,
    ExprTyper,
    QsType,
    count_caveat,
)
from .scopes import COMPREHENSIONS, FUNCTION_NODES, ScopeMap
from .suppression import says_deliberate
from .wording import cut, more_uses, short_code



@dataclass
class Use:
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.what} on line {self.line}"


SHARED_SKIP = "a module-level QuerySet is shared by every caller; QS004 makes it a factory first"


@dataclass
class Verdict:
    """What to do with `<expr>.exists()` / `<expr>.count()` in place of `bool()` / `len()`."""

    qstype: QsType
    report: bool  # worth telling the user about (even if skipped)
    skip: Optional[str] = None
    unsafe: Optional[str] = None
    requires: Optional[str] = None  # the QS004 unit whose call this fix builds on

    @property
    def unless(self) -> tuple[tuple[str, str], ...]:
        """Without QS004 the receiver stays a shared module-level QuerySet (Pass.report)."""
        # the unit ("QS004:<constant>") names the pass that must be selected
        return ((self.requires.partition(":")[0], SHARED_SKIP),) if self.requires else ()


class FileAnalysis:
    """Everything the passes ask about one file; built once per file, shared by all passes."""

    def __init__(
        self,
        path: str,
        text: str,
        tree: ast.Module,
        summary: ModuleSummary,
        index: ProjectIndex,
        chains: ChainTyper,
        factories_active: bool = False,
        skip_bodies: frozenset = frozenset(),
        lines: Optional[list[str]] = None,
    ):
        self.path = path
        self.factories_active = factories_active
        self._import_maps = None
        self.text = text
        self.tree = tree
        self.summary = summary
        self.index = index
        self.scopes = ScopeMap(tree, skip_bodies)
        self.parents = self.scopes.parents
        self.typer = ExprTyper(self.scopes, summary, chains)
        self.project = chains.project
        self.lines = split_lines(text) if lines is None else lines

    # -- small helpers -----------------------------------------------------------------
    def type_of(self, expr: ast.AST) -> QsType:
        return self.typer.type_of(expr)

    def is_builtin(self, node: ast.AST, name: str) -> bool:
        return self.typer.is_builtin(node, name)

    def char_col(self, line: int, byte_col: int) -> int:
        """ast columns count UTF-8 bytes; people (and libcst) count characters."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def start(self, node: ast.AST) -> tuple[int, int]:
        return node.lineno, self.char_col(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> tuple[int, int]:
        return node.end_lineno, self.char_col(node.end_lineno, node.end_col_offset)

    def line_col(self, node: ast.AST) -> tuple[int, int]:
        line, col = self.start(node)
        return line, col + 1

    def between(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        (l1, c1), (l2, c2) = start, end
        if l1 == l2:
            return self.lines[l1 - 1][c1:c2]
        parts = [self.lines[l1 - 1][c1:]] + self.lines[l1 : l2 - 1] + [self.lines[l2 - 1][:c2]]
        return "".join(parts)

    def code(self, node: ast.AST) -> str:
        return self.between(self.start(node), self.end(node))

    def quote(self, node: ast.AST) -> str:
        """The node's source for a message: one line, multi-line arguments as `(...)`."""
        return short_code(self.code(node))

    def line_text(self, line: int) -> str:
        return self.lines[line - 1].rstrip("\r\n") if 0 < line <= len(self.lines) else ""

    def has_comment_around(self, outer: ast.AST, inner: ast.AST) -> bool:
        """A comment in `outer` but outside `inner` (lost if `outer`'s punctuation goes)."""
        before = self.between(self.start(outer), self.start(inner))
        after = self.between(self.end(inner), self.end(outer))
        return "#" in before or "#" in after

    def statement_of(self, node: ast.AST) -> ast.AST:
        current = node
        while current is not None and not isinstance(current, ast.stmt):
            current = self.parents.get(current)
        return current or node

    def deliberate_comment(self, node: ast.AST) -> Optional[str]:
        """A comment on the site's lines (or just above its statement) that says the
        evaluation is deliberate: the author knows better than a rule."""
        statement = self.statement_of(node)
        first = statement.lineno
        last = node.end_lineno or node.lineno
        lines = [self.line_text(n) for n in range(first, last + 1)]
        above = first - 1
        while above > 0 and self.line_text(above).lstrip().startswith("#"):
            lines.append(self.line_text(above))
            above -= 1
        for text in lines:
            if "#" not in text:
                continue
            for comment in _comments(text):
                if says_deliberate(comment):
                    return f"a comment says the evaluation is deliberate: # {cut(comment.strip())}"
        return None

    # -- names -------------------------------------------------------------------------
    def local_bindings(self, name: ast.Name):
        """The function-local bindings `name` can refer to, or None if it is not local."""
        scope = self.scopes.binding_scope(name)
        if scope is None or scope.kind not in ("function", "comprehension"):
            return None
        return scope.bindings[name.id]

    def isinstance_guard(self, name: ast.Name, site: ast.AST) -> Optional[str]:
        """Site inside an `if isinstance(name, ...)` test or branch: the author is telling
        apart a QuerySet from something else, so a rewrite is not for the tool to make."""
        for ancestor in self.scopes.ancestors(site):
            if isinstance(ancestor, FUNCTION_NODES):
                break
            if isinstance(ancestor, (ast.If, ast.IfExp, ast.While)):
                for call in ast.walk(ancestor.test):
                    if (
                        isinstance(call, ast.Call)
                        and self.is_builtin(call.func, "isinstance")
                        and call.args
                        and isinstance(call.args[0], ast.Name)
                        and call.args[0].id == name.id
                    ):
                        return f"inside a branch that tests isinstance({name.id}, ...)"
        return None

    # -- module-level QuerySets (QS004's plan) -------------------------------------------
    def import_maps(self):
        """id(alias) -> what an import alias names: a QS004 factory, or a module."""
        if self._import_maps is None:
            plan = self.project.factories
            summary, index = self.summary, self.index
            factories, modules = {}, {}
            for node in self.parents:
                if isinstance(node, ast.ImportFrom):
                    base = resolve_relative(summary.module, summary.is_package, node.level, node.module)
                    for alias in node.names:
                        factory = plan.get(index.resolve(f"{base}.{alias.name}"))
                        if factory is not None:
                            factories[id(alias)] = factory
                        elif index.is_module(f"{base}.{alias.name}"):
                            modules[id(alias)] = f"{base}.{alias.name}"
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        modules[id(alias)] = alias.name if alias.asname else alias.name.split(".")[0]
            self._import_maps = (factories, modules)
        return self._import_maps

    def factory_for(self, expr: ast.AST):
        """The QS004 factory `expr` names (`NAME`, an imported alias, `module.NAME`), if any."""
        plan = self.project.factories
        if not plan:
            return None
        if isinstance(expr, ast.Name):
            scope = self.scopes.binding_scope(expr)
            if scope is None:
                return None
            factories, _ = self.import_maps()
            found = set()
            for binding in scope.bindings.get(expr.id, []):
                if binding.kind == "import" and id(binding.node) in factories:
                    found.add(factories[id(binding.node)].qualname)
                elif scope.kind == "module" and binding.kind == "assign":
                    own = plan.get(f"{self.summary.module}.{expr.id}")
                    if own is None:
                        return None
                    found.add(own.qualname)
                else:
                    return None
            return plan[found.pop()] if len(found) == 1 else None
        if isinstance(expr, ast.Attribute):
            parts = []
            current: ast.AST = expr
            while isinstance(current, ast.Attribute):
                parts.append(current.attr)
                current = current.value
            if not isinstance(current, ast.Name):
                return None
            scope = self.scopes.binding_scope(current)
            if scope is None:
                return None
            _, modules = self.import_maps()
            named = {modules.get(id(b.node)) for b in scope.bindings.get(current.id, [])}
            if len(named) != 1 or None in named:
                return None
            return plan.get(self.index.resolve(".".join([named.pop(), *reversed(parts)])))
        return None

    # -- the shared judgement ------------------------------------------------------------
    def judge_receiver(self, expr: ast.AST, site: ast.AST, method: str) -> Verdict:
        """Can `expr` (evaluated at `site` by bool()/len()) become `expr.<method>()`?

        Safe: a QuerySet beyond doubt whose rows and cache nobody else reads. Unsafe: only
        likely a QuerySet, or its rows are used elsewhere (the rewrite would add a query).
        Skipped: anything else that looked like a QuerySet, with the reason.
        """
        t = self.type_of(expr)
        if t.kind == MANAGER:
            return Verdict(t, True, skip="a Manager, not a QuerySet: it has no `len()`, is always true, and `bool()` runs no query")
        if t.kind == RAW:
            return Verdict(t, True, skip=f"a RawQuerySet has no `.{method}()`")
        if t.kind != QUERYSET:
            return Verdict(t, t.near, skip=t.why or "not known to be a QuerySet")
        comment = self.deliberate_comment(site)
        if comment:
            return Verdict(t, True, skip=comment)
        prefetched = self.reads_prefetched(expr)
        if prefetched:
            return Verdict(t, True, skip=f"{prefetched}: `.{method}()` reads them as well and gains nothing")
        sliced = self.sliced_receiver_problem(expr, site, method)
        if sliced:
            return Verdict(t, True, skip=sliced)
        unsafe = (t.why or "only likely a QuerySet") if t.confidence == LIKELY else None
        caveat = count_caveat(t, self.typer.chains) if method == "count" or _offset_slice(expr) else None
        if caveat:
            unsafe = caveat
        factory = self.factory_for(expr)
        if factory is not None:
            if factory.skip or not self.factories_active:
                why = f" (it is not converted: {factory.skip})" if factory.skip else ""
                return Verdict(t, True, skip=SHARED_SKIP + why)
            # QS004 turns this into `factory()`: a fresh QuerySet nobody else holds
            return Verdict(t, True, unsafe=unsafe, requires=factory.unit)
        if isinstance(expr, ast.Name):
            if self.local_bindings(expr) is None:
                return Verdict(t, True, skip="a module-level QuerySet is shared by every caller; QS004 makes it a factory first")
            guard = self.isinstance_guard(expr, site)
            if guard:
                return Verdict(t, True, skip=guard)
            loop = self.repeated_in_loop(expr)
            if loop:
                unsafe = f"{loop}: `bool()`/`len()` fetch the rows once and later rounds read the cache; `.{method}()` would query every round"
            if unsafe is None and any(
                b.kind == "param" and self.typer.fresh_from_callers(b.node) is None for b in self.local_bindings(expr)
            ):
                unsafe = f"a QuerySet the caller passed in (`{expr.id}`): the caller may read its rows afterwards, and `.{method}()` would add a query"
            uses = self.other_uses(expr)
            if uses:
                more = f", and {more_uses(len(uses) - 1)}" if len(uses) > 1 else ""
                unsafe = f"its rows are used elsewhere ({uses[0]}{more}), so `.{method}()` would add a query"
                if uses[0].line < site.lineno and uses[0].what in ROW_FETCHES:
                    unsafe = f"rows already fetched ({uses[0]}): `.{method}()` would read them and gain nothing"
        return Verdict(t, True, unsafe=unsafe)

    def sliced_receiver_problem(self, expr: ast.AST, site: ast.AST, method: str) -> Optional[str]:
        """`qs[a:b]` is a new QuerySet only while `qs` has not fetched its rows: once it has,
        Django slices the cached list and `.exists()`/`.count()` fail on it. A slice of a
        chain built right there (`Order.objects.filter(...)[:5]`) is always a QuerySet; of a
        local name, when nothing evaluates that name before the site (nor in a loop around
        it); of anything else (a module-level or shared object), not provably."""
        if not (isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice)):
            return None
        base = expr.value
        if isinstance(base, ast.Call):
            return None
        listed = f"`{self.quote(base)}[...]` is a list, not a QuerySet, once `{self.quote(base)}` has fetched its rows: it has no `.{method}()`"
        if not isinstance(base, ast.Name) or not self.local_bindings(base):
            return f"{listed}, and the tool cannot see whether it has"
        if any(b.kind == "param" for b in self.local_bindings(base)):
            return f"{listed}, and the caller may have fetched them"
        if self.repeated_in_loop(base):
            return f"{listed}, and the site runs in a loop"
        earlier = [u for u in self.other_uses(base) if u.line <= site.lineno and u.what not in LEAVES_CACHE]
        if earlier:
            return f"{listed} ({earlier[0]})"
        return None

    # -- prefetched relations -----------------------------------------------------------
    def reads_prefetched(self, expr: ast.AST) -> Optional[str]:
        """`item.variations.all()` of a loop variable over a QuerySet that prefetches
        `variations` (`prefetch_related("variations")`, `items__variations` one loop out,
        `prefetch_related_objects(items, "variations")`; `pos.item.questions.all()` with
        `item__questions`) reads the rows the prefetch fetched: Django's count()/exists()
        read that cache too. The reason, also when a lookup the tool cannot read (a
        `Prefetch` object, a name) may prefetch it or a comment on the line speaks of a
        prefetch; None otherwise. A local name: when every value bound to it reads them."""
        if isinstance(expr, ast.Name):
            bindings = self.local_bindings(expr) or []
            if not bindings or any(b.kind != "assign" or b.value is None for b in bindings):
                return None
            reasons = [self.reads_prefetched(b.value) for b in bindings]
            return reasons[0] if all(reasons) else None
        root, steps = self.typer.chain(expr)
        if not isinstance(root, ast.Name) or len(steps) < 3 or steps[-2:] != [".all", "()"]:
            return None  # any other step clones the QuerySet without the prefetched rows
        if not all(step.startswith(".") for step in steps[:-2]):
            return None
        path = "__".join(step[1:] for step in steps[:-2])
        shown = f"{root.id}.{path.replace('__', '.')}"
        if any("prefetch" in c.lower() for n in range(expr.lineno, expr.end_lineno + 1) for c in _comments(self.line_text(n))):
            return f"a comment on the line says `{shown}` reads prefetched rows"
        lookups = self.prefetched_lookups(root, set())
        if lookups is None:
            return f"`{root.id}` comes from a QuerySet with a prefetch the tool cannot read, which may have fetched `{shown}`"
        if any(lookup == path or lookup.startswith(path + "__") for lookup in lookups):
            return f"`{shown}` was prefetched by `prefetch_related()`"
        return None

    def prefetched_lookups(self, name: ast.Name, seen: set) -> Optional[set[str]]:
        """The prefetch lookups that hold for the instances a loop variable `name` takes
        (relative to them); None when one cannot be read. `seen`: the bindings followed."""
        lookups: set[str] = set()
        for binding in self.local_bindings(name) or []:
            if binding.kind == "loop" and binding.value is not None and id(binding) not in seen:
                seen.add(id(binding))
                found = self.chain_prefetches(self.typer.listed_queryset(binding.value), seen)
                if found is None:
                    return None
                lookups |= found
        return lookups

    def chain_prefetches(self, expr: ast.AST, seen: set) -> Optional[set[str]]:
        """The `prefetch_related()` lookups along a QuerySet chain (both sides of an `or` or
        an `if`-expression), through the local names it starts from (and the
        `prefetch_related_objects(name, ...)` calls on them) and, for `outer.<rel>.all()`,
        the `<rel>__...` lookups of `outer`'s loop."""
        expr = self.typer.listed_queryset(expr)  # `list(qs)` holds qs's instances
        if isinstance(expr, (ast.BoolOp, ast.IfExp)):
            lookups: set[str] = set()
            for part in (expr.values if isinstance(expr, ast.BoolOp) else (expr.body, expr.orelse)):
                found = self.chain_prefetches(part, seen)
                if found is None:
                    return None
                lookups |= found
            return lookups
        lookups = set()
        node = expr
        while isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "prefetch_related":
                found = _lookup_strings(node.args, node.keywords)
                if found is None:
                    return None  # Prefetch(...), a name, None (clears them), *lookups
                lookups |= found
            node = node.func if isinstance(node, ast.Call) else node.value
        if not isinstance(node, ast.Name) or self.local_bindings(node) is None:
            return lookups
        _, steps = self.typer.chain(expr)
        if len(steps) == 3 and steps[1:] == [".all", "()"]:
            outer = self.prefetched_lookups(node, seen)
            if outer is None:
                return None
            prefix = steps[0][1:] + "__"
            lookups |= {lookup[len(prefix):] for lookup in outer if lookup.startswith(prefix)}
        for binding in self.local_bindings(node):
            if binding.kind == "assign" and binding.value is not None and id(binding) not in seen:
                seen.add(id(binding))
                found = self.chain_prefetches(binding.value, seen)
                if found is None:
                    return None
                lookups |= found
        if not steps:
            found = self.prefetched_by_call(node)
            if found is None:
                return None
            lookups |= found
        return lookups

    def prefetched_by_call(self, name: ast.Name) -> Optional[set[str]]:
        """The lookups of `prefetch_related_objects(<name>, ...)` calls on a local name."""
        lookups: set[str] = set()
        for node in self.scopes.references(self.scopes.binding_scope(name), name.id):
            call = self.parents.get(node)
            if isinstance(call, ast.Call) and call.args[:1] == [node] and _called_name(call.func) == "prefetch_related_objects":
                found = _lookup_strings(call.args[1:], call.keywords)
                if found is None:
                    return None
                lookups |= found
        return lookups

    # -- reuse ---------------------------------------------------------------------------
    def repeated_in_loop(self, name: ast.Name) -> Optional[str]:
        """The site runs more than once on one binding of `name`: it sits in a loop that does
        not also rebind `name` each round."""
        bindings = [b.node for b in (self.local_bindings(name) or [])]
        reaching = self.typer.reaching_binding(name, self.local_bindings(name) or [])
        if reaching is not None:
            bindings = [reaching.node]  # the one binding that reaches the site
        child: ast.AST = name
        for current in self.scopes.ancestors(name):
            if isinstance(current, (*FUNCTION_NODES, ast.Module, ast.ClassDef)):
                break
            loop = None
            if isinstance(current, (ast.For, ast.AsyncFor)) and child in current.body:
                loop = "tested inside a `for` loop"
            elif isinstance(current, ast.While) and (child is current.test or child in current.body):
                loop = "inside a `while` loop"
            elif isinstance(current, COMPREHENSIONS):
                if not self.scopes.contains(current.generators[0].iter, name):
                    loop = "inside a comprehension"
            if loop and not all(self.scopes.contains(current, b) for b in bindings):
                return loop
            child = current
        return None

    def other_uses(self, name: ast.Name) -> list[Use]:
        """Loads of the local `name` (any binding of it in its function, closures included)
        other than `name` itself that evaluate the QuerySet or read its result cache. Order
        and branches do not matter: an evaluation before the site fills the cache the site
        would read; one after it reads the cache the site fills; a loop makes each both."""
        scope = self.scopes.binding_scope(name)
        uses: list[Use] = []
        reaching = self.typer.reaching_binding(name, scope.bindings.get(name.id, []))
        for node in self.scopes.references(scope, name.id):
            if node is name or (reaching is not None and self.sees_another_binding(node, reaching)):
                continue
            what = self.describe_use(node)
            if what is not None:
                uses.append(Use(node.lineno, what))
        uses.sort(key=lambda u: u.line)
        return uses

    def sees_another_binding(self, node: ast.Name, binding) -> bool:
        """`node` cannot see the value `binding` gives: it comes before it, with no loop
        around both, or another binding reaches it in straight-line code."""
        other = self.typer.reaching_binding(node, self.local_bindings(node) or [])
        if other is not None:
            return other is not binding
        if (node.lineno, node.col_offset) >= (binding.node.lineno, binding.node.col_offset):
            return False
        return not any(
            isinstance(a, (ast.For, ast.AsyncFor, ast.While, *COMPREHENSIONS)) and self.scopes.contains(a, binding.node)
            for a in self.scopes.ancestors(node)
        )

    def describe_use(self, node: ast.Name) -> Optional[str]:
        """How an access uses a QuerySet; None when it only builds a new QuerySet from it."""
        parent = self.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            grand = self.parents.get(parent)
            if isinstance(grand, ast.Call) and grand.func is parent:
                if parent.attr in QUERYSET_BUILDERS or parent.attr in ("update", "delete"):
                    return None  # a clone, or one statement on the table: no cached row read
                return f"`.{parent.attr}()`"
            return f"`.{parent.attr}`"
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
            return "iterated"
        if isinstance(parent, ast.Call) and node is not parent.func:
            if parent.args[:1] == [node] and _called_name(parent.func) in SUBQUERY_WRAPPERS:
                return None  # `Exists(qs)` / `Subquery(qs)`: its SQL, not its rows
            return f"passed to {self.quote(parent.func)}()"
        if isinstance(parent, ast.keyword):
            call = self.parents.get(parent)
            if (parent.arg or "").endswith("__in") and isinstance(call, ast.Call) and _called_name(call.func) in IN_LOOKUP_CALLS:
                return None  # `filter(pk__in=qs)`: a subquery, the cache is not read
            func = self.quote(call.func) if isinstance(call, ast.Call) else "a call"
            return f"passed to {func}()"
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.BitOr, ast.BitAnd, ast.BitXor)):
            return None  # `qs | other`: QuerySet.__or__ combines the queries, no cached row read
        if isinstance(parent, ast.Starred):
            return "unpacked"
        if isinstance(parent, (ast.Return, ast.Yield, ast.YieldFrom, ast.Await)):
            return "returned"
        if isinstance(parent, ast.Subscript):
            return "indexed"
        if isinstance(parent, ast.Compare):
            return "compared"
        if isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            return "stored in a container"
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.UnaryOp, ast.BoolOp, ast.Assert)):
            return "truth-tested"
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.AugAssign)):
            return "assigned to another name"
        return "used"


# Uses that fetch every row into the result cache.
ROW_FETCHES = frozenset({"iterated", "truth-tested", "unpacked", "passed to list()", "passed to len()"})
# Uses that neither fill nor need the result cache (each runs its own query on a clone).
LEAVES_CACHE = frozenset({"indexed"} | {f"`.{m}()`" for m in "count exists first last get earliest latest aggregate".split()})
# Calls that use a QuerySet argument as SQL (a subquery), never its rows or result cache.
SUBQUERY_WRAPPERS = frozenset({"Exists", "Subquery"})
IN_LOOKUP_CALLS = frozenset({"filter", "exclude", "get", "Q"})


def _offset_slice(expr: ast.AST) -> bool:
    """`qs[5:]`: `exists()` clears the ordering and looks at the row after the offset, so
    whatever makes `count()` differ from `len()` (a to-many ordering, DISTINCT with ordering
    columns) makes `exists()` differ from `bool()` there too."""
    if not (isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice)):
        return False
    lower = expr.slice.lower
    return lower is not None and not (isinstance(lower, ast.Constant) and lower.value == 0)


def _lookup_strings(arguments: list, keywords: list) -> Optional[set[str]]:
    """The lookups of `prefetch_related(...)` arguments when all are strings; None otherwise."""
    if keywords or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in arguments):
        return None
    return {a.value for a in arguments}


def _called_name(func: ast.AST) -> Optional[str]:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _comments(line: str) -> list[str]:
    """The comment of a line, found with the tokenizer's rules for strings (roughly: a `#`
    outside quotes)."""
    out = []
    quote = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif ch in "'\"":
            quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else ch
            i += len(quote)
            continue
        elif ch == "#":
            out.append(line[i + 1 :])
            break
        i += 1
    return out
