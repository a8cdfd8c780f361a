"""qsfix command line: parses arguments and renders. Every decision is made in `codemods`."""

from __future__ import annotations

import dataclasses
import signal
import os
import pathlib  # click imports it anyway
import sys
import urllib.parse
from typing import TYPE_CHECKING, Optional, Sequence

import click

import codemods
from codemods import engine, registry
from codemods.config import ConfigError, load_config
from codemods.diffs import unified_diff
from codemods.files import decode, discover, split_lines
from codemods.findings import SUPPRESSED, Finding

if TYPE_CHECKING:
    import subprocess

EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
# Progress bars only for runs with at least this many files.
PROGRESS_MIN_FILES = 50

class Output:
    """Standard output or error. On a terminal (or with FORCE_COLOR) this is rich's Console:
    colours, the terminal's width. On a pipe or a file, lines are written as they are,
    without importing rich (a third of qsfix's start-up, which a warm run mostly is); rich
    would print the same text there, except that it also turns `:name:` in a file name into
    an emoji. Anything but plain lines (tables, rules, highlighted diffs) goes to rich."""

    def __init__(self, stderr: bool = False):
        self.stderr = stderr
        self._consoles: dict = {}

    @property
    def stream(self):
        return sys.stderr if self.stderr else sys.stdout

    @property
    def plain(self) -> bool:
        stream = self.stream
        isatty = getattr(stream, "isatty", None)
        return not (isatty and isatty()) and not os.environ.get("FORCE_COLOR") and os.environ.get("TTY_COMPATIBLE") != "1"

    @property
    def rich(self):
        stream = self.stream  # resolved at each use: tests and pagers swap the streams
        console = self._consoles.get(id(stream))
        if console is None:
            from rich.console import Console

            # no emoji: `:name:` in a file name or message stays as it is
            console = Console(file=stream, highlight=False, emoji=False)
            self._consoles = {id(stream): console}
        return console

    @property
    def is_terminal(self) -> bool:
        return not self.plain and self.rich.is_terminal

    def line(self, text: str) -> None:
        """One line, printed as it is (no markup; a long line is not broken)."""
        if self.plain:
            self.stream.write(text + "\n")
            self.stream.flush()
        else:
            self.rich.print(text, markup=False, soft_wrap=True)

    def error_line(self, message: str) -> None:
        """`error: message`, the word in red on a terminal."""
        if self.plain:
            self.line(f"error: {message}")
            return
        from rich.text import Text

        line = Text("error", style="red")
        line.append(f": {message}")  # a file name is text, never markup
        self.rich.print(line, soft_wrap=True)

    def __getattr__(self, name: str):
        return getattr(self.rich, name)  # print(renderable), rule(), ...


err = Output(stderr=True)


def out_console() -> Output:
    return Output()


def _stdin_is_interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _codes(value: Optional[str]) -> Optional[list[str]]:
    if value is None:
        return None
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    unknown = [c for c in codes if not registry.known(c)]
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
        click.option(
            "--changed-since", metavar="REF",
            help="Only files changed since the git revision REF (where this branch left it): "
            "committed, staged, unstaged or untracked.",
        ),
        click.option(
            "--stdin-filename", metavar="PATH",
            help="With the path `-`: read the source from stdin as the file PATH (its project gives the models).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def format_option(func):
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
        show_default=True,
        help="Output format: text, json, sarif (SARIF 2.1.0) or github (workflow command annotations).",
    )(func)


@dataclasses.dataclass
class Run:
    options: engine.Options
    excludes: list[str]
    paths: list[str]
    show_skipped: bool
    changed_since: Optional[str] = None
    # `-`: the file the source on stdin stands for, and (once read) that source
    stdin_filename: Optional[str] = None
    stdin_data: Optional[bytes] = None


def prepare(
    paths, select, ignore, unsafe, exclude, jobs, show_skipped, all_views=None, keep_names=None,
    no_cache=False, changed_since=None, stdin_filename=None,
) -> Run:
    paths = list(paths)
    if "-" in paths:
        if len(paths) > 1:
            raise click.UsageError("`-` (the source on stdin) cannot be combined with other paths")
        if not stdin_filename:
            raise click.UsageError(
                "`-` needs --stdin-filename PATH: the file the source on stdin stands for"
            )
        if changed_since is not None:
            raise click.UsageError("--changed-since cannot be combined with `-`")
    elif stdin_filename is not None:
        raise click.UsageError("--stdin-filename is only used with the path `-` (source on stdin)")
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
    return Run(
        options, [*config.exclude, *exclude], paths or ["."], show_skipped,
        changed_since=changed_since, stdin_filename=stdin_filename if paths == ["-"] else None,
    )


def _check_known(codes: Sequence[str]) -> None:
    unknown = [c for c in codes if not registry.known(c)]
    if unknown:
        raise click.UsageError(f"pyproject.toml [tool.qsfix]: unknown code(s): {', '.join(unknown)}")


