"""`--format json`: the findings, the files scanned, changed and failed (and with `diff`, each
change's patch). Named so as not to shadow the standard library's json."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import codemods
from codemods.diffs import unified_diff

if TYPE_CHECKING:
    from codemods.engine import FileResult, RunResult


def json_report(result: RunResult, show_diff: bool) -> dict:
    data = {
        "version": 1,
        "tool": {"name": "qsfix", "version": codemods.__version__},
        "findings": [f.to_json() for f in result.findings],
        "files": {
            "scanned": len(result.files),
            "changed": len(result.would_change),
            "failed": [{"path": r.path, "error": r.error} for r in result.failed],
        },
    }
    if show_diff:
        data["changes"] = [
            {"path": r.path, "diff": unified_diff(r.path, r.original, r.new).decode("utf-8", "replace")}
            for r in result.changed
        ]
    return data


def apply_report(result: RunResult, written: Sequence[FileResult]) -> str:
    """`apply --format json`: the report, plus the paths written."""
    report = json_report(result, show_diff=False)
    report["written"] = [r.path for r in written]
    return dumps(report)


def dumps(data: dict) -> str:
    import json  # imported when used, as everything a plain run does not need

    return json.dumps(data, indent=2)
