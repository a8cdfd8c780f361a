"""Robustness sweep: run every pass over real projects and check that nothing went wrong.

    bash ../shared/corpus.sh                      # once: Django, DRF, oscar, wagtail, pretix
    python scripts/sweep.py [CORPUS_DIR] [--projects django,drf] [--files N] [--keep]
                            [--qsfix-arg=--all-views ...]

Each project is copied to a scratch folder; there, as a user would (one process per command):

1. `qsfix check --format json --unsafe` on the pristine copy: the findings, which fixes apply;
2. `qsfix apply --yes --unsafe`, then every file of the copy is compared with the original:
   - the exit status is 0, or 3 only when every failure is a file that does not compile
     (a deliberately broken test file, Python 2 code): those are listed, not counted;
   - no traceback; the failures are the ones `check` reported;
   - no file appeared, vanished or changed other than a rewritten `.py` file with an applied
     finding, and every applied finding's file changed;
   - every changed file compiles;
   - every change lies inside the span of an applied finding: the node the finding points at,
     the parent a fix replaces whole (`bool(qs)`, `not qs`, `len(qs) == 0`) and the
     parentheses around them; for QS003 (a class attribute becomes a method) the class;
3. `qsfix diff --unsafe` on the result prints nothing: a second run changes nothing;
4. `python -m compileall -q` on the changed files passes.

CORPUS_DIR defaults to $QSFIX_CORPUS or ~/.cache/qsfix-corpus. Without `--projects`, every
known project found there is swept; a folder holding none of them is swept as one project.
`--files N` limits the run to N files per project (the files with applied fixes first), as
the test suite does on tests/data/sweep. Prints a table; exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import dataclass, field
from typing import Optional

KNOWN_PROJECTS = ("django", "drf", "oscar", "wagtail", "pretix")
# Folders never worth choosing `--files` from (qsfix skips them when walking, too).
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".tox", ".venv", "venv", "node_modules",
     "site-packages", "build", "dist", "migrations", ".qsfix_cache"}
)
# -I: the copy being swept is the working folder; it must not shadow `cli` or a library.
QSFIX = [sys.executable, "-I", "-c", "import cli; cli.main()"]
TIMEOUT = 3600
CACHE_DIR = ".qsfix_cache"  # qsfix's cache at the project root: written by design

Span = tuple[tuple[int, int], tuple[int, int]]  # (line, column) start and end, in characters


@dataclass
class Report:
    name: str
    files: int = 0
    active: int = 0
    unsafe: int = 0
    skipped: int = 0
    changed: int = 0
    unparsable: list[str] = field(default_factory=list)  # genuinely broken input files
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- running qsfix -----------------------------------------------------------------------------
def qsfix(args: list[str], cwd: str) -> subprocess.CompletedProcess:
    """One qsfix process; a hang becomes exit status -1 with a note on stderr."""
    try:
        return subprocess.run(
            QSFIX + args, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        note = f"\nqsfix {' '.join(args[:2])} did not finish within {TIMEOUT} s\n".encode()
        return subprocess.CompletedProcess(QSFIX + args, -1, exc.stdout or b"", (exc.stderr or b"") + note)


def tail(data: bytes, lines: int = 5) -> str:
    return " | ".join(data.decode("utf-8", "replace").strip().splitlines()[-lines:])


def error_paths(stderr: bytes) -> set[str]:
    """The files `error: PATH: reason` lines name (PATH may be followed by :line:col)."""
    paths = set()
    for line in stderr.decode("utf-8", "replace").splitlines():
        if line.startswith("error: "):
            rest = line[len("error: "):]
            match = re.match(r"(.*?\.py)(?::\d+:\d+)?: ", rest)
            paths.add(match.group(1) if match else rest.split(": ", 1)[0])
    return paths


# -- files -------------------------------------------------------------------------------------
def snapshot(root: str) -> dict[str, bytes]:
    """Every file below `root` but qsfix's own cache (symlinks: their target's name)."""
    files = {}
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != CACHE_DIR]
        for name in dirnames:
            full = os.path.join(folder, name)
            if os.path.islink(full):
                files[os.path.relpath(full, root)] = b"symlink -> " + os.readlink(full).encode("utf-8", "surrogateescape")
        for name in filenames:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                files[rel] = b"symlink -> " + os.readlink(full).encode("utf-8", "surrogateescape")
                continue
            with open(full, "rb") as handle:
                files[rel] = handle.read()
    return files


def candidate_files(root: str) -> list[str]:
    found = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
            and not os.path.islink(os.path.join(folder, d))
        )
        for name in sorted(filenames):
            full = os.path.join(folder, name)
            if name.endswith(".py") and not os.path.islink(full):
                found.append(os.path.relpath(full, root))
    return found


def compiles(data: bytes, path: str) -> Optional[str]:
    """None when `data` compiles, else why not (one line)."""
    try:
        compile(data, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError) as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


# -- which lines may change ----------------------------------------------------------------------
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def text_lines(data: bytes) -> list[str]:
    """Lines as Python counts them (after \\n, \\r\\n or a lone \\r), decoded as Python would."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return _LINE.findall(data.decode(encoding))


