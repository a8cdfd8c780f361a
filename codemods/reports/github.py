"""`--format github`: GitHub Actions workflow commands, one annotation per line."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemods.engine import RunResult


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(result: RunResult, show_skipped: bool) -> list[str]:
    """`::warning file=...,line=...,col=...,title=QS001::message` per finding; declined sites
    (with --show-skipped) as notices; unreadable files as errors."""
    lines = []
    for f in result.findings:
        if f.is_active:
            command, title, message = "warning", f.code, f.message
        elif show_skipped:
            command, title, message = "notice", f"{f.code} skipped", f"{f.skip_reason} — {f.message}"
        else:
            continue
        path = f.path.replace(os.sep, "/")
        lines.append(
            f"::{command} file={_github_property(path)},line={f.line},col={f.column},"
            f"title={_github_property(title)}::{_github_data(message)}"
        )
    for r in result.failed:
        path = r.path.replace(os.sep, "/")
        lines.append(f"::error file={_github_property(path)},title=qsfix::{_github_data(r.error)}")
    return lines
