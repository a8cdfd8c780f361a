"""The text output's lines: a finding, the summary, the fixes per pass. Plain strings; the
command line prints them (with colours on a terminal)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from codemods.engine import RunResult
    from codemods.findings import Finding


def shown(text: str) -> str:
    """One line, whatever a file name holds: control characters (a newline in a name)
    become escapes, as git shows them."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def finding_line(f: Finding) -> str:
    """`path:line:col: CODE message`, always one line: the passes quote source on one line
    already; a control character left anywhere (a file name, a comment quoted in a reason)
    is escaped rather than allowed to break the line."""
    if f.skip_reason is not None:
        return shown(f"{f.path}:{f.line}:{f.column}: {f.code} skipped: {f.skip_reason} — {f.message}")
    return shown(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}")


def summary_line(result: RunResult, written: Optional[int] = None) -> str:
    findings = result.findings
    active = [f for f in findings if f.is_active]
    fixable = [f for f in active if f.fix and f.fix.applied]
    skipped = [f for f in findings if not f.is_active]
    parts = [
        f"{len(result.files)} file{'s' * (len(result.files) != 1)} scanned",
        f"{len(active)} finding{'s' * (len(active) != 1)} ({len(fixable)} fixed in the diff)",
        f"{len(skipped)} site{'s' * (len(skipped) != 1)} skipped"
        + ("" if not skipped else " (--show-skipped lists them)"),
    ]
    changed = len(result.would_change)
    parts.append(f"{changed} file{'s' * (changed != 1)} {'would change' if written is None else 'changed'}")
    if written is not None:
        parts[-1] = f"{written} file{'s' * (written != 1)} written"
    if result.failed:
        parts.append(f"{len(result.failed)} failed")
    return ", ".join(parts)


def fixes_per_pass(result: RunResult) -> Optional[str]:
    """`fixes per pass: QS001 12, QS004 3` (the fixes in the diff), or None without any."""
    counts: dict[str, int] = {}
    for f in result.findings:
        if f.is_active and f.fix and f.fix.applied:
            counts[f.code] = counts.get(f.code, 0) + 1
    if not counts:
        return None
    return "fixes per pass: " + ", ".join(f"{code} {counts[code]}" for code in sorted(counts))