# Passes whose fix rewrites the class the finding is in (QS003 turns a class attribute into a
# get_queryset() method of the class and makes the class's `self.queryset` uses calls).
CLASS_WIDE = frozenset({"QS003"})
# Passes whose fix changes statements of the function the finding is in (QS005/QS006 add a
# `refresh_from_db()` after a statement, QS006 rewrites the `save()` too) and may import `F`:
# in a one-line `from django.db.models import ...`, or after the last top-level `from` import.
FUNCTION_WIDE = frozenset({"QS005", "QS006"})


def finding_spans(data: bytes, positions: list[tuple]) -> list[Span]:
    """The region each applied finding may rewrite: every node that starts where the finding
    points, the parent a fix replaces whole (`bool(qs)`, `not qs`, `len(qs) == 0`), for
    QS003 the whole class, widened over the whitespace and parentheses around it. Without a
    usable tree: the whole line. `positions`: (line, column[, code]) of each applied finding."""
    lines = text_lines(data)

    def char_col(line: int, byte_col: int) -> int:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def whole_line(line: int) -> Span:
        return ((line, 0), (line, len(lines[line - 1]) if 0 < line <= len(lines) else 0))

    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [whole_line(p[0]) for p in positions]
    starts: dict[tuple[int, int], list[ast.AST]] = {}
    parents: dict[int, ast.AST] = {}
    try:
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
            if hasattr(node, "lineno") and getattr(node, "end_lineno", None) is not None:
                starts.setdefault((node.lineno, char_col(node.lineno, node.col_offset)), []).append(node)
    except RecursionError:
        return [whole_line(p[0]) for p in positions]

    spans = []
    for line, column, *code in positions:
        nodes = list(starts.get((line, column - 1), []))
        if not nodes:
            spans.append(whole_line(line))
            continue
        if code and code[0] in CLASS_WIDE:
            node = nodes[0]
            while node is not None and not isinstance(node, ast.ClassDef):
                node = parents.get(id(node))
            if node is not None:
                nodes.append(node)
        if code and code[0] in FUNCTION_WIDE:
            node = nodes[0]
            while node is not None and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                node = parents.get(id(node))
            if node is not None:
                nodes.append(node)
            imports = [s for s in tree.body if isinstance(s, ast.ImportFrom)]
            if imports:
                spans.append(whole_line(imports[-1].end_lineno))
            spans.extend(whole_line(s.lineno) for s in imports if s.module == "django.db.models")
        for node in list(nodes):
            parent = parents.get(id(node))
            if rewritten_whole(parent):
                nodes.append(parent)
        start = min((n.lineno, char_col(n.lineno, n.col_offset)) for n in nodes)
        end = max((n.end_lineno, char_col(n.end_lineno, n.end_col_offset)) for n in nodes)
        spans.append(widen(lines, start, end))
    return spans


