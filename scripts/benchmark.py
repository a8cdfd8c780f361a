"""Time qsfix against its peers on the corpus: whole processes, medians, ratios, peak memory.

    bash ../shared/corpus.sh        # once: downloads Django, DRF, oscar, wagtail, pretix
    python scripts/benchmark.py [--corpus DIR] [--projects pretix,django] [--runs 5]
                                [--jobs N] [--json FILE]

For each project the file set is the one qsfix itself scans (`codemods.files.discover` on the
project folder: Python files, without migrations/, build output, virtual environments, ...).
Those files are copied once into a scratch folder and every tool runs there on exactly that
set, so the corpus is never touched (django-upgrade rewrites files in place; the copy is reset
after each of its runs). Measured, each as a whole process, wall clock, median of --runs:

  qsfix check cold   `qsfix check --no-cache -j N .` (cwd = the copy)
  qsfix check warm   `qsfix check -j N .` after one priming run; if no cache appears
                     (no `.qsfix_cache` or other new entry in the copy) the row says
                     "warm = cold (no cache)"
  qsfix staged ...   a staged review, as a user runs it: the cache is removed, then
                     `check -j N .` (cold, it writes the cache), and after it, each timed on
                     its own with the cache that left: `diff`, `check --unsafe --show-skipped`,
                     `check --select QS001` (rows "staged: diff", "staged: --unsafe",
                     "staged: --select"). Each is also given as a ratio to the cold run
                     (÷ cold: its time / qsfix check cold's); one analysis serves every
                     option set, so a follow-up should cost little more than a warm run.
  django-upgrade     `python -m django_upgrade --target-version 5.2 FILES...`, one process
  libcst codemod     `python -m libcst.tool codemod -x noop.NoopCommand --no-format -j N
                     --include-generated --hide-progress @FILELIST` (a codemod that changes
                     nothing; --include-generated so files marked @generated are not skipped)
  ast.parse          one process that reads the bytes of every file and `ast.parse`s them

qsfix's bytecode is compiled once before the runs (as pip does for an installed package), and
PYTHONDONTWRITEBYTECODE is dropped from the children's environment.

Runs are interleaved (round 1 of every tool, then round 2, ...) so that drift on a shared,
noisy machine hits every tool alike. "cold" means no qsfix cache; the OS file cache is warm
for every tool. Peak RSS is the largest single process of the run (the child or any of its
worker processes: `wait4`'s ru_maxrss), in MB. Tools that are not installed or fail get a row
that says so instead of numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from codemods.files import PROJECT_MARKERS, discover, project_root  # noqa: E402

DEFAULT_CORPUS = os.environ.get("QSFIX_CORPUS", os.path.expanduser("~/.cache/qsfix-corpus"))
DJANGO_TARGET = "5.2"

QSFIX_COLD = "qsfix check cold"
QSFIX_WARM = "qsfix check warm"
STAGED_COLD = "qsfix staged: check"
# the follow-ups of a staged review, after STAGED_COLD: (row, the qsfix command)
STAGED_STEPS = (
    ("qsfix staged: diff", ["diff"]),
    ("qsfix staged: --unsafe", ["check", "--unsafe", "--show-skipped"]),
    ("qsfix staged: --select", ["check", "--select", "QS001"]),
)
STAGED = (STAGED_COLD, *(name for name, _ in STAGED_STEPS))
# a follow-up of a staged review costs at most this share of a cold run
STAGED_LIMIT = 0.25
DJANGO_UPGRADE = "django-upgrade"
LIBCST = "libcst codemod (no-op)"
AST_PARSE = "ast.parse"
TOOLS = (QSFIX_COLD, QSFIX_WARM, *STAGED, DJANGO_UPGRADE, LIBCST, AST_PARSE)

NOOP_CODEMOD = '''\
import libcst as cst
from libcst.codemod import VisitorBasedCodemodCommand


class NoopCommand(VisitorBasedCodemodCommand):
    DESCRIPTION = "Changes nothing: parse, visit, print."
'''

AST_SCRIPT = '''\
import ast, sys
with open(sys.argv[1], encoding="utf-8") as handle:
    paths = handle.read().splitlines()
failed = 0
for path in paths:
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        ast.parse(data, filename=path)
    except (SyntaxError, ValueError):
        failed += 1
print(f"{len(paths)} files, {failed} not parsed")
'''

# django-upgrade takes files as arguments; when they do not fit on a command line the same
# entry point is called from a one-line wrapper (still one process).
DJANGO_UPGRADE_WRAPPER = (
    "import sys; from django_upgrade.main import main; "
    "sys.exit(main(['--target-version', sys.argv[2]] + open(sys.argv[1], encoding='utf-8').read().splitlines()))"
)


# -- one timed process ------------------------------------------------------------------------
@dataclass
class Sample:
    seconds: float
    rss_mb: Optional[float]
    exit_code: int
    stdout: bytes
    stderr: bytes


def _maxrss_mb(ru_maxrss: int) -> float:
    # Linux reports KiB, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def timed(argv: list[str], cwd: str, env: dict[str, str]) -> Sample:
    """Run `argv` to completion; wall clock of the whole process, and the peak RSS of the
    largest process in it (wait4 reports the max of the child and its reaped descendants)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        rss = None
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            rss = _maxrss_mb(usage.ru_maxrss)
        else:  # pragma: no cover - no wait4 (Windows): time only
            proc.wait()
            seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return Sample(seconds, rss, proc.returncode, out.read(), err.read())


