"""What `apply --interactive` decides: the changes to ask about (a fix, or a QS004 constant
across files: one unit each), which changes an answer accepts, and the run again with only
the accepted ones. The questions and the printing are the command line's."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Iterable, Sequence

from codemods import engine

if TYPE_CHECKING:
    from codemods.findings import Finding

# y this one, n not this one, f this and the rest of its file, p this and the rest of its
# pass, a this and every one after it, q none after it
ANSWERS = ("y", "n", "f", "p", "a", "q")


@dataclasses.dataclass
class Change:
    """One answer's worth: a fix, or a QS004 constant across files."""

    key: str
    findings: list[Finding]

    @property
    def path(self) -> str:  # "this file" for the answer f
        return self.findings[0].path

    @property
    def code(self) -> str:  # "this pass" for the answer p
        return self.findings[0].code


def changes_to_review(result: engine.RunResult) -> list[Change]:
    """The applied fixes grouped by unit, in the order of their first finding."""
    changes: dict[str, Change] = {}
    for f in result.findings:
        if f.fix and f.fix.applied:
            changes.setdefault(f.key, Change(f.key, [])).findings.append(f)
    return list(changes.values())


def accepted_by(answer: str, rest: Sequence[Change]) -> set[str]:
    """The keys an answer about `rest[0]` accepts; `rest` is that change and those after it."""
    change = rest[0]
    if answer == "y":
        return {change.key}
    if answer == "f":
        return {c.key for c in rest if c.path == change.path}
    if answer == "p":
        return {c.key for c in rest if c.code == change.code}
    if answer == "a":
        return {c.key for c in rest}
    return set()


def ends_review(answer: str) -> bool:
    """After a or q nothing more is asked."""
    return answer in ("a", "q")


def _paths(changes: Iterable[Change]) -> list[str]:
    return sorted({f.path for change in changes for f in change.findings})


def preview(result: engine.RunResult, options: engine.Options, change: Change) -> list[engine.FileResult]:
    """The files as `change` alone would leave them (those it changes)."""
    accept_one = dataclasses.replace(options, accept=frozenset({change.key}))
    return [r for r in engine.rerun(result, accept_one, _paths([change])) if r.changed]


def keep_accepted(
    result: engine.RunResult, options: engine.Options, changes: Sequence[Change], accepted: set[str],
) -> list[engine.FileResult]:
    """Analyse every file with a change again with the accepted ones only, and put those
    results in `result`, so what is written and the summary's counts are what was accepted.
    Returns the files that still change."""
    accept = dataclasses.replace(options, accept=frozenset(accepted))
    final = engine.rerun(result, accept, _paths(changes))
    by_path = {r.path: r for r in final}
    for i, r in enumerate(result.files):
        if r.path in by_path:
            result.files[i] = by_path[r.path]
    return [r for r in final if r.changed]
