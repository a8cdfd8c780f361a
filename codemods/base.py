"""What every pass declares, and the small base class passes report through.

A pass is declared once (`PassInfo`): code, name, summary, safety, its documentation and its
examples. `qsfix list`, `qsfix explain` and the test suite all read that one declaration, so
the docs and the tests cannot drift apart.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Sequence

import ast

from .findings import SAFE, UNSAFE, Edit, Finding, Fix, Rewrite
from .options import PassOption
from .rewrite import family_of

if TYPE_CHECKING:
    from .analysis import FileAnalysis
    from .index import ModuleSummary, ProjectIndex
    from .options import Options
    from .project import Project
    from .querysets import ChainTyper

__all__ = ["Example", "Pass", "PassInfo", "PassOption"]


# Every pass example is a module of a tiny project whose `shop/models.py` is this file.
EXAMPLE_MODELS = '''\
from django.db import models


class OrderQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status="active")


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    customer = models.ForeignKey(Customer, related_name="orders", on_delete=models.CASCADE)
    status = models.CharField(max_length=20)
    created = models.DateTimeField()

    objects = OrderQuerySet.as_manager()


class OrderItem(models.Model):
    order = models.ForeignKey(Order, related_name="items", on_delete=models.CASCADE)
    quantity = models.IntegerField()
'''


@dataclass(frozen=True)
class Example:
    """`before` as the user wrote it; `after` what the pass makes of it (None: untouched)."""

    name: str
    before: str
    after: Optional[str] = None
    unsafe: bool = False  # the rewrite needs --unsafe
    diagnostic: bool = False  # `after` is None, yet the pass reports the code (no fix)

    @property
    def before_code(self) -> str:
        return textwrap.dedent(self.before)

    @property
    def after_code(self) -> Optional[str]:
        return None if self.after is None else textwrap.dedent(self.after)


@dataclass(frozen=True)
class ModuleFacts:
    """What a pass reads in other modules (`ProjectIndex.module_fact((code, what, module),
    ...)`). A parallel run has these made by the worker that holds each module's tree (no
    module is parsed again for them, and the work is shared), for the files `asked_by` names:
    those are analysed first, to learn what they ask for."""

    # (index, typer, what, module) -> the fact, as `module_fact` would compute it (picklable)
    compute: Callable[["ProjectIndex", "ChainTyper", str, str], Any] = field(repr=False)
    # summary -> whether the file's analysis may ask for facts of other modules
    asked_by: Callable[["ModuleSummary"], bool] = field(repr=False)


@dataclass(frozen=True)
class PassInfo:
    code: str
    name: str
    summary: str
    safety: str  # how its fixes usually are: "safe", "unsafe" or "safe or unsafe"
    what: str
    why: str
    fix_safety: str
    references: Sequence[str]
    examples: Sequence[Example]
    visitor: type = field(repr=False, default=None)  # type: ignore[assignment]
    # -- optional declarations (each read by the engine for every pass alike) --
    options: Sequence[PassOption] = ()  # its own options: CLI flag, [tool.qsfix] key, `explain`
    runs_after: Sequence[str] = ()  # codes of passes whose edits it must see (registry order)
    # words the cheap pre-check looks for, beyond names bound to models and querysets:
    # a file (or function) naming none of them has no finding of this pass
    words: Sequence[str] = ()
    # (typer, summary, text) -> more such words, computed from the project
    more_words: Optional[Callable[["ChainTyper", "ModuleSummary", str], Any]] = field(repr=False, default=None)
    # index -> the modules whose results depend on every module of the project (the pass
    # reads callers, writes or URLconfs wherever they are), not only on what they import
    reads_whole_project: Optional[Callable[["ProjectIndex"], Iterable[str]]] = field(repr=False, default=None)
    # a project-wide step, made once per run: project -> the plan, which the analysis and
    # other passes read by what it provides (`project.provided(provides)`), never by code
    plan: Optional[Callable[["Project"], Any]] = field(repr=False, default=None)
    provides: Optional[str] = None
    # (index, typer) -> what its cached results depend on beyond the file and its imports
    # (hashable, sorted: it is digested into every cache key)
    dependency_facts: Optional[Callable[["ProjectIndex", "ChainTyper"], Any]] = field(repr=False, default=None)
    # facts it reads in other modules (`ProjectIndex.module_fact`), made where their trees are
    module_facts: Optional[ModuleFacts] = None
    # its findings can span files (`Finding.unit`): a suppression comment only counts at the definition
    # the plan reads, never at one use, or one file would change without the others
    suppressed_at_definition: bool = False

    @property
    def example(self) -> Example:
        """The example `explain` shows: the first one that rewrites something (or, for a
        pass that only reports, the first one it reports)."""
        rewrites = [e for e in self.examples if e.after is not None]
        return (rewrites or [e for e in self.examples if e.diagnostic])[0]


class Pass:
    """A pass looks at the file's `ast` (the engine calls its `visit_<NodeType>` methods in
    one shared walk) and reports findings. Fixes are node replacements the engine applies
    afterwards with libcst, every pass's in one transform."""

    info: PassInfo

    def __init__(self, analysis: "FileAnalysis", options: "Options"):
        self.analysis = analysis
        self.options = options
        self.findings: list[Finding] = []

    def report(
        self,
        node: ast.AST,
        message: str,
        *,
        skip: Optional[str] = None,
        fix_title: Optional[str] = None,
        edits: Sequence[tuple[ast.AST, Rewrite]] = (),
        unsafe_because: Optional[str] = None,
        unit: Optional[str] = None,
        requires: Optional[str] = None,
        unless: Sequence[tuple[str, str]] = (),
    ) -> Finding:
        """`unless`: `(option, skip reason)` pairs; with that option off, the finding is
        skipped for that reason instead (every option set is served by one analysis)."""
        line, column = self.analysis.line_col(node)
        conditions = tuple((option, message, reason) for option, reason in unless)
        fix = None
        if edits:
            fix = Fix(
                applicability=UNSAFE if unsafe_because else SAFE,
                title=fix_title or "",
                edits=self.make_edits(edits),
            )
            if unsafe_because:
                message = f"{message} (unsafe: {unsafe_because})"
        finding = Finding(
            path=self.analysis.path,
            line=line,
            column=column,
            code=self.info.code,
            name=self.info.name,
            message=message,
            fix=fix,
            skip_reason=skip,
            unit=unit,
            requires=requires,
            unless=conditions,
        )
        self.findings.append(finding)
        return finding

    def make_edits(self, edits: Sequence[tuple[ast.AST, Rewrite]]) -> list[Edit]:
        return [
            Edit(family_of(target), (self.analysis.start(target), self.analysis.end(target)), rewrite)
            for target, rewrite in edits
        ]

    @property
    def idle(self) -> bool:
        """True when nothing in this file can give this pass a finding (it is then not
        walked at all)."""
        return False

    def finish(self) -> None:
        """Called once the walk over the file is done."""