# -- the scratch copy -------------------------------------------------------------------------
def count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def files_digest(folder: str, files: list[str]) -> str:
    """The bytes of the benchmarked files of a corpus folder, to prove none was modified.
    (Other entries, such as a `.qsfix_cache` someone else's run left there, do not count.)"""
    digest = hashlib.sha256()
    for rel in files:
        with open(os.path.join(folder, rel), "rb") as handle:
            digest.update(rel.encode("utf-8", "surrogateescape") + b"\0" + hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


@dataclass
class Project:
    name: str
    source: str  # the corpus folder
    copy: str  # the scratch copy every tool runs in
    files: list[str]  # relative to both
    lines: int
    notes: list[str] = field(default_factory=list)
    restored: int = 0  # files django-upgrade/libcst rewrote in the copy (put back)
    baseline: set[str] = field(default_factory=set)  # entries of the copy before any cache

    def reset(self) -> int:
        """Put back every file of the copy that differs from the corpus; returns how many."""
        restored = 0
        for rel in self.files:
            original, copied = os.path.join(self.source, rel), os.path.join(self.copy, rel)
            with open(original, "rb") as a, open(copied, "rb") as b:
                if a.read() == b.read():
                    continue
            shutil.copyfile(original, copied)
            restored += 1
        return restored


def prepare(name: str, source: str, scratch: str) -> Project:
    source = os.path.abspath(source)
    files = sorted(os.path.relpath(p, source) for p in discover([source]))
    copy = os.path.join(scratch, name)
    lines = 0
    for rel in files:
        target = os.path.join(copy, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(source, rel), target)
        with open(target, "rb") as handle:
            lines += count_lines(handle.read())
    project = Project(name, source, copy, files, lines)
    # qsfix indexes the project a path belongs to (the nearest folder up with a marker). The
    # corpus folders have one (django) or none; copy the markers that are not Python files,
    # and if none was there make sure no stray marker above the scratch folder widens the set.
    for marker in PROJECT_MARKERS:
        path = os.path.join(source, marker)
        if os.path.isfile(path) and not marker.endswith(".py"):
            shutil.copyfile(path, os.path.join(copy, marker))
    root = project_root(copy)
    if root is not None and os.path.abspath(root) != copy:
        open(os.path.join(copy, "setup.cfg"), "w").close()
        project.notes.append(f"a project marker above the scratch copy ({root}); added an empty setup.cfg to the copy")
    seen = sorted(os.path.relpath(p, copy) for p in discover([copy]))
    if seen != files:
        project.notes.append(f"qsfix sees {len(seen)} files in the copy, the corpus folder has {len(files)}")
    with open(os.path.join(scratch, f"{name}.files"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(files) + "\n")
    return project


# -- the tools ----------------------------------------------------------------------------------
@dataclass
class Row:
    tool: str
    status: str = "ok"  # "ok", "missing: ...", "failed: ...", "warm = cold (no cache)"
    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    median: Optional[float] = None
    lines_per_s: Optional[float] = None
    ratio_to_ast: Optional[float] = None  # this tool's time / ast.parse's
    qsfix_cold_over: Optional[float] = None  # qsfix cold's time / this tool's
    over_cold: Optional[float] = None  # staged review: this command's time / qsfix cold's
    peak_rss_mb: Optional[float] = None
    note: str = ""


@dataclass
class Tool:
    name: str
    argv: Callable[[Project], list[str]]
    ok_exit: tuple[int, ...]
    module: Optional[str] = None  # must be importable, else the row says "missing"
    after: Optional[Callable[[Project], None]] = None  # e.g. put back what it rewrote
    before: Optional[Callable[[Project], None]] = None  # e.g. remove the qsfix cache
    # (succeeded, note) from a finished run; default: an expected exit status, no traceback
    judge: Optional[Callable[["Sample"], tuple[bool, str]]] = None

    def verdict(self, sample: "Sample") -> tuple[bool, str]:
        if self.judge is not None:
            return self.judge(sample)
        return sample.exit_code in self.ok_exit and not crashed(sample), ""


def crashed(sample: "Sample") -> bool:
    """An uncaught exception exits 1 too, which qsfix and django-upgrade also use for
    "found something"."""
    return b"Traceback (most recent call last)" in sample.stderr


def arg_max() -> int:
    try:
        return int(os.sysconf("SC_ARG_MAX"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 32768


def make_tools(scratch: str, jobs: int) -> list[Tool]:
    py = sys.executable
    qsfix_cli = [py, "-c", "import cli; cli.main()"]
    qsfix = [*qsfix_cli, "check"]

    def file_list(p: Project) -> str:
        return os.path.join(scratch, f"{p.name}.files")

    def django_upgrade(p: Project) -> list[str]:
        argv = [py, "-m", "django_upgrade", "--target-version", DJANGO_TARGET, *p.files]
        size = sum(len(a) + 1 for a in argv) + sum(len(k) + len(v) + 2 for k, v in os.environ.items())
        if size > arg_max() // 2:
            return [py, "-c", DJANGO_UPGRADE_WRAPPER, file_list(p), DJANGO_TARGET]
        return argv

    def restore(p: Project) -> None:
        p.restored += p.reset()

    def qsfix_judge(sample: Sample) -> tuple[bool, str]:
        if crashed(sample):
            return False, ""
        if sample.exit_code == 3:
            return True, "exit 3: some files could not be read or parsed"
        return sample.exit_code in (0, 1), ""

    def libcst_judge(sample: Sample) -> tuple[bool, str]:
        # exit 1 (and a traceback per file) also when some files failed to parse; that is
        # the corpus, not the tool
        match = re.search(rb"Failed to codemod (\d+) files", sample.stderr)
        failed = int(match.group(1)) if match else 0
        if sample.exit_code == 0 or (sample.exit_code == 1 and failed):
            return True, f"{failed} file(s) failed to parse" if failed else ""
        return False, ""

    def ast_judge(sample: Sample) -> tuple[bool, str]:
        return sample.exit_code == 0 and not crashed(sample), sample.stdout.decode("utf-8", "replace").strip()

    return [
        Tool(QSFIX_COLD, lambda p: qsfix + ["--no-cache", "-j", str(jobs), "."], (0, 1, 3), "codemods", judge=qsfix_judge),
        Tool(QSFIX_WARM, lambda p: qsfix + ["-j", str(jobs), "."], (0, 1, 3), "codemods", judge=qsfix_judge),
        Tool(STAGED_COLD, lambda p: qsfix + ["-j", str(jobs), "."], (0, 1, 3), "codemods",
             before=lambda p: remove_cache(p, p.baseline), judge=qsfix_judge),
        *(
            Tool(name, lambda p, command=command: [*qsfix_cli, *command, "-j", str(jobs), "."],
                 (0, 1, 3), "codemods", judge=qsfix_judge)
            for name, command in STAGED_STEPS
        ),
        Tool(DJANGO_UPGRADE, django_upgrade, (0, 1), "django_upgrade", after=restore),
        Tool(
            LIBCST,
            lambda p: [py, "-m", "libcst.tool", "codemod", "-x", "qsfix_bench_noop.NoopCommand",
                       "--no-format", "-j", str(jobs), "--include-generated", "--hide-progress",
                       "@" + file_list(p)],
            (0,), "libcst.tool", after=restore, judge=libcst_judge,
        ),
        Tool(AST_PARSE, lambda p: [py, "-c", AST_SCRIPT, file_list(p)], (0,), judge=ast_judge),
    ]


def module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def cache_entries(project: Project) -> set[str]:
    """What a cache could have added to the copy: top-level entries that are not the corpus."""
    tops = {rel.split(os.sep, 1)[0] for rel in project.files}
    return {e for e in os.listdir(project.copy) if e not in tops and e not in PROJECT_MARKERS}


def remove_cache(project: Project, baseline: set[str]) -> None:
    for entry in cache_entries(project) - baseline:
        path = os.path.join(project.copy, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def tail(data: bytes, lines: int = 3) -> str:
    text = data.decode("utf-8", "replace").strip().splitlines()
    return " | ".join(text[-lines:])[:300]


def cache_state(project: Project, baseline: set[str]) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file in what a cache added to the copy."""
    state = {}
    for entry in sorted(cache_entries(project) - baseline):
        top = os.path.join(project.copy, entry)
        walked = os.walk(top) if os.path.isdir(top) else [(project.copy, [], [entry])]
        for dirpath, _, filenames in walked:
            for name in filenames:
                st = os.stat(os.path.join(dirpath, name))
                state[os.path.relpath(os.path.join(dirpath, name), project.copy)] = (st.st_size, st.st_mtime_ns)
    return state


def add_note(row: Row, note: str) -> None:
    if note and note not in row.note:
        row.note = f"{row.note}; {note}" if row.note else note


def bench_project(project: Project, tools: list[Tool], runs: int, env: dict[str, str], log) -> list[Row]:
    rows = {t.name: Row(t.name) for t in tools}
    active = []
    for tool in tools:
        if tool.module and not module_available(tool.module):
            rows[tool.name].status = f"missing: no module {tool.module} in {sys.executable}"
        else:
            active.append(tool)

    def run(tool: Tool) -> Optional[Sample]:
        """One timed run; None (and the row says why) when the tool failed."""
        if tool.before:
            tool.before(project)
        sample = timed(tool.argv(project), project.copy, env)
        if tool.after:
            tool.after(project)
        row = rows[tool.name]
        row.exit_codes.append(sample.exit_code)
        ok, note = tool.verdict(sample)
        if not ok:
            row.status = f"failed: exit {sample.exit_code}: {tail(sample.stderr)}"
            active.remove(tool)
            return None
        add_note(row, note)
        return sample

    baseline = project.baseline = cache_entries(project)
    has_cache = False
    warm = next((t for t in active if t.name == QSFIX_WARM), None)
    if warm is not None:
        log(f"  {project.name}: priming the qsfix cache")
        remove_cache(project, baseline)
        if run(warm) is not None:
            rows[QSFIX_WARM].exit_codes.clear()  # the priming run is not one of the timed runs
            created = sorted(cache_entries(project) - baseline)
            has_cache = bool(created)
            if has_cache:
                add_note(rows[QSFIX_WARM], "cache: " + ", ".join(created))
            else:
                rows[QSFIX_WARM].status = "warm = cold (no cache)"
                add_note(rows[QSFIX_WARM], "no .qsfix_cache (or any new entry) appeared in the project after a run")

    outputs: dict[str, set[bytes]] = {QSFIX_COLD: set(), QSFIX_WARM: set()}
    for round_ in range(1, runs + 1):
        log(f"  {project.name}: round {round_}/{runs}")
        for tool in list(active):
            if tool not in active:
                continue
            before = cache_state(project, baseline) if tool.name == QSFIX_COLD and has_cache else None
            sample = run(tool)
            if sample is None:
                continue
            if before is not None and cache_state(project, baseline) != before:
                add_note(rows[QSFIX_COLD], "--no-cache changed the cache")
            row = rows[tool.name]
            row.seconds.append(sample.seconds)
            if sample.rss_mb is not None:
                row.rss_mb.append(sample.rss_mb)
            if tool.name in outputs:
                outputs[tool.name].add(sample.stdout)

    if len(outputs[QSFIX_COLD] | outputs[QSFIX_WARM]) > 1:
        add_note(rows[QSFIX_COLD], "qsfix output differs between runs (cold vs warm, or run to run)")
    if project.restored:
        project.notes.append(f"django-upgrade/libcst rewrote {project.restored} file(s) in the scratch copy (restored after each run)")

    for row in rows.values():
        if row.seconds:
            row.median = statistics.median(row.seconds)
            row.lines_per_s = project.lines / row.median if row.median > 0 else None
        if row.rss_mb:
            row.peak_rss_mb = max(row.rss_mb)
    ast_row, cold = rows[AST_PARSE], rows[QSFIX_COLD]
    for row in rows.values():
        if row.median and ast_row.median:
            row.ratio_to_ast = row.median / ast_row.median
        if row.median and cold.median:
            row.qsfix_cold_over = cold.median / row.median
            if row.tool in STAGED:
                row.over_cold = row.median / cold.median
    return [rows[t.name] for t in tools]


# -- report -----------------------------------------------------------------------------------
def revision() -> Optional[str]:
    """The commit of the qsfix being measured, "+dirty" with uncommitted edits."""
    try:
        done = subprocess.run(["git", "describe", "--always", "--dirty=+dirty"], cwd=REPO,
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def machine_info(jobs: int) -> dict:
    def version(dist: str) -> Optional[str]:
        try:
            from importlib.metadata import version as v

            return v(dist)
        except Exception:
            return None

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        usable = os.cpu_count()
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "jobs": jobs,
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "qsfix_revision": revision(),
        "versions": {
            "django-qsfix": version("django-qsfix"),
            "django-upgrade": version("django-upgrade"),
            "libcst": version("libcst"),
        },
    }


def fmt(value: Optional[float], spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def targets(rows: list[Row]) -> dict[str, dict]:
    by = {r.tool: r for r in rows}
    cold, warm = by[QSFIX_COLD], by[QSFIX_WARM]
    du = by[DJANGO_UPGRADE]

    def check(value, limit, ok) -> dict:
        return {"value": value, "limit": limit, "met": None if value is None else ok(value)}

    return {
        "qsfix cold / django-upgrade <= 1.0": check(
            cold.median / du.median if cold.median and du.median else None, 1.0, lambda v: v <= 1.0),
        "qsfix cold / ast.parse <= 2.0": check(cold.ratio_to_ast, 2.0, lambda v: v <= 2.0),
        "qsfix warm / cold <= 0.10": check(
            warm.median / cold.median if warm.median and cold.median and warm.status == "ok" else None,
            0.10, lambda v: v <= 0.10),
        "qsfix cold peak RSS MB < 500": check(cold.peak_rss_mb, 500, lambda v: v < 500),
        **{
            f"{name} / qsfix cold <= {STAGED_LIMIT}": check(
                by[name].over_cold if name in by else None, STAGED_LIMIT, lambda v: v <= STAGED_LIMIT)
            for name, _ in STAGED_STEPS
        },
    }


def render(project: Project, rows: list[Row], runs: int) -> str:
    out = [
        f"\n{project.name}: {len(project.files)} files, {project.lines:,} lines "
        f"(median of {runs} run{'s' if runs != 1 else ''}, whole process, wall clock)",
    ]
    header = f"{'tool':24} {'seconds':>8} {'min-max':>13} {'lines/s':>10} {'÷ ast.parse':>11} {'qsfix cold ÷':>12} {'÷ cold':>7} {'peak RSS MB':>11}  status"
    out += [header, "-" * len(header)]
    for r in rows:
        spread = f"{min(r.seconds):.2f}-{max(r.seconds):.2f}" if r.seconds else "n/a"
        out.append(
            f"{r.tool:24} {fmt(r.median, '.3f'):>8} {spread:>13} {fmt(r.lines_per_s, ',.0f'):>10} "
            f"{fmt(r.ratio_to_ast, '.2f'):>11} {fmt(r.qsfix_cold_over, '.2f'):>12} "
            f"{fmt(r.over_cold, '.3f') if r.tool in STAGED else '':>7} "
            f"{fmt(r.peak_rss_mb, '.0f'):>11}  {r.status}" + (f" ({r.note})" if r.note else "")
        )
    out.append("peak RSS = largest single process of the run (qsfix/libcst with -j: parent or a worker)")
    for name, t in targets(rows).items():
        verdict = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT met")
        out.append(f"target {name}: {fmt(t['value'], '.3f')} -> {verdict}")
    out += [f"note: {n}" for n in project.notes]
    return "\n".join(out)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="folder holding one folder per project")
    parser.add_argument("--projects", default="pretix,django", help="comma-separated project folder names")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool (median reported)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="-j for qsfix and libcst")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--skip", action="append", default=[], metavar="TOOL",
                        help="leave out the tools whose name contains TOOL (e.g. libcst: ~5 min a run on Django)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.jobs < 1:
        parser.error("--runs and --jobs must be at least 1")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    names = [n.strip() for n in args.projects.split(",") if n.strip()]
    missing = [n for n in names if not os.path.isdir(os.path.join(args.corpus, n))]
    if missing:
        parser.error(f"not in {args.corpus}: {', '.join(missing)} (run ../shared/corpus.sh)")

    machine = machine_info(args.jobs)
    print(
        f"python {machine['python']} ({machine['executable']}), {machine['platform']}, "
        f"{machine['cpu_count']} CPUs ({machine['usable_cpus']} usable), -j {args.jobs}, "
        f"load {' '.join(f'{x:.2f}' for x in machine['loadavg_start'] or [])}"
    )
    print("versions: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in machine["versions"].items())
          + f"; qsfix revision {machine['qsfix_revision'] or 'unknown'}")
    report: dict = {"machine": machine, "runs": args.runs, "projects": {}}
    scratch = tempfile.mkdtemp(prefix="qsfix-bench-")
    try:
        noop_dir = os.path.join(scratch, "_noop")
        os.makedirs(noop_dir)
        with open(os.path.join(noop_dir, "qsfix_bench_noop.py"), "w", encoding="utf-8") as handle:
            handle.write(NOOP_CODEMOD)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, noop_dir, env.get("PYTHONPATH")) if p)
        env.pop("PYTHONSTARTUP", None)
        # Every tool runs as installed: with its bytecode compiled. The peers' was compiled by
        # pip; qsfix's own (an editable checkout) is compiled here once, and children may
        # write bytecode (with PYTHONDONTWRITEBYTECODE, every run would compile qsfix anew).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", os.path.join(REPO, "codemods"), os.path.join(REPO, "cli.py")],
            check=False, stdout=subprocess.DEVNULL,
        )
        tools = [t for t in make_tools(scratch, args.jobs) if not any(k in t.name for k in args.skip)]
        for name in names:
            source = os.path.join(args.corpus, name)
            log(f"{name}: copying the files qsfix scans")
            project = prepare(name, source, scratch)
            before = files_digest(source, project.files)
            load = os.getloadavg() if hasattr(os, "getloadavg") else None
            rows = bench_project(project, tools, args.runs, env, log)
            if load is not None:
                project.notes.append(
                    f"1-min load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after "
                    f"({machine['usable_cpus']} CPUs; above that, other work shared the machine)")
            if files_digest(source, project.files) != before:  # every tool runs in the copy
                project.notes.append("CORPUS FILES CHANGED during the benchmark (not by it: every tool runs in the copy)")
            print(render(project, rows, args.runs), flush=True)
            report["projects"][name] = {
                "files": len(project.files),
                "lines": project.lines,
                "rows": [asdict(r) for r in rows],
                "targets": targets(rows),
                "notes": project.notes,
            }
            shutil.rmtree(project.copy, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    machine["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in machine['loadavg_end'] or [])}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