def execute(run: Run) -> engine.RunResult:
    if run.stdin_filename is not None:
        run.stdin_data = sys.stdin.buffer.read()
        return engine.run([], run.options, run.excludes, stdin=(run.stdin_filename, run.stdin_data))
    missing = [p for p in run.paths if not os.path.lexists(p)]  # a broken link is the file's error
    if missing:
        raise click.UsageError(f"no such file or folder: {missing[0]}")
    if run.changed_since is not None:
        changed = changed_files(run.changed_since)
        # the files a plain run would look at (defaults, .gitignore, --exclude), if changed;
        # the engine still indexes their whole project
        run.paths = [p for p in discover(run.paths, run.excludes) if os.path.realpath(p) in changed]
        if not run.paths:
            return engine.RunResult(files=[])
    progress = None
    tasks: dict[str, int] = {}

    def report(phase: str, done: int, total: int) -> None:
        nonlocal progress
        if total < PROGRESS_MIN_FILES or not err.is_terminal:
            return
        if progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

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


def _git(*args: str, cwd: Optional[str] = None) -> subprocess.CompletedProcess:
    import subprocess  # imported when used, as everything a plain run does not need

    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise click.UsageError(f"--changed-since needs git: {exc.strerror or exc}") from None


def _git_error(proc: subprocess.CompletedProcess) -> str:
    lines = os.fsdecode(proc.stderr).strip().splitlines()
    return lines[0] if lines else f"git exited with status {proc.returncode}"


def changed_files(ref: str) -> set[str]:
    """Real paths of the files changed since `ref`: the working tree (staged or not) against the
    commit where the current branch left `ref` (`ref` itself when it is an ancestor, as
    `origin/main` usually is), plus untracked files that are not ignored. Deleted files are
    left out. Raises a usage error outside a git repository or for an unknown revision."""
    top = _git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise click.UsageError(f"--changed-since: not inside a git repository ({_git_error(top)})")
    root = os.fsdecode(top.stdout).rstrip("\n")
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=root)
    if ref.startswith("-") or commit.returncode != 0:
        raise click.UsageError(f"--changed-since: unknown git revision: {ref}")
    base = os.fsdecode(commit.stdout).strip()
    fork = _git("merge-base", base, "HEAD", cwd=root)
    if fork.returncode == 0:  # no common history, or no commit yet: compare with REF itself
        base = os.fsdecode(fork.stdout).strip()
    names: list[bytes] = []
    for args in (
        ("diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", base, "--"),
        ("ls-files", "-z", "--others", "--exclude-standard"),
    ):
        proc = _git(*args, cwd=root)
        if proc.returncode != 0:
            raise click.UsageError(f"--changed-since: git {args[0]} failed: {_git_error(proc)}")
        names.extend(n for n in proc.stdout.split(b"\0") if n)
    return {os.path.realpath(os.path.join(root, os.fsdecode(n))) for n in names}


