"""qsfix command line: parses arguments and renders. Every decision is made in `codemods`."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Optional, Sequence

import click
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.syntax import Syntax
from rich.table import Table

import codemods
from codemods import engine, registry
from codemods.config import ConfigError, load_config
from codemods.diffs import unified_diff
from codemods.findings import SAFE, Finding

EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
# Progress bars only for runs with at least this many files.
PROGRESS_MIN_FILES = 50

err = Console(stderr=True, highlight=False)


def out_console() -> Console:
    return Console(highlight=False)


def _stdin_is_interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _codes(value: Optional[str]) -> Optional[list[str]]:
    if value is None:
        return None
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    unknown = [c for c in codes if registry.get_pass(c) is None]
    if unknown:
        raise click.BadParameter(f"unknown code(s): {', '.join(unknown)}")
    return codes


def common_options(func):
    options = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--select", help="Only these passes (comma-separated codes)."),
        click.option("--ignore", help="Leave these passes out (comma-separated codes)."),
        click.option("--unsafe/--no-unsafe", default=None, help="Also apply unsafe fixes (overrides the config file)."),
        click.option("--show-skipped", is_flag=True, help="Also list sites left alone, with the reason."),
        click.option("--all-views", is_flag=True, default=None, help="QS003: move every view's class-level queryset, not only stale ones."),
        click.option("--keep-names", is_flag=True, default=None, help="QS004: keep old names importable via a module __getattr__ (for libraries)."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB (repeatable)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: CPU count)."),
        click.option("--no-cache", is_flag=True, help="Do not read or write the cache."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def format_option(func):
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
        help="Output format.",
    )(func)


@dataclasses.dataclass
class Run:
    options: engine.Options
    excludes: list[str]
    paths: list[str]
    show_skipped: bool


def prepare(paths, select, ignore, unsafe, exclude, jobs, show_skipped, all_views=None, keep_names=None, no_cache=False) -> Run:
    try:
        config = load_config(".")
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    select_codes = _codes(select) if select is not None else config.select
    ignore_codes = _codes(ignore) if ignore is not None else config.ignore
    if config.select is not None and select is None:
        _check_known(config.select)
    _check_known(config.ignore)
    options = engine.Options(
        select=frozenset(select_codes) if select_codes is not None else None,
        ignore=frozenset(ignore_codes or ()),
        unsafe=config.unsafe if unsafe is None else unsafe,
        all_views=config.all_views if all_views is None else all_views,
        keep_names=config.keep_names if keep_names is None else keep_names,
        use_cache=not no_cache,
        jobs=jobs or os.cpu_count() or 1,
    )
    return Run(options, [*config.exclude, *exclude], list(paths) or ["."], show_skipped)


def _check_known(codes: Sequence[str]) -> None:
    unknown = [c for c in codes if registry.get_pass(c) is None]
    if unknown:
        raise click.UsageError(f"pyproject.toml [tool.qsfix]: unknown code(s): {', '.join(unknown)}")


def execute(run: Run) -> engine.RunResult:
    missing = [p for p in run.paths if not os.path.exists(p)]
    if missing:
        raise click.UsageError(f"no such file or folder: {missing[0]}")
    progress: Optional[Progress] = None
    tasks: dict[str, int] = {}

    def report(phase: str, done: int, total: int) -> None:
        nonlocal progress
        if total < PROGRESS_MIN_FILES or not err.is_terminal:
            return
        if progress is None:
            progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                console=err, transient=True,
            )
            progress.start()
        if phase not in tasks:
            tasks[phase] = progress.add_task("indexing" if phase == "index" else "analysing", total=total)
        progress.update(tasks[phase], completed=done)

    try:
        return engine.run(run.paths, run.options, run.excludes, report)
    finally:
        if progress is not None:
            progress.stop()


# -- rendering -----------------------------------------------------------------------------
def finding_line(f: Finding) -> str:
    if f.skip_reason is not None:
        return f"{f.path}:{f.line}:{f.column}: {f.code} skipped: {f.skip_reason} — {f.message}"
    return f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}"


def print_errors(result: engine.RunResult) -> None:
    for failed in result.failed:
        err.print(f"[red]error[/red]: {failed.error}", markup=True, soft_wrap=True)


def summary_line(result: engine.RunResult, written: Optional[int] = None) -> str:
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


def json_report(result: engine.RunResult, show_diff: bool) -> dict:
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


def show_diffs(results: Sequence[engine.FileResult]) -> None:
    if _stdout_is_terminal():
        console = out_console()
        for r in results:
            text = unified_diff(r.path, r.original, r.new).decode("utf-8", "replace")
            console.print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))
    else:
        stream = sys.stdout.buffer
        for r in results:
            stream.write(unified_diff(r.path, r.original, r.new))
        stream.flush()


def print_skipped(result: engine.RunResult, console: Console) -> None:
    for f in result.findings:
        if not f.is_active:
            console.print(finding_line(f), markup=False, soft_wrap=True)


def exit_status(result: engine.RunResult, found: bool) -> int:
    if result.failed:
        return EXIT_FAILED
    return EXIT_FOUND if found else EXIT_OK


# -- commands ----------------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(codemods.__version__, prog_name="qsfix")
def main() -> None:
    """Stop Django code from serving stale or needlessly expensive QuerySet results."""


@main.command("list")
def list_passes() -> None:
    """Table of passes: code, name, fix safety, description."""
    table = Table(box=None, pad_edge=False)
    for column in ("code", "name", "safety"):
        table.add_column(column, no_wrap=True)
    table.add_column("description", ratio=1)
    for info in sorted(registry.PASSES, key=lambda i: i.code):
        table.add_row(info.code, info.name, info.safety, info.summary)
    out_console().print(table)


def explain_markdown(info) -> str:
    example = info.example
    refs = "\n".join(f"- {r}" for r in info.references)
    return (
        f"# {info.code} {info.name}\n\n{info.summary}\n\n"
        f"## What it does\n{info.what}\n\n## Why is this bad?\n{info.why}\n\n"
        f"## Example\n```python\n{example.before_code}```\n\n"
        f"## Use instead\n```python\n{example.after_code}```\n\n"
        f"## Fix safety\n{info.fix_safety}\n\n## References\n{refs}\n"
    )


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """What a pass does, why, an example, and how safe its fix is."""
    info = registry.get_pass(code)
    if info is None:
        err.print(f"unknown code: {code} (see `qsfix list`)", markup=False)
        sys.exit(EXIT_USAGE)
    console = out_console()
    if console.is_terminal:
        console.print(Markdown(explain_markdown(info)))
    else:
        click.echo(explain_markdown(info), nl=False)


@main.command()
@common_options
@format_option
def check(paths, select, ignore, unsafe, show_skipped, all_views, keep_names, exclude, jobs, no_cache, fmt) -> None:
    """Report findings: one line each, `path:line:col: CODE message`."""
    run = prepare(paths, select, ignore, unsafe, exclude, jobs, show_skipped, all_views, keep_names, no_cache)
    run.options = dataclasses.replace(run.options, build_fixes=False)
    result = execute(run)
    active = [f for f in result.findings if f.is_active]
    if fmt == "json":
        click.echo(json.dumps(json_report(result, show_diff=False), indent=2))
    else:
        console = out_console()
        for f in result.findings:
            if f.is_active or run.show_skipped:
                console.print(finding_line(f), markup=False, soft_wrap=True)
    print_errors(result)
    err.print(summary_line(result), markup=False, soft_wrap=True)
    sys.exit(exit_status(result, bool(active)))


@main.command()
@common_options
@format_option
def diff(paths, select, ignore, unsafe, show_skipped, all_views, keep_names, exclude, jobs, no_cache, fmt) -> None:
    """Print a unified diff of every change; write nothing."""
    run = prepare(paths, select, ignore, unsafe, exclude, jobs, show_skipped, all_views, keep_names, no_cache)
    result = execute(run)
    if fmt == "json":
        click.echo(json.dumps(json_report(result, show_diff=True), indent=2))
    else:
        show_diffs(result.changed)
        if run.show_skipped:
            print_skipped(result, err)
    print_errors(result)
    err.print(summary_line(result), markup=False, soft_wrap=True)
    sys.exit(exit_status(result, bool(result.changed)))


@main.command()
@common_options
@click.option("--yes", "-y", is_flag=True, help="Write without asking (for scripts and CI).")
@click.option("--interactive", "-i", is_flag=True, help="Accept or reject each change.")
def apply(paths, select, ignore, unsafe, show_skipped, all_views, keep_names, exclude, jobs, no_cache, yes, interactive) -> None:
    """Show the diff, ask once, and write the changes."""
    if yes and interactive:
        raise click.UsageError("--yes and --interactive exclude each other")
    run = prepare(paths, select, ignore, unsafe, exclude, jobs, show_skipped, all_views, keep_names, no_cache)
    if not yes and not _stdin_is_interactive():
        err.print(
            "qsfix apply: standard input is not a terminal, so nothing can be confirmed; "
            "nothing was written. Use --yes to write without asking.",
            markup=False,
        )
        sys.exit(EXIT_USAGE)
    result = execute(run)
    if run.show_skipped:
        print_skipped(result, err)
    to_write = result.changed
    if to_write and interactive:
        to_write = review(result, run)
    elif to_write:
        show_diffs(to_write)
        if not yes and not click.confirm(f"Write {len(to_write)} file(s)?", default=False, err=True):
            print_errors(result)
            err.print("nothing written", markup=False)
            sys.exit(exit_status(result, False))
    written = engine.write_changes(to_write)
    print_errors(result)
    err.print(summary_line(result, written=len(written)), markup=False, soft_wrap=True)
    sys.exit(exit_status(result, False))


def review(result: engine.RunResult, run: Run) -> list[engine.FileResult]:
    """Ask about each change (a QS004 constant across files is one change)."""
    units: dict[str, list[Finding]] = {}
    for f in result.findings:
        if f.fix and f.fix.applied:
            units.setdefault(f.key, []).append(f)
    accepted: set[str] = set()
    console = out_console()
    for number, (key, findings) in enumerate(units.items(), 1):
        paths = sorted({f.path for f in findings})
        preview = engine.rerun(
            result, dataclasses.replace(run.options, accept=frozenset({key})), paths
        )
        console.rule(f"change {number} of {len(units)}")
        for f in findings:
            console.print(finding_line(f), markup=False, soft_wrap=True)
        show_diffs([r for r in preview if r.changed])
        answer = click.prompt(
            "Apply this change? [y]es / [n]o / [a]ll remaining / [q]uit",
            type=click.Choice(["y", "n", "a", "q"]), default="n", show_choices=False, err=True,
        )
        if answer == "y":
            accepted.add(key)
        elif answer == "a":
            accepted.update(list(units)[number - 1 :])
            break
        elif answer == "q":
            break
    if not accepted:
        return []
    changed_paths = sorted({f.path for k in accepted for f in units[k]})
    final = engine.rerun(result, dataclasses.replace(run.options, accept=frozenset(accepted)), changed_paths)
    by_path = {r.path: r for r in final}
    for i, r in enumerate(result.files):
        if r.path in by_path:
            result.files[i] = by_path[r.path]
    return [r for r in final if r.changed]


if __name__ == "__main__":
    main()
