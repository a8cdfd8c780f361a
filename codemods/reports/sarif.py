"""`--format sarif`: SARIF 2.1.0, for code-scanning viewers. Every finding is a result; a
changed file's rewrite is attached as a fix (whole changed lines)."""

from __future__ import annotations

import os
import pathlib
import urllib.parse
from typing import TYPE_CHECKING, Sequence

import codemods
from codemods import registry
from codemods.files import decode, split_lines
from codemods.findings import SUPPRESSED, Finding
from codemods.reports.explain import explain_markdown

if TYPE_CHECKING:
    from codemods.engine import RunResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


def _artifact_location(path: str) -> dict:
    if os.path.isabs(path):
        return {"uri": pathlib.Path(path).as_uri()}
    return {"uri": urllib.parse.quote(path.replace(os.sep, "/")), "uriBaseId": SRCROOT}


def _rules() -> list:
    return sorted(registry.PASSES, key=lambda i: i.code)


def sarif_rule(info) -> dict:
    help_text = explain_markdown(info)
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.what},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"fixSafety": info.safety, "tags": ["django", "performance"]},
    }


def _start_of_line(lines: Sequence[str], index: int) -> dict:
    """SARIF position of the start of line `index` (0-based); past the last line: the end of
    the file."""
    if index < len(lines):
        return {"line": index + 1, "column": 1}
    if not lines:
        return {"line": 1, "column": 1}
    last = lines[-1]
    if last.endswith(("\n", "\r")):
        return {"line": len(lines) + 1, "column": 1}
    return {"line": len(lines), "column": len(last) + 1}


def sarif_replacements(original: bytes, new: bytes) -> list[dict]:
    """One replacement per changed run of lines (whole lines: deletedRegion from the start of
    its first line to the start of the line after it), positions in the file as read."""
    old_lines, new_lines = split_lines(decode(original)), split_lines(decode(new))
    import difflib  # imported when used, as everything a plain run does not need

    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    replacements = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = _start_of_line(old_lines, i1), _start_of_line(old_lines, i2)
        replacement: dict = {
            "deletedRegion": {
                "startLine": start["line"], "startColumn": start["column"],
                "endLine": end["line"], "endColumn": end["column"],
            },
        }
        if j2 > j1:
            replacement["insertedContent"] = {"text": "".join(new_lines[j1:j2])}
        replacements.append(replacement)
    return replacements


def sarif_result(f: Finding, rule_index: dict[str, int]) -> dict:
    result: dict = {
        "ruleId": f.code,
        "ruleIndex": rule_index[f.code],
        "level": "warning",
        "message": {"text": f.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": _artifact_location(f.path),
                "region": {"startLine": f.line, "startColumn": f.column},
            },
        }],
        "properties": {
            "name": f.name,
            "unit": f.key,
            "fix": None if f.fix is None else {
                "applicability": f.fix.applicability, "applied": f.fix.applied, "title": f.fix.title,
            },
            "skipReason": f.skip_reason,
        },
    }
    if f.skip_reason == SUPPRESSED:
        # silenced by the user: a suppressed problem, which viewers hide
        result["suppressions"] = [{"kind": "inSource", "justification": f.skip_reason}]
    elif f.skip_reason is not None:
        # declined by the tool (unsafe, not provable, not stale): an observation, not a problem
        result["kind"] = "informational"
        result["level"] = "none"
        result["message"] = {"text": f"skipped: {f.skip_reason} — {f.message}"}
    return result


def sarif_report(result: RunResult, show_skipped: bool) -> dict:
    """SARIF 2.1.0: every finding a result; declined sites only with --show-skipped. A changed
    file's replacements (whole changed lines, original vs rewritten text) are attached as one
    fix to its first applied finding: applying that fix gives exactly what `apply` writes."""
    rules = _rules()
    rule_index = {info.code: i for i, info in enumerate(rules)}
    results = []
    for file_result in result.files:
        fix_holder = None
        for f in file_result.findings:
            if not (f.is_active or show_skipped):
                continue
            entry = sarif_result(f, rule_index)
            results.append(entry)
            if fix_holder is None and f.fix is not None and f.fix.applied:
                fix_holder = entry
        if fix_holder is not None and file_result.changed:
            applied = [f for f in file_result.findings if f.fix and f.fix.applied]
            description = (
                applied[0].fix.title if len(applied) == 1 and applied[0].fix.title
                else f"apply qsfix's {len(applied)} fixes in {file_result.path}"
            )
            fix_holder["fixes"] = [{
                "description": {"text": description},
                "artifactChanges": [{
                    "artifactLocation": _artifact_location(file_result.path),
                    "replacements": sarif_replacements(file_result.original, file_result.new),
                }],
            }]
    notifications = [
        {
            "level": "error",
            "message": {"text": r.error},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact_location(r.path)}}],
        }
        for r in result.failed
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "qsfix",
                    "version": codemods.__version__,
                    "rules": [sarif_rule(info) for info in rules],
                },
            },
            "originalUriBaseIds": {SRCROOT: {"uri": pathlib.Path(os.getcwd()).as_uri().rstrip("/") + "/"}},
            "invocations": [{
                "executionSuccessful": not result.failed,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
