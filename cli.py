"""qsfix command line: parses arguments and renders. Every decision is made in `codemods`."""

from __future__ import annotations

import dataclasses
import signal
import os
import sys
from typing import TYPE_CHECKING, Optional, Sequence

import click

import codemods
from codemods import engine, registry
from codemods.config import ConfigError, load_config
from codemods.diffs import unified_diff
from codemods.options import build_options
from codemods.reports.explain import explain_markdown
from codemods.reports.text import finding_line, fixes_per_pass, shown, summary_line

if TYPE_CHECKING:
    from codemods.review import Change

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
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB (repeatable)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default and maximum: the CPU count)."),
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


class PassOptionsCommand(click.Command):
    """A command that also takes every pass's own options (`PassInfo.options`: one
    `--NAME/--no-NAME` flag each, after the common options). They are added when the command
    line may name one (`--help`, or a long option the command does not have otherwise), so a
    plain run does not import the passes (start-up is most of a warm run)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        own = {name for param in self.params if not getattr(param, "pass_option", False)
               for name in (*param.opts, *param.secondary_opts)}
        if any(arg.startswith("--") and arg.split("=")[0] not in own or arg == "-h" for arg in args):
            self.add_pass_options()
        return super().parse_args(ctx, args)

    def add_pass_options(self) -> None:
        """The flags of the passes there are now (made anew: the passes may have changed
        since the last command in this process, as in tests)."""
        self.params = [param for param in self.params if not getattr(param, "pass_option", False)]
        at = next(n for n, param in enumerate(self.params) if param.name == "exclude")
        codes: dict = {}  # option -> the passes that declare it (some share one)
        for info, option in registry.pass_options():
            codes.setdefault(option, []).append(info.code)
        for option, declared_by in codes.items():
            flag = click.Option(
                [f"--{option.name}/--no-{option.name}", option.attribute], default=None,
                help=f"{', '.join(declared_by)}: {option.help}.",
            )
            flag.pass_option = True
            self.params.insert(at, flag)
            at += 1


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
    show_progress: bool = True  # on a terminal; `apply --quiet` turns it off


def prepare(
    paths, select, ignore, unsafe, exclude, jobs, show_skipped,
    no_cache=False, changed_since=None, stdin_filename=None, **pass_options: Optional[bool],
) -> Run:
    """`pass_options`: the passes' own flags given (by attribute name: `all_views`)."""
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
        # the file is wrong, not the command line: one line, no usage banner
        err.error_line(shown(str(exc)))
        sys.exit(EXIT_USAGE)
    options = build_options(
        config, _codes(select), _codes(ignore), unsafe,
        pass_options, not no_cache, worker_count(jobs),
    )
    return Run(
        options, [*config.exclude, *exclude], paths or ["."], show_skipped,
        changed_since=changed_since, stdin_filename=stdin_filename if paths == ["-"] else None,
    )


def execute(run: Run) -> engine.RunResult:
    if run.stdin_filename is not None:
        run.stdin_data = sys.stdin.buffer.read()
        return engine.run([], run.options, run.excludes, stdin=(run.stdin_filename, run.stdin_data))
    missing = [p for p in run.paths if not os.path.lexists(p)]  # a broken link is the file's error
    if missing:
        raise click.UsageError(f"no such file or folder: {missing[0]}")
    if run.changed_since is not None:
        from codemods.git import GitError, changed_targets

        try:
            run.paths = changed_targets(run.paths, run.excludes, run.changed_since)
        except GitError as exc:
            raise click.UsageError(str(exc)) from None
        if not run.paths:
            return engine.RunResult(files=[])
    display = ProgressDisplay() if run.show_progress and progress_wanted() else None
    try:
        return engine.run(run.paths, run.options, run.excludes, display.report if display else None)
    finally:
        if display is not None:
            display.stop()


def worker_count(jobs: Optional[int]) -> int:
    """`-j N`, capped at the CPU count: more processes than CPUs only compete for them."""
    cpus = os.cpu_count() or 1
    return min(jobs or cpus, cpus)


def progress_wanted() -> bool:
    """As git does: a progress display only when stderr is a terminal. FORCE_COLOR and
    TTY_COMPATIBLE (set by CI systems for colours) do not make a log file animate;
    TTY_INTERACTIVE=0 or a dumb terminal turn it off."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty()) and err.is_terminal and err.rich.is_interactive


class ProgressDisplay:
    """rich's progress bars on stderr, for runs of at least PROGRESS_MIN_FILES files."""

    def __init__(self) -> None:
        self.progress = None
        self.tasks: dict[str, int] = {}

    def report(self, phase: str, done: int, total: int) -> None:
        if total < PROGRESS_MIN_FILES:
            return
        if self.progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            # rich's own Console, never the Output wrapper (rich keeps state on its console);
            # the streams are left alone, since Output resolves sys.stderr at each use
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                console=err.rich, transient=True, redirect_stdout=False, redirect_stderr=False,
            )
            self.progress.start()
        if phase not in self.tasks:
            description = "indexing" if phase == "index" else "analysing"
            self.tasks[phase] = self.progress.add_task(description, total=total)
        self.progress.update(self.tasks[phase], completed=done)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


