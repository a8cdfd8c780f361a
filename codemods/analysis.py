"""Per-file analysis every pass shares: metadata resolved once, expression typing, and the
answer to "are this QuerySet's rows (or its result cache) used anywhere else?".

Why reuse matters: `bool(qs)` and `len(qs)` fetch every row into `qs._result_cache`; later
iteration, `len()`, `bool()`, `count()`, `exists()`, indexing and `first()` on that same object
then read the cache for free. `exists()`/`count()` never fill it. Rewriting a QuerySet whose
cache is used elsewhere therefore *adds* a query, which is why Django's docs say to keep
`bool()`/`len()` there. The only accesses that leave the cache alone are calls that build a new
QuerySet (`qs.filter(...)`, `qs.order_by(...)`): they clone without the cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst
from libcst.metadata import (
    ClassScope,
    GlobalScope,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from .index import ModuleSummary, ProjectIndex
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

# A comment that says the evaluation is on purpose ("len() is deliberate: rows used below").
DELIBERATE = re.compile(
    r"deliberate|intentional|on purpose|purposely|populate|fill.{0,20}cache|result.?cache|"
    r"evaluat|prefetch|rows (are )?used|keep (bool|len)",
    re.IGNORECASE,
)


@dataclass
class Use:
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.what} on line {self.line}"


@dataclass
class Verdict:
    """What to do with `<expr>.exists()` / `<expr>.count()` in place of `bool()` / `len()`."""

    qstype: QsType
    report: bool  # worth telling the user about (even if skipped)
    skip: Optional[str] = None
    unsafe: Optional[str] = None


class FileAnalysis:
    """Everything the passes ask about one file; built once per file, shared by all passes."""

    def __init__(
        self,
        path: str,
        module: cst.Module,
        summary: ModuleSummary,
        index: ProjectIndex,
        chains: ChainTyper,
    ):
        self.path = path
        self.module = module
        self.summary = summary
        self.index = index
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        metadata = self.wrapper.resolve_many(
            [ScopeProvider, QualifiedNameProvider, ParentNodeProvider, PositionProvider]
        )
        self.scopes = metadata[ScopeProvider]
        self.parents = metadata[ParentNodeProvider]
        self.positions = metadata[PositionProvider]
        self.typer = ExprTyper(
            self.scopes, metadata[QualifiedNameProvider], self.parents, summary, chains
        )
        self._lines: Optional[list[str]] = None

    # -- small helpers -----------------------------------------------------------------
    def type_of(self, expr: cst.BaseExpression) -> QsType:
        return self.typer.type_of(expr)

    def qualified(self, node: cst.CSTNode) -> Optional[str]:
        return self.typer.qualified(node)

    def is_builtin(self, node: cst.CSTNode, name: str) -> bool:
        return isinstance(node, cst.Name) and node.value == name and self.qualified(node) == f"builtins.{name}"

    def line_col(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.positions[node].start
        return start.line, start.column + 1

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def line_text(self, line: int) -> str:
        if self._lines is None:
            self._lines = self.module.code.splitlines()
        return self._lines[line - 1] if 0 < line <= len(self._lines) else ""

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        current = node
        while current is not None and not isinstance(
            current, (cst.SimpleStatementLine, cst.BaseCompoundStatement)
        ):
            current = self.parents.get(current)
        return current or node

    def deliberate_comment(self, node: cst.CSTNode) -> Optional[str]:
        """A comment on the site's lines (or just above its statement) that says the
        evaluation is deliberate: the author knows better than a rule."""
        statement = self.statement_of(node)
        first = self.positions[statement].start.line
        last = self.positions[node].end.line
        lines = [self.line_text(n) for n in range(first, last + 1)]
        above = first - 1
        while above > 0 and self.line_text(above).lstrip().startswith("#"):
            lines.append(self.line_text(above))
            above -= 1
        for text in lines:
            _, hash_, comment = text.partition("#")
            if hash_ and DELIBERATE.search(comment):
                return f"a comment says the evaluation is deliberate: #{comment.strip()[:60]}"
        return None

    # -- names -------------------------------------------------------------------------
    def local_bindings(self, name: cst.Name):
        """The function-local assignments `name` can refer to, or None if it is not local."""
        scope = self.scopes.get(name)
        if scope is None or name.value not in scope:
            return None
        assignments = list(scope[name.value])
        if not assignments or any(isinstance(a.scope, (GlobalScope, ClassScope)) for a in assignments):
            return None
        return assignments

    def isinstance_guard(self, name: cst.Name, site: cst.CSTNode) -> Optional[str]:
        """Site inside an `if isinstance(name, ...)` test or branch: the author is telling
        apart a QuerySet from something else, so a rewrite is not for the tool to make."""
        current = self.parents.get(site)
        while current is not None and not isinstance(current, cst.FunctionDef):
            if isinstance(current, (cst.If, cst.IfExp, cst.While)):
                for call in _calls_in(current.test):
                    if (
                        self.is_builtin(call.func, "isinstance")
                        and call.args
                        and isinstance(call.args[0].value, cst.Name)
                        and call.args[0].value.value == name.value
                    ):
                        return f"inside a branch that tests isinstance({name.value}, ...)"
            current = self.parents.get(current)
        return None

    # -- the shared judgement ------------------------------------------------------------
    def judge_receiver(self, expr: cst.BaseExpression, site: cst.CSTNode, method: str) -> Verdict:
        """Can `expr` (evaluated at `site` by bool()/len()) become `expr.<method>()`?

        Safe: a QuerySet beyond doubt whose rows and cache nobody else reads. Unsafe: only
        likely a QuerySet, or its rows are used elsewhere (the rewrite would add a query).
        Skipped: anything else that looked like a QuerySet, with the reason.
        """
        t = self.type_of(expr)
        if t.kind == MANAGER:
            return Verdict(t, True, skip=f"a Manager, not a QuerySet: it has no `len()`, is always true, and `bool()` runs no query")
        if t.kind == RAW:
            return Verdict(t, True, skip=f"a RawQuerySet has no `.{method}()`")
        if t.kind != QUERYSET:
            return Verdict(t, t.near, skip=t.why or "not known to be a QuerySet")
        comment = self.deliberate_comment(site)
        if comment:
            return Verdict(t, True, skip=comment)
        unsafe = (t.why or "only likely a QuerySet") if t.confidence == LIKELY else None
        caveat = count_caveat(t) if method == "count" else None
        if caveat:
            unsafe = caveat
        if isinstance(expr, cst.Name):
            if self.local_bindings(expr) is None:
                return Verdict(t, True, skip="a module-level QuerySet is shared by every caller; QS004 makes it a factory first")
            guard = self.isinstance_guard(expr, site)
            if guard:
                return Verdict(t, True, skip=guard)
            loop = self.repeated_in_loop(expr)
            if loop:
                unsafe = f"{loop}: `bool()`/`len()` fetch the rows once and later rounds read the cache; `.{method}()` would query every round"
            uses = self.other_uses(expr)
            if uses:
                more = f" (and {len(uses) - 1} more)" if len(uses) > 1 else ""
                unsafe = (
                    f"its rows are used elsewhere ({uses[0]}{more}): `.{method}()` would add a query"
                )
        return Verdict(t, True, unsafe=unsafe)

    def repeated_in_loop(self, name: cst.Name) -> Optional[str]:
        """The site runs more than once on one binding of `name`: it sits in a loop that does
        not also rebind `name` each round."""
        bindings = [a.node for a in (self.local_bindings(name) or [])]
        child: cst.CSTNode = name
        current = self.parents.get(name)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.Module)):
            loop = None
            if isinstance(current, cst.For) and child is current.body:
                loop = "tested inside a `for` loop"
            elif isinstance(current, cst.While) and child in (current.test, current.body):
                loop = "inside a `while` loop"
            elif isinstance(current, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
                outer_iter = current.for_in.iter
                if child is not current.for_in or not self._contains(outer_iter, name):
                    loop = "inside a comprehension"
            if loop and not all(self._contains(current, b) for b in bindings):
                return loop
            child, current = current, self.parents.get(current)
        return None

    def _contains(self, ancestor: cst.CSTNode, node: cst.CSTNode) -> bool:
        current = node
        while current is not None:
            if current is ancestor:
                return True
            current = self.parents.get(current)
        return False

    # -- reuse ---------------------------------------------------------------------------
    def other_uses(self, name: cst.Name) -> list[Use]:
        """Accesses of the local `name` (any binding of it in its function) other than `name`
        itself that evaluate the QuerySet or read its result cache. Order and branches do not
        matter: an evaluation before the site fills the cache the site would read; one after
        it reads the cache the site fills; a loop makes every access both."""
        assignments = self.local_bindings(name) or []
        uses: list[Use] = []
        seen: set[int] = set()
        for assignment in assignments:
            for access in assignment.references:
                node = access.node
                if node is name or id(node) in seen:
                    continue
                seen.add(id(node))
                what = self.describe_use(node)
                if what is not None:
                    uses.append(Use(self.positions[node].start.line, what))
        uses.sort(key=lambda u: u.line)
        return uses

    def describe_use(self, node: cst.CSTNode) -> Optional[str]:
        """How an access uses a QuerySet; None when it only builds a new QuerySet from it."""
        parent = self.parents.get(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            grand = self.parents.get(parent)
            attr = parent.attr.value
            if isinstance(grand, cst.Call) and grand.func is parent:
                if attr in QUERYSET_BUILDERS:
                    return None  # a clone: neither fills nor reads the cache
                return f"`.{attr}()`"
            return f"`.{attr}`"
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            return "iterated"
        if isinstance(parent, cst.Arg):
            call = self.parents.get(parent)
            func = self.code(call.func) if isinstance(call, cst.Call) else "a call"
            return f"passed to {func}()"
        if isinstance(parent, cst.Return):
            return "returned"
        if isinstance(parent, cst.Subscript):
            return "indexed"
        if isinstance(parent, cst.ComparisonTarget) or isinstance(parent, cst.Comparison):
            return "compared"
        if isinstance(parent, (cst.Element, cst.DictElement, cst.StarredElement)):
            return "stored in a container"
        if isinstance(parent, (cst.If, cst.While, cst.IfExp, cst.UnaryOperation, cst.BooleanOperation)):
            return "truth-tested"
        if isinstance(parent, cst.Assign) or isinstance(parent, cst.AnnAssign):
            return "assigned to another name"
        return "used"


def _calls_in(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            yield current
        stack.extend(current.children)


def as_receiver(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr` ready to take `.method()`: parenthesised unless it is an atom on one line."""
    if expr.lpar:
        return expr
    atom = isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.Subscript))
    if atom and "\n" not in cst.Module(body=[]).code_for_node(expr):
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def method_call(expr: cst.BaseExpression, method: str) -> cst.Call:
    return cst.Call(func=cst.Attribute(value=as_receiver(expr), attr=cst.Name(method)))


def has_comment(node: cst.CSTNode) -> bool:
    """Any comment inside `node` (it would be lost if the node's punctuation is dropped)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Comment):
            return True
        stack.extend(current.children)
    return False
