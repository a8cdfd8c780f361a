"""What a run is shown as: text lines (`text`), a pass's page (`explain`), and the machine
formats (`json_report`, `sarif`, `github`). Each format's module is imported when it is asked
for: a warm run in text imports neither json nor difflib."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemods.engine import RunResult

MACHINE_FORMATS = ("json", "sarif", "github")


def machine_lines(result: RunResult, fmt: str, show_diff: bool, show_skipped: bool) -> list[str]:
    """The report in a machine format, as the lines to print on stdout (none for `github`
    without findings). `show_diff` adds each changed file's diff to json; `show_skipped` adds
    the declined sites to sarif and github."""
    if fmt == "json":
        from codemods.reports import json_report

        return [json_report.dumps(json_report.json_report(result, show_diff=show_diff))]
    if fmt == "sarif":
        from codemods.reports import json_report, sarif

        return [json_report.dumps(sarif.sarif_report(result, show_skipped))]
    if fmt == "github":
        from codemods.reports import github

        return github.github_lines(result, show_skipped)
    raise ValueError(f"unknown format: {fmt}")