# -- rendering -----------------------------------------------------------------------------
def print_errors(result: engine.RunResult) -> None:
    for failed in result.failed:
        err.error_line(shown(failed.error))


def print_report(result: engine.RunResult, run: Run, fmt: str, show_diff: bool) -> None:
    """The machine formats, on stdout."""
    from codemods.reports import machine_lines

    for line in machine_lines(result, fmt, show_diff=show_diff, show_skipped=run.show_skipped):
        click.echo(line)


def _syntax(text: str):
    from rich.syntax import Syntax  # imported when used: pygments is slow to import

    return Syntax(text, "diff", theme="ansi_dark", background_color="default")


def show_diffs(results: Sequence[engine.FileResult], page: bool = False) -> None:
    """The diffs on stdout: highlighted on a terminal (through the pager when `page` and they
    are longer than the screen), else a plain patch."""
    if _stdout_is_terminal():
        console = out_console()
        texts = [unified_diff(r.path, r.original, r.new).decode("utf-8", "replace") for r in results]
        if page:
            with console.capture() as captured:
                for text in texts:
                    console.print(_syntax(text))
            rendered = captured.get()
            if not page_text(rendered, console.size.height):
                sys.stdout.write(rendered)
                sys.stdout.flush()
            return
        for text in texts:
            console.print(_syntax(text))
    else:
        stream = sys.stdout.buffer
        for r in results:
            stream.write(unified_diff(r.path, r.original, r.new))
        stream.flush()


# Lines kept free below a paged diff: the failures, the summary and the question.
SCREEN_RESERVE = 4


def pager_command() -> Optional[str]:
    """QSFIX_PAGER, else PAGER, else `less -R` (as git); empty or `cat` means no pager."""
    command = os.environ.get("QSFIX_PAGER", os.environ.get("PAGER", "less -R"))
    return None if command.strip() in ("", "cat") else command


def page_text(text: str, screen_height: int) -> bool:
    """Show `text` through the pager when it is longer than the screen; False when it was not
    (short, no pager, or the pager cannot be started), so the caller prints it."""
    command = pager_command()
    if command is None or text.count("\n") <= screen_height - SCREEN_RESERVE:
        return False
    import subprocess  # imported when used, as everything a plain run does not need

    # as git: less quits on one screen (F), keeps colours (R) and leaves the text on the
    # screen (X), so the diff's end stays above the question
    env = {"LESS": "FRX", "LV": "-c", **os.environ}
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pager = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    try:
        pager.stdin.write(text.encode(sys.stdout.encoding or "utf-8", "replace"))
        pager.stdin.close()
    except BrokenPipeError:  # the reader quit before the end
        pass
    while True:
        try:
            pager.wait()
            break
        except KeyboardInterrupt:  # as git: Ctrl-C belongs to the pager while it runs
            continue
    return pager.returncode != 127  # 127: the shell found no such command


def print_overview(result: engine.RunResult) -> None:
    """Before a question: what failed, and what would be written."""
    print_errors(result)
    err.line(summary_line(result))
    per_pass = fixes_per_pass(result)
    if per_pass:
        err.line(per_pass)


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
        # Never click's "Aborted!" or a traceback with exit 1: 1 means "findings"/"changes".
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            err.line("qsfix: interrupted; every file is as it was or fully rewritten")
            sys.exit(130)
        except click.exceptions.Abort:
            # Ctrl-C or end of input at a question; questions come before any write
            err.line("qsfix: aborted at the question; nothing was written")
            sys.exit(130)
        except (click.exceptions.ClickException, click.exceptions.Exit):
            raise
        except BrokenPipeError:
            # the reader left (`qsfix diff | head`): stop quietly, as git does on SIGPIPE
            try:  # the interpreter's last flush of stdout must not fail too
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError, AttributeError):
                pass
            sys.exit(128 + signal.SIGPIPE)
        except Exception as exc:  # a bug: one line and status 3, as for a file that failed
            internal_error(exc)
            sys.exit(EXIT_FAILED)


def internal_error(exc: Exception) -> None:
    """`qsfix: internal error: Type: message` on one line; QSFIX_TRACEBACK=1 adds the traceback.
    """
    lines = str(exc).strip().splitlines()
    message = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    stream = sys.stderr or sys.__stderr__
    if os.environ.get("QSFIX_TRACEBACK"):
        import traceback

        traceback.print_exception(exc, file=stream)
    stream.write(f"qsfix: internal error: {message} (set QSFIX_TRACEBACK=1 to see where)\n")
    stream.flush()


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