def rewritten_whole(parent: Optional[ast.AST]) -> bool:
    """A parent a fix may replace together with its child: `not qs`, `len(qs) == 0`,
    `bool(qs)`, `len(qs)`."""
    if isinstance(parent, (ast.Compare, ast.UnaryOp)):
        return True
    return (
        isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name)
        and parent.func.id in ("bool", "len")
    )


def widen(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> Span:
    """`start`/`end` moved outwards over whitespace, line continuations and parentheses."""
    (line, col), (end_line, end_col) = start, end
    while True:
        if col > 0 and lines[line - 1][col - 1] in " \t(\\":
            col -= 1
        elif col == 0 and line > 1 and lines[line - 2].rstrip().endswith(("(", "\\")):
            line -= 1
            col = len(lines[line - 1].rstrip("\r\n"))
        else:
            break
    while end_line <= len(lines):
        text = lines[end_line - 1]
        body = len(text.rstrip("\r\n"))
        if end_col < body and text[end_col] in " \t)\\":
            end_col += 1
        elif end_col >= body and end_line < len(lines) and _only_closing(lines[end_line]):
            end_line += 1
            end_col = 0
        else:
            break
    return ((line, col), (end_line, end_col))


def _only_closing(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and stripped[0] == ")"


def _position(block: list[str], first_line: int, offset: int, end: bool = False) -> tuple[int, int]:
    """(line, column) of a character offset into `block`; at a line break, an end position
    stays on the earlier line and a start position moves to the next one."""
    for i, text in enumerate(block):
        if offset < len(text) or (offset == len(text) and (end or i == len(block) - 1)):
            return (first_line + i, min(offset, len(text.rstrip("\r\n"))))  # not past the body
        offset -= len(text)
    return (first_line + len(block) - 1, len(block[-1]) if block else 0)


def hunk_violations(path: str, old: bytes, new: bytes, spans: list[Span]) -> list[str]:
    """Every change between `old` and `new` must lie inside `spans` (positions in `old`)."""
    old_lines, new_lines = text_lines(old), text_lines(new)
    problems = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            blocks = [(i, i + 1, j, j + 1) for i, j in zip(range(i1, i2), range(j1, j2))]
        else:
            blocks = [(i1, i2, j1, j2)]
        for a, b, c, d in blocks:
            problem = _block_problem(old_lines[a:b], new_lines[c:d], a + 1, spans)
            if problem:
                problems.append(f"{path}:{a + 1}: {problem}")
    return problems


def _block_problem(old_block: list[str], new_block: list[str], first: int, spans: list[Span]) -> Optional[str]:
    if not old_block:  # lines inserted before line `first`: next to a rewritten span
        if any(s[0][0] - 1 <= first <= s[1][0] + 1 for s in spans):
            return None
        return f"lines inserted outside every rewritten span: {''.join(new_block)[:80]!r}"
    last = first + len(old_block) - 1
    for line in range(first, last + 1):
        if not any(s[0][0] <= line <= s[1][0] for s in spans):
            return f"line {line} changed but no applied finding covers it: {old_block[line - first].rstrip()!r}"
    old_text, new_text = "".join(old_block), "".join(new_block)
    prefix = len(os.path.commonprefix([old_text, new_text]))
    limit = min(len(old_text), len(new_text)) - prefix
    suffix = len(os.path.commonprefix([old_text[::-1], new_text[::-1]]))
    suffix = min(suffix, limit)
    start = _position(old_block, first, prefix)
    end = _position(old_block, first, len(old_text) - suffix, end=True)
    touching = [s for s in spans if s[0][0] <= last and s[1][0] >= first]
    hull = (min(s[0] for s in touching), max(s[1] for s in touching))
    if start < hull[0] or end > hull[1]:
        return (
            f"changed text at {start[0]}:{start[1] + 1}-{end[0]}:{end[1] + 1} is outside the "
            f"rewritten span {hull[0][0]}:{hull[0][1] + 1}-{hull[1][0]}:{hull[1][1] + 1}: "
            f"{old_text.strip()[:80]!r} -> {new_text.strip()[:80]!r}"
        )
    return None


# -- one project -----------------------------------------------------------------------------------
def sweep_project(
    name: str, source: str, scratch: str, limit: Optional[int], jobs: Optional[int],
    more: Optional[list[str]] = None,
) -> Report:
    report = Report(name)
    began = time.monotonic()
    copy = os.path.join(scratch, name)
    shutil.copytree(source, copy, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    extra = (["-j", str(jobs)] if jobs else []) + list(more or [])

    def violation(text: str) -> None:
        report.violations.append(text)

    targets = ["."]
    if limit is not None:
        # the files with applied fixes first, then the others, in a stable order
        probe = qsfix(["check", "--format", "json", "--unsafe", *extra, "."], copy)
        fixed = sorted({
            f["path"] for f in json.loads(probe.stdout or b"{}").get("findings", [])
            if f["fix"] and f["fix"]["applied"]
        }) if probe.returncode in (0, 1, 3) else []
        rest = [p for p in candidate_files(copy) if p not in set(fixed)]
        targets = (fixed + rest)[:limit] or ["."]

    check = qsfix(["check", "--format", "json", "--unsafe", *extra, *targets], copy)
    if check.returncode not in (0, 1, 3) or b"Traceback" in check.stderr:
        violation(f"check crashed (exit {check.returncode}): {tail(check.stderr)}")
        report.seconds = time.monotonic() - began
        return report
    try:
        data = json.loads(check.stdout)
    except ValueError:
        violation(f"check --format json printed no JSON: {tail(check.stdout)}")
        report.seconds = time.monotonic() - began
        return report
    findings = data["findings"]
    report.files = data["files"]["scanned"]
    report.active = sum(1 for f in findings if f["skip_reason"] is None)
    report.unsafe = sum(
        1 for f in findings if f["skip_reason"] is None and f["fix"] and f["fix"]["applicability"] == "unsafe"
    )
    report.skipped = sum(1 for f in findings if f["skip_reason"] is not None)
    applied: dict[str, list[tuple[int, int, str]]] = {}
    for f in findings:
        if f["fix"] and f["fix"]["applied"]:
            applied.setdefault(f["path"], []).append((f["line"], f["column"], f["code"]))
    check_failed = {f["path"]: f["error"] for f in data["files"]["failed"]}

    before = snapshot(copy)
    for path, error in sorted(check_failed.items()):
        original = before.get(os.path.normpath(path))
        why = compiles(original, path) if original is not None else "not a file"
        if why is None:
            violation(f"{path}: compiles, yet qsfix failed on it: {error}")
        else:
            report.unparsable.append(f"{path}: {error}")

    apply = qsfix(["apply", "--yes", "--unsafe", *extra, *targets], copy)
    after = snapshot(copy)
    if b"Traceback" in apply.stderr or apply.returncode not in (0, 3):
        violation(f"apply crashed (exit {apply.returncode}): {tail(apply.stderr)}")
    elif apply.returncode == 3 and not check_failed:
        violation(f"apply exited 3 without a failing input file: {tail(apply.stderr)}")
    elif apply.returncode == 0 and check_failed:
        violation("apply exited 0 although some files could not be read or parsed")
    apply_failed = error_paths(apply.stderr)
    if apply_failed != set(check_failed):
        violation(
            f"apply failed on {sorted(apply_failed)}, check on {sorted(check_failed)}: {tail(apply.stderr)}"
        )

    for rel in sorted(set(after) - set(before)):
        violation(f"{rel}: appeared during apply")
    for rel in sorted(set(before) - set(after)):
        violation(f"{rel}: vanished during apply")
    changed = sorted(rel for rel in before if rel in after and after[rel] != before[rel])
    report.changed = len(changed)
    if data["files"]["changed"] != len(changed):
        violation(f"check said {data['files']['changed']} files would change; apply changed {len(changed)}")
    applied_norm = {os.path.normpath(p): p for p in applied}
    for rel in changed:
        if not rel.endswith(".py") or rel not in applied_norm:
            violation(f"{rel}: changed without an applied finding")
            continue
        why = compiles(after[rel], rel)
        if why is not None:
            violation(f"{rel}: does not compile after apply: {why}")
            continue
        spans = finding_spans(before[rel], applied[applied_norm[rel]])
        report.violations.extend(hunk_violations(rel, before[rel], after[rel], spans))
    for rel, path in sorted(applied_norm.items()):
        if rel not in changed and path not in check_failed:
            violation(f"{path}: has applied fixes but did not change")

    again = qsfix(["diff", "--unsafe", *extra, *targets], copy)
    if b"Traceback" in again.stderr:
        violation(f"the second run crashed (exit {again.returncode}): {tail(again.stderr)}")
    elif again.stdout.strip() or again.returncode not in ((3,) if check_failed else (0,)):
        violation(f"not idempotent: a second run exits {again.returncode} with {len(again.stdout)} bytes of diff: {tail(again.stdout, 8)}")

    if changed:
        with tempfile.TemporaryDirectory(prefix="qsfix-pyc-") as pyc:
            compiled = subprocess.run(
                [sys.executable, "-m", "compileall", "-q", *changed],
                cwd=copy, capture_output=True, env={**os.environ, "PYTHONPYCACHEPREFIX": pyc},
                timeout=TIMEOUT,
            )
        if compiled.returncode != 0:
            violation(f"compileall failed: {tail(compiled.stdout + compiled.stderr)}")
    report.seconds = time.monotonic() - began
    return report


# -- the table -----------------------------------------------------------------------------------
COLUMNS = ("project", "files", "active", "unsafe", "skipped", "changed", "unparsable", "failures", "seconds")


def print_table(reports: list[Report]) -> None:
    rows = [COLUMNS] + [
        (r.name, str(r.files), str(r.active), str(r.unsafe), str(r.skipped), str(r.changed),
         str(len(r.unparsable)), str(len(r.violations)), f"{r.seconds:.1f}")
        for r in reports
    ]
    if len(reports) > 1:
        rows.append((
            "total", *(str(sum(getattr(r, k) for r in reports)) for k in ("files", "active", "unsafe", "skipped", "changed")),
            str(sum(len(r.unparsable) for r in reports)), str(sum(len(r.violations) for r in reports)),
            f"{sum(r.seconds for r in reports):.1f}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    for r in reports:
        for line in r.unparsable:
            print(f"{r.name}: unparsable input (not a failure): {line}")
    for r in reports:
        for line in r.violations:
            print(f"{r.name}: FAILURE: {line}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "corpus", nargs="?",
        default=os.environ.get("QSFIX_CORPUS", os.path.expanduser("~/.cache/qsfix-corpus")),
    )
    parser.add_argument("--projects", help="comma-separated sub-folders of CORPUS_DIR")
    parser.add_argument("--files", type=int, default=None, metavar="N", help="at most N files per project")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="passed on to qsfix")
    parser.add_argument(
        "--qsfix-arg", action="append", default=[], metavar="ARG",
        help="one more argument for every qsfix run, e.g. --qsfix-arg=--all-views (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    args = parser.parse_args(argv)

    corpus = os.path.abspath(args.corpus)
    if not os.path.isdir(corpus):
        parser.error(f"no such folder: {corpus}")
    if args.projects:
        names = [p.strip() for p in args.projects.split(",") if p.strip()]
        missing = [p for p in names if not os.path.isdir(os.path.join(corpus, p))]
        if missing:
            parser.error(f"not in {corpus}: {', '.join(missing)}")
        projects = [(p, os.path.join(corpus, p)) for p in names]
    else:
        projects = [(p, os.path.join(corpus, p)) for p in KNOWN_PROJECTS if os.path.isdir(os.path.join(corpus, p))]
        projects = projects or [(os.path.basename(corpus) or "project", corpus)]

    scratch = tempfile.mkdtemp(prefix="qsfix-sweep-")
    began = time.monotonic()
    reports = []
    try:
        for name, source in projects:
            print(f"sweeping {name} ...", file=sys.stderr, flush=True)
            reports.append(sweep_project(name, source, scratch, args.files, args.jobs, args.qsfix_arg))
    finally:
        if args.keep:
            print(f"scratch copies kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print_table(reports)
    print(f"{time.monotonic() - began:.1f}s in all")
    return 1 if any(r.violations for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
