"""What a pass reports: a finding, and the fix it carries (if any).

A finding is a site a pass looked at. It either carries a fix (safe or unsafe) or a
`skip_reason` saying why the tool leaves it alone. Positions always refer to the file
as it was read, whichever passes ran before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

# the skip reason of a finding silenced by `# qsfix: ignore` / `# noqa: QS00N`
SUPPRESSED = "suppressed by a comment on its line"

SAFE = "safe"
UNSAFE = "unsafe"

# (original libcst node, the node as already updated by inner edits) -> replacement.
Rewrite = Callable[[Any, Any], Any]
Span = tuple[tuple[int, int], tuple[int, int]]  # (line, column) start and end, in characters


@dataclass
class Edit:
    """Replace the node of `family` at `span` of the file as read. `rewrite` sees the libcst
    node after inner edits ran, so nested fixes from different passes compose."""

    family: tuple
    span: Span
    rewrite: Rewrite


@dataclass
class Fix:
    applicability: str  # SAFE or UNSAFE
    title: str
    edits: list[Edit] = field(default_factory=list)
    applied: bool = False


@dataclass
class Finding:
    path: str
    line: int
    column: int  # 1-based, like most linters print it
    code: str
    name: str
    message: str
    fix: Optional[Fix] = None
    skip_reason: Optional[str] = None
    # Findings that must be accepted or rejected together share a unit (QS004: one constant
    # across files). Defaults to the finding's own position.
    unit: Optional[str] = None
    # A QS004 unit this fix builds on (`if ACTIVE:` -> `if active().exists():`): applied only
    # together with it.
    requires: Optional[str] = None
    # One analysis serves every option set: `(option, message, skip_reason)` for each option
    # this finding depends on, in the order the pass checked them. The first one that is off
    # turns it into a skipped finding with that message and reason (see engine.choose).
    unless: tuple[tuple[str, str, str], ...] = ()

    @property
    def key(self) -> str:
        return self.unit or f"{self.code}:{self.path}:{self.line}:{self.column}"

    @property
    def is_active(self) -> bool:
        """A finding the user should act on: not skipped."""
        return self.skip_reason is None

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "fix": None
            if self.fix is None
            else {
                "applicability": self.fix.applicability,
                "applied": self.fix.applied,
                "title": self.fix.title,
            },
            "skip_reason": self.skip_reason,
            "unit": self.key,
        }