@main.command(cls=PassOptionsCommand)
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


@main.command(cls=PassOptionsCommand)
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


REVIEW_HELP = (
    "Accept or reject each change: y yes, n no, f this and the rest of this file, "
    "p this and the rest of this pass, a all remaining, q quit (what was accepted is written)."
)
REVIEW_PROMPT = "Apply this change? [y]es / [n]o / [f] rest of file / [p] rest of pass / [a]ll / [q]uit"


@main.command(cls=PassOptionsCommand)
@common_options
@click.option("--yes", "-y", is_flag=True, help="Write without asking (for scripts and CI).")
@click.option("--interactive", "-i", is_flag=True, help=REVIEW_HELP)
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and the summary (for scripts).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="json: what was written and what failed, on stdout (needs --yes).",
)
def apply(yes, interactive, quiet, fmt, **common) -> None:
    """Show the diff, ask once, and write the changes.

    On a terminal, a diff longer than the screen is shown through $PAGER (default `less -R`),
    and the failures and a summary come before the question.

    With the path `-` (and --stdin-filename): read the source from stdin and print it,
    rewritten or unchanged, on stdout; no file is written and nothing is asked."""
    if yes and interactive:
        raise click.UsageError("--yes and --interactive exclude each other")
    if interactive and (quiet or fmt != "text"):
        raise click.UsageError("--interactive shows each change: it excludes --quiet and --format json")
    run = prepare(**common)
    if run.stdin_filename is not None:
        if interactive:
            raise click.UsageError("--interactive cannot review source read from stdin")
        if fmt != "text":
            raise click.UsageError("--format json cannot be used with `-`: stdout is the source")
        apply_stdin(run)
    if not yes and not _stdin_is_interactive():
        err.line(
            "qsfix apply: standard input is not a terminal, so nothing can be confirmed; "
            "nothing was written. Use --yes to write without asking."
        )
        sys.exit(EXIT_USAGE)
    if fmt == "json" and not yes:
        raise click.UsageError("--format json writes without asking: add --yes")
    run.show_progress = not quiet and fmt == "text"
    result = execute(run)
    if run.show_skipped and not quiet and fmt == "text":
        print_skipped(result, err)
    if yes:
        to_write = result.changed
        if fmt == "text" and not quiet:
            show_diffs(to_write)
    else:
        to_write = confirmed(result, run, interactive, quiet)
    written = engine.write_changes(to_write, result.files)
    if yes:
        print_errors(result)
    else:  # the others were shown before the question
        for failed in to_write:
            if failed.error:
                err.error_line(shown(failed.error))
    if fmt == "json":
        from codemods.reports import json_report

        click.echo(json_report.apply_report(result, written))
    err.line(summary_line(result, written=len(written)))
    sys.exit(exit_status(result, False))


def confirmed(result: engine.RunResult, run: Run, interactive: bool, quiet: bool) -> list[engine.FileResult]:
    """The changed files the user agrees to write, after the diff (or each change), the
    failures and the summary. Exits when the one question is answered no."""
    to_write = result.changed
    if not to_write:
        return []
    if interactive:
        return review(result, run)
    if not quiet:
        show_diffs(to_write, page=True)
    print_overview(result)
    if not click.confirm(f"Write {len(to_write)} file(s)?", default=False, err=True):
        err.line("nothing written")
        sys.exit(exit_status(result, False))
    return to_write


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
    """Ask about each change, then write only what was accepted (codemods.review decides
    what an answer accepts and reruns with those)."""
    from codemods import review as reviewing

    changes = reviewing.changes_to_review(result)
    print_overview(result)
    accepted = ask_each(changes, result, run)
    return reviewing.keep_accepted(result, run.options, changes, accepted)


def ask_each(changes: list[Change], result: engine.RunResult, run: Run) -> set[str]:
    """The keys of the changes accepted, one question per change not already answered."""
    from codemods import review as reviewing

    accepted: set[str] = set()
    console = out_console()
    for number, change in enumerate(changes, 1):
        if change.key in accepted:  # taken by an earlier f or p
            continue
        preview = reviewing.preview(result, run.options, change)
        console.rule(f"change {number} of {len(changes)}")
        for f in change.findings:
            console.line(finding_line(f))
        show_diffs(preview, page=True)
        answer = click.prompt(
            REVIEW_PROMPT, type=click.Choice(reviewing.ANSWERS), default="n",
            show_choices=False, err=True,
        )
        accepted |= reviewing.accepted_by(answer, changes[number - 1:])
        if reviewing.ends_review(answer):
            break
    return accepted


if __name__ == "__main__":
    main()