# -- rendering -----------------------------------------------------------------------------
def shown(text: str) -> str:
    """One line, whatever a file name holds: control characters (a newline in a name)
    become escapes, as git shows them."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def finding_line(f: Finding) -> str:
    path = shown(f.path)
    if f.skip_reason is not None:
        return f"{path}:{f.line}:{f.column}: {f.code} skipped: {f.skip_reason} — {f.message}"
    return f"{path}:{f.line}:{f.column}: {f.code} {f.message}"


def print_errors(result: engine.RunResult) -> None:
    for failed in result.failed:
        err.error_line(shown(failed.error))


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


# -- SARIF 2.1.0 ---------------------------------------------------------------------------
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
# the reason the engine gives a finding silenced by `# qsfix: ignore` / `# noqa: QS00N`


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


def sarif_report(result: engine.RunResult, show_skipped: bool) -> dict:
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


# -- GitHub Actions workflow commands ---------------------------------------------------------
def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(result: engine.RunResult, show_skipped: bool) -> list[str]:
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


def print_report(result: engine.RunResult, run: Run, fmt: str, show_diff: bool) -> None:
    """The machine formats, on stdout."""
    import json  # imported when used, as everything a plain run does not need

    if fmt == "json":
        click.echo(json.dumps(json_report(result, show_diff=show_diff), indent=2))
    elif fmt == "sarif":
        click.echo(json.dumps(sarif_report(result, run.show_skipped), indent=2))
    elif fmt == "github":
        for line in github_lines(result, run.show_skipped):
            click.echo(line)


def _syntax(text: str):
    from rich.syntax import Syntax  # imported when used: pygments is slow to import

    return Syntax(text, "diff", theme="ansi_dark", background_color="default")


def show_diffs(results: Sequence[engine.FileResult]) -> None:
    if _stdout_is_terminal():
        console = out_console()
        for r in results:
            text = unified_diff(r.path, r.original, r.new).decode("utf-8", "replace")
            console.print(_syntax(text))
    else:
        stream = sys.stdout.buffer
        for r in results:
            stream.write(unified_diff(r.path, r.original, r.new))
        stream.flush()


def print_skipped(result: engine.RunResult, console: Output) -> None:
    for f in result.findings:
        if not f.is_active:
            console.line(finding_line(f))


def exit_status(result: engine.RunResult, found: bool) -> int:
    if result.failed:
        return EXIT_FAILED
    return EXIT_FOUND if found else EXIT_OK


# -- commands ----------------------------------------------------------------------------------
class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # not click's "Aborted!" with exit 1, which `diff` uses for "changes"
            err.line("qsfix: interrupted; every file is as it was or fully rewritten")
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(codemods.__version__, prog_name="qsfix")
def main() -> None:
    """Stop Django code from serving stale or needlessly expensive QuerySet results."""
    # SIGTERM unwinds like Ctrl-C: a temporary file being written is removed, worker
    # processes are shut down, and every file stays either old or new.
    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum, frame):
    raise KeyboardInterrupt


@main.command("list")
def list_passes() -> None:
    """Table of passes: code, name, fix safety, description."""
    from rich.table import Table

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
    # a pass that only reports (no fix) has no "Use instead"
    instead = "" if example.after is None else f"## Use instead\n```python\n{example.after_code}```\n\n"
    return (
        f"# {info.code} {info.name}\n\n{info.summary}\n\n"
        f"## What it does\n{info.what}\n\n## Why is this bad?\n{info.why}\n\n"
        f"## Example\n```python\n{example.before_code}```\n\n"
        f"{instead}"
        f"## Fix safety\n{info.fix_safety}\n\n## References\n{refs}\n"
    )


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """What a pass does, why, an example, and how safe its fix is."""
    info = registry.get_pass(code)
    if info is None:
        err.line(f"unknown code: {code} (see `qsfix list`)")
        sys.exit(EXIT_USAGE)
    console = out_console()
    if console.is_terminal:
        from rich.markdown import Markdown  # imported when used: it is slow to import

        console.print(Markdown(explain_markdown(info)))
    else:
        click.echo(explain_markdown(info), nl=False)


@main.command()
@common_options
@format_option
def check(fmt, **common) -> None:
    """Report findings: one line each, `path:line:col: CODE message`."""
    run = prepare(**common)
    # SARIF carries the fixes, so only it needs the rewritten text
    run.options = dataclasses.replace(run.options, build_fixes=fmt == "sarif")
    result = execute(run)
    active = [f for f in result.findings if f.is_active]
    if fmt == "text":
        console = out_console()
        for f in result.findings:
            if f.is_active or run.show_skipped:
                console.line(finding_line(f))
    else:
        print_report(result, run, fmt, show_diff=False)
    print_errors(result)
    err.line(summary_line(result))
    sys.exit(exit_status(result, bool(active)))


@main.command()
@common_options
@format_option
def diff(fmt, **common) -> None:
    """Print a unified diff of every change; write nothing."""
    run = prepare(**common)
    result = execute(run)
    if fmt == "text":
        show_diffs(result.changed)
        if run.show_skipped:
            print_skipped(result, err)
    else:
        print_report(result, run, fmt, show_diff=True)
    print_errors(result)
    err.line(summary_line(result))
    sys.exit(exit_status(result, bool(result.changed)))


@main.command()
@common_options
@click.option("--yes", "-y", is_flag=True, help="Write without asking (for scripts and CI).")
@click.option("--interactive", "-i", is_flag=True, help="Accept or reject each change.")
def apply(yes, interactive, **common) -> None:
    """Show the diff, ask once, and write the changes.

    With the path `-` (and --stdin-filename): read the source from stdin and print it,
    rewritten or unchanged, on stdout; no file is written and nothing is asked."""
    if yes and interactive:
        raise click.UsageError("--yes and --interactive exclude each other")
    run = prepare(**common)
    if run.stdin_filename is not None:
        if interactive:
            raise click.UsageError("--interactive cannot review source read from stdin")
        apply_stdin(run)
    if not yes and not _stdin_is_interactive():
        err.line(
            "qsfix apply: standard input is not a terminal, so nothing can be confirmed; "
            "nothing was written. Use --yes to write without asking."
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
            err.line("nothing written")
            sys.exit(exit_status(result, False))
    written = engine.write_changes(to_write)
    print_errors(result)
    err.line(summary_line(result, written=len(written)))
    sys.exit(exit_status(result, False))


def apply_stdin(run: Run) -> None:
    """`apply -`: the whole source on stdout (rewritten, or as it came when there is nothing to
    do or it cannot be parsed), so an editor can replace its buffer with it; the rest on stderr."""
    result = execute(run)
    file_result = result.files[0]
    stream = sys.stdout.buffer
    stream.write(file_result.new if file_result.changed else run.stdin_data)
    stream.flush()
    if run.show_skipped:
        print_skipped(result, err)
    print_errors(result)
    err.line(summary_line(result))
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
            console.line(finding_line(f))
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
