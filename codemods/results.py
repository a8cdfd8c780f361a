"""What a run gives back: one `FileResult` per file, and the `RunResult` of the whole run.
Plain data: nothing here imports the engine or a pass (`engine.FileResult` and
`engine.RunResult` are these, re-exported)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:
    from .engine import Analysed
    from .files import SourceFile
    from .findings import Finding
    from .index import ModuleSummary, ProjectIndex


@dataclass
class FileResult:
    path: str
    abspath: str
    original: bytes = b""
    new: Optional[bytes] = None
    findings: list[Finding] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def changed(self) -> bool:
        return self.new is not None and self.new != self.original

    @property
    def would_change(self) -> bool:
        """Changed, or (when fixes were not built, as in `check`) has a fix that applies."""
        return self.changed or any(f.fix and f.fix.applied for f in self.findings)


@dataclass
class RunResult:
    files: list[FileResult]
    index: Optional[ProjectIndex] = None
    # what was analysed, kept so a subset of fixes can be previewed or applied again
    sources: dict[str, tuple[SourceFile, ModuleSummary]] = field(default_factory=dict)
    analysed: list[str] = field(default_factory=list)  # files not answered from the cache
    # each target's analysis, which serves every option set (see `rerun`)
    analyses: dict[str, tuple[SourceFile, Analysed]] = field(default_factory=dict)
    # a run answered wholly from the cache builds `index` and `sources` only when asked
    complete: Optional[Callable[["RunResult"], None]] = None

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings]

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.files if r.error]

    @property
    def changed(self) -> list[FileResult]:
        return [r for r in self.files if r.changed]

    @property
    def would_change(self) -> list[FileResult]:
        return [r for r in self.files if r.would_change]
