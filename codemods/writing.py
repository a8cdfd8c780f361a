"""Writing the changed files: all of a change that spans files (a unit, such as a QS004
constant with every file naming it) or none of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional

from .errors import describe_error
from .files import FileError, write_all
from .modules import module_name_for

if TYPE_CHECKING:
    from .results import FileResult


def write_changes(results: Iterable[FileResult], run_files: Iterable[FileResult] = ()) -> list[FileResult]:
    """Write every changed file of `results`; returns the written. A QS004 change (a constant,
    its module and every file naming it) is written whole or not at all: the changed files
    it joins are written together (write_all), and none of them when another file of it
    (`run_files`: every file of the run) failed or is not among `results`. A file not
    written gets its error set: the one that failed says why, the others name it."""
    changed = [r for r in results if r.changed]
    being_written = {id(r) for r in changed}
    others = [r for r in run_files if id(r) not in being_written]
    written = []
    groups = _write_groups(changed)
    # decided before anything is written: a write failing here is no reason to hold back others
    blockers = [_unit_blocker(group, others) for group in groups]
    for group, blocker in zip(groups, blockers):
        if blocker is not None:
            for result in group:
                result.error = f"{result.path}: not written: {blocker}"
            continue
        try:
            write_all([(r.abspath, r.new, r.original) for r in group])
        except FileError as exc:
            culprit = next((r for r in group if r.abspath == exc.abspath), group[0])
            code = min(set().union(*(_applied_units(r) for r in group)), default=":").partition(":")[0]
            for result in group:
                result.error = describe_error(result.path, exc) if result is culprit else (
                    f"{result.path}: not written: it is part of one {code} change with "
                    f"{culprit.path}, which could not be written"
                )
            continue
        written.extend(group)
    return written


def _applied_units(result: FileResult) -> set[str]:
    """The changes that span files (units, `Finding.unit`: QS004's) whose fixes this file's
    new text holds."""
    return {f.key for f in result.findings if f.unit and f.fix and f.fix.applied}


def _write_groups(changed: list[FileResult]) -> list[list[FileResult]]:
    """The changed files in groups that must be written together: files joined by a QS004
    unit, transitively (a file holding two units joins both); any other file alone."""
    parent = list(range(len(changed)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with_unit: dict[str, int] = {}
    for i, result in enumerate(changed):
        for unit in _applied_units(result):
            if unit in first_with_unit:
                parent[root(i)] = root(first_with_unit[unit])
            else:
                first_with_unit[unit] = i
    groups: dict[int, list[FileResult]] = {}
    for i, result in enumerate(changed):
        groups.setdefault(root(i), []).append(result)
    return list(groups.values())


def _unit_blocker(group: list[FileResult], others: list[FileResult]) -> Optional[str]:
    """Why a group cannot be written without leaving a QS004 change half-done: another file
    of one of its units is not being written, or failed (and may name the constant)."""
    units = set().union(*(_applied_units(r) for r in group))
    for unit in sorted(units):
        code, _, qualname = unit.partition(":")  # a unit is "CODE:what it changes"
        defining, _, name = qualname.rpartition(".")
        for other in others:
            if any(f.key == unit and f.fix for f in other.findings):
                why = "failed" if other.error else "is not being written"
                return f"{other.path}, part of the same {code} change ({qualname}), {why}"
            if other.error is None or not other.original:
                continue
            module = module_name_for(other.abspath)[0]
            if module in (qualname, defining) or name.encode() in other.original:
                return f"{other.path} failed and may be part of the same {code} change ({qualname})"
    return None
