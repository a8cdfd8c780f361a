"""Robustness (issue 7): qsfix never crashes, never writes broken code, never damages a file.

- bad input: each gives one error line naming the file and the cause, the other files are
  still processed, and nothing else changes;
- symlinks are never followed out of the tree nor written through;
- a write that fails (read-only folder, full disk) or is interrupted leaves the original intact;
- SIGINT/SIGTERM during `apply` leaves every file old or new, never half-written;
- security: the code read is never imported or run, nothing outside the given paths is written,
  and odd file names come out right in text, diff and JSON;
- a small version of scripts/sweep.py runs over tests/data/sweep.

Most tests run qsfix as a process, as users do. The write-failure tests run it in-process and
simulate the OS refusing (CI runs as root, where chmod does not stop a write).
test_files.py covers the file layer (discovery, reading, atomic_write) function by function.
"""

from __future__ import annotations

import base64
import errno
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
import codemods.files
from codemods.base import EXAMPLE_MODELS
from tests.helpers import REPO

# -I: the project under test is the working folder and must not shadow `cli` or a library
QSFIX = [sys.executable, "-I", "-c", "import cli; cli.main()"]
CACHE_DIR = ".qsfix_cache"  # written at the project root by design; never a source file

# the same small project as the CLI tests
from tests.test_cli import COUNT_X, LEN_X, SERVICES, SERVICES_FIXED  # noqa: E402


# -- helpers -------------------------------------------------------------------------------------
def make_project(root: Path, files: dict[str, bytes | str] | None = None) -> Path:
    """A Django project: manage.py, shop/models.py (the pass examples' models),
    shop/services.py with one QS002 fix, and `files` (bytes are written as they are)."""
    base: dict[str, bytes | str] = {
        "manage.py": "",  # marks the project root: the index reads the whole project
        "shop/__init__.py": "",
        "shop/models.py": EXAMPLE_MODELS,
        "shop/services.py": SERVICES,
    }
    for rel, data in {**base, **(files or {})}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        path.write_bytes(data)
    return root


def run(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        QSFIX + list(args), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout
    )


def stderr_of(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.decode("utf-8", "replace")


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below `root` (a symlink: where it points), qsfix's cache left out."""
    files = {}
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != CACHE_DIR]
        for name in dirnames + filenames:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                files[rel] = b"-> " + os.fsencode(os.readlink(full))
            elif name in filenames:
                with open(full, "rb") as handle:
                    files[rel] = handle.read()
    return files


def changed_files(before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, bytes]:
    """What differs: changed or new files with their new content, vanished ones as b"<gone>"."""
    out = {rel: data for rel, data in after.items() if before.get(rel) != data}
    out.update({rel: b"<gone>" for rel in before if rel not in after})
    return out


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".qsfix-*"))


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text, text[-3000:]


# -- bad input: one error line naming the file and the cause; the others processed ----------------
BAD_INPUTS = {
    "syntax-error": (b"x = 1\n\ndef broken(:\n    pass\n", "shop/bad.py:3:", "syntax error"),
    "python2-print": (b'print "hello"\n', "shop/bad.py:1:", "Missing parentheses in call to 'print'"),
    "python2-except": (
        b"try:\n    pass\nexcept Exception, e:\n    pass\n", "shop/bad.py:3:", "syntax error"
    ),
    "python2-octal": (b"MODE = 0755\n", "shop/bad.py:1:", "leading zeros"),
    "python2-backticks": (b"x = `1`\n", "shop/bad.py:1:", "syntax error"),
    "undecodable-bytes": (b"x = '\xff'\n", "shop/bad.py", "can't decode byte 0xff"),
    "cookie-ascii-but-utf8": ('# -*- coding: ascii -*-\nx = "café"\n'.encode(), "shop/bad.py", "'ascii' codec can't decode"),
    "cookie-unknown": (b"# -*- coding: klingon -*-\nx = 1\n", "shop/bad.py", "unknown encoding: klingon"),
    "bom-and-latin1-cookie": (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", "shop/bad.py", "with BOM"),
    "utf16": ("x = 1\n".encode("utf-16"), "shop/bad.py", "NUL"),
    "nul-byte": (b"x = 1\x00\n", "shop/bad.py", "NUL bytes"),
    "binary": (bytes(range(256)) * 4, "shop/bad.py", "NUL bytes"),
    "tabs-and-spaces": (b"if True:\n\tx = 1\n        y = 2\n", "shop/bad.py:3:", "inconsistent use of tabs and spaces"),
    "deep-parentheses": (b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n", "shop/bad.py:1:", "too many nested parentheses"),
    "deep-brackets": (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "shop/bad.py:1:", "too many nested parentheses"),
}


def assert_one_error(text: str, where: str, cause: str) -> str:
    errors = error_lines(text)
    assert len(errors) == 1, text
    line = errors[0]
    assert line.startswith(f"error: {where}"), line
    assert cause in line, line
    return line


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_is_one_error_line_and_the_other_files_are_still_rewritten(tmp_path, name):
    data, where, cause = BAD_INPUTS[name]
    make_project(tmp_path, {"shop/bad.py": data})
    before = snapshot(tmp_path)

    check = run(tmp_path, "check", "--format", "json", "-j", "1")
    assert check.returncode == 3, stderr_of(check)
    report = json.loads(check.stdout)
    assert len(report["files"]["failed"]) == 1
    failed = report["files"]["failed"][0]
    assert failed["path"] == "shop/bad.py"
    assert "\n" not in failed["error"] and failed["error"].startswith(where) and cause in failed["error"], failed
    assert [(f["path"], f["code"]) for f in report["findings"]] == [("shop/services.py", "QS002")]

    apply = run(tmp_path, "apply", "--yes", "-j", "1")
    assert apply.returncode == 3, stderr_of(apply)
    assert_no_traceback(stderr_of(apply))
    assert_one_error(stderr_of(apply), where, cause)
    assert changed_files(before, snapshot(tmp_path)) == {"shop/services.py": SERVICES_FIXED.encode()}
    assert leftovers(tmp_path) == []


def test_every_bad_input_at_once_in_parallel(tmp_path):
    # 40+ files: the engine uses worker processes; one error line per bad file, nothing else
    files: dict[str, bytes | str] = {f"shop/bad_{n.replace('-', '_')}.py": d for n, (d, _, _) in BAD_INPUTS.items()}
    files.update({f"shop/ok_{i:02}.py": SERVICES for i in range(40)})
    make_project(tmp_path, files)
    before = snapshot(tmp_path)
    apply = run(tmp_path, "apply", "--yes", "-j", "2")
    text = stderr_of(apply)
    assert apply.returncode == 3, text
    assert_no_traceback(text)
    errors = error_lines(text)
    assert len(errors) == len(BAD_INPUTS), text
    for name, (_, where, cause) in BAD_INPUTS.items():
        path = f"shop/bad_{name.replace('-', '_')}.py"
        [line] = [e for e in errors if e.startswith(f"error: {path}")]
        assert cause in line, line
    expected = {f"shop/ok_{i:02}.py": SERVICES_FIXED.encode() for i in range(40)}
    expected["shop/services.py"] = SERVICES_FIXED.encode()
    assert changed_files(before, snapshot(tmp_path)) == expected


HARMLESS_INPUTS = {
    "empty": b"",
    "newline-only": b"\n",
    "bom-only": b"\xef\xbb\xbf",
    "comment-without-newline": b"# nothing here",
    "crlf-blank-lines": b"\r\n\r\n",
    "lone-cr-line-ends": b"x = 1\ry = 2\r",
    "form-feed": b"\x0c\nx = 1\n",
}


@pytest.mark.parametrize("name", list(HARMLESS_INPUTS))
def test_odd_but_valid_files_are_not_errors_and_stay_untouched(tmp_path, name):
    make_project(tmp_path, {"shop/odd.py": HARMLESS_INPUTS[name]})
    before = snapshot(tmp_path)
    apply = run(tmp_path, "apply", "--yes", "-j", "1")
    assert apply.returncode == 0, stderr_of(apply)
    assert error_lines(stderr_of(apply)) == []
    assert changed_files(before, snapshot(tmp_path)) == {"shop/services.py": SERVICES_FIXED.encode()}


@pytest.mark.parametrize("where", ["comment", "string"])
def test_latin1_bytes_without_a_cookie_are_processed_or_one_error_line(tmp_path, where):
    # CPython compiles invalid UTF-8 inside a comment (PEP 3120 says it is not Python 3)
    line = b"# caf\xe9\n" if where == "comment" else b"X = 'caf\xe9'\n"
    make_project(tmp_path, {"shop/odd.py": line + SERVICES.encode()})
    before = snapshot(tmp_path)
    apply = run(tmp_path, "apply", "--yes", "-j", "1")
    text = stderr_of(apply)
    assert_no_traceback(text)
    changed = changed_files(before, snapshot(tmp_path))
    assert changed.pop("shop/services.py") == SERVICES_FIXED.encode()
    if apply.returncode == 3:
        assert_one_error(text, "shop/odd.py", "decode")
        assert changed == {}
    else:
        assert apply.returncode == 0, text
        assert changed == {"shop/odd.py": line + SERVICES_FIXED.encode()}


def test_a_file_deleted_after_the_walk_and_before_it_is_read(tmp_path, monkeypatch):
    make_project(tmp_path, {"shop/gone.py": SERVICES})
    real_discover = cli.engine.discover

    def discover_then_delete(*args, **kwargs):
        yield from real_discover(*args, **kwargs)
        if (tmp_path / "shop/gone.py").exists():
            (tmp_path / "shop/gone.py").unlink()

    monkeypatch.setattr(cli.engine, "discover", discover_then_delete)
    monkeypatch.chdir(tmp_path)
    result = invoke("apply", "--yes")
    assert result.exit_code == 3, result.output
    assert_one_error(result.stderr, "shop/gone.py", "no such file")
    assert not (tmp_path / "shop/gone.py").exists()
    assert (tmp_path / "shop/services.py").read_text() == SERVICES_FIXED


# -- deep nesting: parses, but may exhaust the recursion limit of whoever walks it ---------------
def _deep(shape: str, depth: int) -> str:
    chain = "Order.objects" + ".filter(status='x')" * depth
    body = {
        "method-chain-in-if": f"    if {chain}:\n        return 1\n",
        "method-chain-in-len": f"    return len({chain})\n",
        "not-not-not": f"    return {'not ' * depth}Order.objects.filter(status='x')\n",
        "binop-next-to-a-fix": f"    y = {' + '.join(['1'] * depth)}\n    return len(Order.objects.filter(status='x'))\n",
        "implicit-concatenation-next-to-a-fix": (
            f"    y = ({' '.join([repr('a')] * depth)})\n    return len(Order.objects.filter(status='x'))\n"
        ),
        "lambdas-next-to-a-fix": f"    y = {'lambda: ' * depth}1\n    return len(Order.objects.filter(status='x'))\n",
        "subscripts-next-to-a-fix": f"    y = x{'[0]' * depth}\n    return len(Order.objects.filter(status='x'))\n",
        "nested-calls-next-to-a-fix": f"    y = {'f(' * 190}1{')' * 190}\n    return len(Order.objects.filter(status='x'))\n",
    }[shape]
    return f"from shop.models import Order\n\n\ndef g(x, f):\n{body}"


DEEP_CASES = [
    ("method-chain-in-if", 150),
    ("method-chain-in-if", 300),
    ("method-chain-in-if", 1000),
    ("method-chain-in-if", 5000),
    ("method-chain-in-len", 300),
    ("not-not-not", 300),
    ("not-not-not", 3000),
    ("binop-next-to-a-fix", 800),
    ("binop-next-to-a-fix", 5000),
    ("implicit-concatenation-next-to-a-fix", 800),
    ("lambdas-next-to-a-fix", 800),
    ("subscripts-next-to-a-fix", 800),
    ("nested-calls-next-to-a-fix", 190),
]


@pytest.mark.slow
@pytest.mark.parametrize(("shape", "depth"), DEEP_CASES, ids=[f"{s}-{d}" for s, d in DEEP_CASES])
def test_deeply_nested_code_is_processed_or_one_error_line_never_a_crash(tmp_path, shape, depth):
    # valid syntax, however deep (the deepest ones exceed what CPython's compiler takes)
    source = _deep(shape, depth).encode()
    make_project(tmp_path, {"shop/deep.py": source})
    before = snapshot(tmp_path)
    apply = run(tmp_path, "apply", "--yes", "-j", "1")
    text = stderr_of(apply)
    assert_no_traceback(text)
    assert apply.returncode in (0, 3), text
    errors = error_lines(text)
    assert len(errors) == (1 if apply.returncode == 3 else 0), text
    if errors:
        assert errors[0].startswith("error: shop/deep.py: "), errors
    changed = changed_files(before, snapshot(tmp_path))
    assert changed.pop("shop/services.py") == SERVICES_FIXED.encode()
    assert set(changed) <= {"shop/deep.py"}
    if changed:  # rewritten: it compiles and a second run leaves it alone
        assert not errors
        compile(changed["shop/deep.py"], "deep.py", "exec")
        again = run(tmp_path, "diff", "-j", "1")
        assert again.returncode == 0 and again.stdout == b"", stderr_of(again)


# -- a 10 MB generated file ------------------------------------------------------------------------
def generated_assets(size: int = 10_000_000) -> bytes:
    """A generated module: 1000 base64 assets of 10 kB, and two QuerySet sites."""
    blob = base64.b64encode(bytes(range(256)) * 30).decode()[:10_000]
    head = (
        '"""Generated by assets-compiler. Do not edit."""\n'
        "from shop.models import Order\n\n\n"
        f"def first():\n    return {LEN_X}\n\n\n"
    )
    parts = [head]
    total = len(head)
    number = 0
    while total < size:
        line = f'ASSET_{number} = "{blob}"\n'
        parts.append(line)
        total += len(line)
        number += 1
    parts.append('\n\ndef last():\n    if Order.objects.filter(status="b"):\n        return 1\n')
    return "".join(parts).encode()


@pytest.mark.slow
def test_a_10_mb_generated_file_is_rewritten_exactly(tmp_path):
    data = generated_assets()
    assert len(data) >= 10_000_000
    expected = data.replace(LEN_X.encode(), COUNT_X.encode()).replace(
        b'if Order.objects.filter(status="b"):', b'if Order.objects.filter(status="b").exists():'
    )
    make_project(tmp_path, {"shop/assets.py": data})
    before = snapshot(tmp_path)
    # how fast is the benchmark script's to say (a shared machine makes a timed test flaky)
    apply = run(tmp_path, "apply", "--yes", "-j", "1", "--no-cache", timeout=600)
    assert apply.returncode == 0, stderr_of(apply)
    assert changed_files(before, snapshot(tmp_path)) == {
        "shop/assets.py": expected,
        "shop/services.py": SERVICES_FIXED.encode(),
    }


@pytest.mark.slow
def test_a_10_mb_data_module_without_querysets_is_left_alone(tmp_path):
    data = generated_assets().replace(b"from shop.models import Order\n", b"").split(b"\n\ndef last")[0]
    data = data.replace(f"def first():\n    return {LEN_X}\n".encode(), b"")
    make_project(tmp_path, {"shop/assets.py": data + b"\n"})
    before = snapshot(tmp_path)
    # how fast is the benchmark script's to say (a shared machine makes a timed test flaky)
    apply = run(tmp_path, "apply", "--yes", "-j", "1", "--no-cache", timeout=600)
    assert apply.returncode == 0, stderr_of(apply)
    assert changed_files(before, snapshot(tmp_path)) == {"shop/services.py": SERVICES_FIXED.encode()}


# -- symlinks: never followed out of the tree, never written through ------------------------------
@pytest.fixture
def linked(tmp_path):
    """project/ with links out to outside/ (which has fixable code of its own) and loops."""
    outside = make_project(tmp_path / "outside", {"lib/__init__.py": "", "lib/more.py": SERVICES})
    project = make_project(tmp_path / "project")
    shop = project / "shop"
    (shop / "linked_file.py").symlink_to(outside / "shop" / "services.py")
    (shop / "linked_dir").symlink_to(outside / "lib", target_is_directory=True)
    (shop / "loop_dir").symlink_to(project, target_is_directory=True)
    (shop / "loop_a.py").symlink_to(shop / "loop_b.py")
    (shop / "loop_b.py").symlink_to(shop / "loop_a.py")
    (shop / "self.py").symlink_to(shop / "self.py")
    return types.SimpleNamespace(root=tmp_path, project=project, outside=outside, before=snapshot(tmp_path))


def test_walking_never_follows_a_symlink_out_of_the_tree(linked):
    apply = run(linked.project, "apply", "--yes", "-j", "1", timeout=60)
    assert apply.returncode == 0, stderr_of(apply)
    assert changed_files(linked.before, snapshot(linked.root)) == {
        "project/shop/services.py": SERVICES_FIXED.encode()
    }
    assert "scanned" in stderr_of(apply)


def test_a_symlinked_file_named_explicitly_is_read_but_never_written_through(linked):
    apply = run(linked.project, "apply", "--yes", "-j", "1", "shop/services.py", "shop/linked_file.py")
    assert apply.returncode == 3
    assert_one_error(stderr_of(apply), "shop/linked_file.py", "symlink")
    assert changed_files(linked.before, snapshot(linked.root)) == {
        "project/shop/services.py": SERVICES_FIXED.encode()
    }


def test_a_symlinked_folder_named_explicitly_is_never_written_through(linked):
    # `shop/linked_dir` is inside the project as a name, but its files live in outside/lib:
    # writing them would write through the link, outside the tree the user pointed at
    apply = run(linked.project, "apply", "--yes", "-j", "1", "shop/services.py", "shop/linked_dir")
    assert_no_traceback(stderr_of(apply))
    assert changed_files(linked.before, snapshot(linked.root)) == {
        "project/shop/services.py": SERVICES_FIXED.encode()
    }


def test_a_file_below_a_symlinked_folder_named_explicitly_is_never_written_through(linked):
    apply = run(linked.project, "apply", "--yes", "-j", "1", "shop/services.py", "shop/linked_dir/more.py")
    assert_no_traceback(stderr_of(apply))
    assert changed_files(linked.before, snapshot(linked.root)) == {
        "project/shop/services.py": SERVICES_FIXED.encode()
    }


def test_a_symlink_loop_named_explicitly_is_one_error(linked):
    # the link exists (it is no usage error to name it); reading it fails with ELOOP
    apply = run(linked.project, "apply", "--yes", "-j", "1", "shop/services.py", "shop/loop_a.py", timeout=60)
    assert apply.returncode == 3, stderr_of(apply)
    assert_one_error(stderr_of(apply), "shop/loop_a.py", "symbolic links")
    assert changed_files(linked.before, snapshot(linked.root)) == {
        "project/shop/services.py": SERVICES_FIXED.encode()
    }


def test_a_folder_symlink_loop_named_explicitly_terminates(linked):
    apply = run(linked.project, "apply", "--yes", "-j", "1", "shop/loop_dir", timeout=60)
    assert_no_traceback(stderr_of(apply))
    # nothing is written through the link (it points back at the project)
    assert changed_files(linked.before, snapshot(linked.root)) == {}


# -- a write that fails or is interrupted: the original survives, no temporary file is left --------
FIVE = {f"shop/{name}.py": SERVICES for name in "abcde"}


@pytest.fixture
def five(tmp_path, monkeypatch):
    """Five files to rewrite; qsfix runs in-process (so the OS can be made to refuse)."""
    make_project(tmp_path, FIVE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli.main, [*args, "-j", "1", "--no-cache"], input=input)


def fake_os(**overrides) -> types.SimpleNamespace:
    """`os` with some functions replaced, for codemods.files only."""
    namespace = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    for key, value in overrides.items():
        setattr(namespace, key, value)
    return namespace


def refuse_for(target: str, exc: BaseException, real):
    """`real`, raising `exc` when called for a path in `target`'s folder or `target` itself."""

    def fake(*args, **kwargs):
        where = " ".join(str(a) for a in args) + " " + " ".join(str(v) for v in kwargs.values())
        if target in where:
            raise exc
        return real(*args, **kwargs)

    return fake


def assert_written_except(root: Path, failed: set[str], text: str) -> None:
    for rel in FIVE:
        expected = SERVICES if rel in failed else SERVICES_FIXED
        assert (root / rel).read_text() == expected, rel
    assert (root / "shop/services.py").read_text() == SERVICES_FIXED
    assert leftovers(root) == []
    assert_no_traceback(text)


def test_read_only_folder_no_temporary_file_can_be_made(five, monkeypatch):
    # a read-only folder: mkstemp in it fails with EACCES
    locked = five / "shop" / "locked"
    make_project(five, {"shop/locked/__init__.py": "", "shop/locked/views.py": SERVICES})
    real = codemods.files.tempfile.mkstemp
    fake_tempfile = types.SimpleNamespace(
        mkstemp=refuse_for(str(locked), PermissionError(errno.EACCES, "Permission denied"), real)
    )
    monkeypatch.setattr(codemods.files, "tempfile", fake_tempfile)
    result = invoke("apply", "--yes")
    assert result.exit_code == 3, result.output
    line = assert_one_error(result.stderr, "shop/locked/views.py", "Permission denied")
    assert "cannot write" in line
    assert (locked / "views.py").read_text() == SERVICES
    assert_written_except(five, set(), result.stderr)


def test_read_only_folder_rename_refused(five, monkeypatch):
    target = str(five / "shop" / "c.py")
    monkeypatch.setattr(
        codemods.files, "os",
        fake_os(replace=refuse_for(target, PermissionError(errno.EACCES, "Permission denied"), os.replace)),
    )
    result = invoke("apply", "--yes")
    assert result.exit_code == 3, result.output
    assert_one_error(result.stderr, "shop/c.py", "Permission denied")
    assert_written_except(five, {"shop/c.py"}, result.stderr)


class _FullDisk:
    """A file object that takes half of what is written, then fails as a full disk does."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()
        return False

    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.handle, name)


def test_disk_full_while_writing(five, monkeypatch):
    real_fdopen = os.fdopen
    calls = []

    def fdopen(fd, *args, **kwargs):
        calls.append(fd)
        handle = real_fdopen(fd, *args, **kwargs)
        return _FullDisk(handle) if len(calls) == 3 else handle  # the third file: c.py

    monkeypatch.setattr(codemods.files, "os", fake_os(fdopen=fdopen))
    result = invoke("apply", "--yes")
    assert result.exit_code == 3, result.output
    assert_one_error(result.stderr, "shop/c.py", "No space left on device")
    assert_written_except(five, {"shop/c.py"}, result.stderr)


def test_disk_full_at_fsync(five, monkeypatch):
    target_fd = []
    real_mkstemp = codemods.files.tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        target_fd.append(fd)
        return fd, name

    def fsync(fd):
        if len(target_fd) == 2:  # b.py
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.fsync(fd)

    monkeypatch.setattr(codemods.files, "tempfile", types.SimpleNamespace(mkstemp=mkstemp))
    monkeypatch.setattr(codemods.files, "os", fake_os(fsync=fsync))
    result = invoke("apply", "--yes")
    assert result.exit_code == 3, result.output
    assert_one_error(result.stderr, "shop/b.py", "No space left on device")
    assert_written_except(five, {"shop/b.py"}, result.stderr)


@pytest.mark.parametrize("where", ["write", "replace"])
def test_interrupted_write_leaves_the_original_intact(five, monkeypatch, where):
    # Ctrl-C in the middle of writing c.py: a and b are new, c, d and e old, nothing half-done
    count = {"n": 0}
    real_fdopen, real_replace = os.fdopen, os.replace

    class Interrupting(_FullDisk):
        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise KeyboardInterrupt

    def fdopen(fd, *args, **kwargs):
        count["n"] += 1
        handle = real_fdopen(fd, *args, **kwargs)
        return Interrupting(handle) if where == "write" and count["n"] == 3 else handle

    def replace(src, dst):
        if where == "replace" and dst.endswith(os.sep + "c.py"):
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(codemods.files, "os", fake_os(fdopen=fdopen, replace=replace))
    result = invoke("apply", "--yes")
    assert result.exit_code != 0
    for rel in FIVE:
        expected = SERVICES_FIXED if rel in ("shop/a.py", "shop/b.py") else SERVICES
        assert (five / rel).read_text() == expected, rel
    assert leftovers(five) == []


# -- the file changes between the preview and the write ---------------------------------------------
@pytest.fixture
def interactive(monkeypatch):
    monkeypatch.setattr(cli, "_stdin_is_interactive", lambda: True)


def test_file_edited_while_the_user_reads_the_diff_is_not_overwritten(five, monkeypatch, interactive):
    def confirm(*args, **kwargs):
        (five / "shop/c.py").write_text(SERVICES + "# edited while the diff was shown\n")
        return True

    monkeypatch.setattr(cli.click, "confirm", confirm)
    result = invoke("apply")
    assert result.exit_code == 3, result.output
    assert_one_error(result.stderr, "shop/c.py", "changed since it was read")
    assert (five / "shop/c.py").read_text() == SERVICES + "# edited while the diff was shown\n"
    for rel in set(FIVE) - {"shop/c.py"}:
        assert (five / rel).read_text() == SERVICES_FIXED
    assert leftovers(five) == []


def test_file_deleted_while_the_user_reads_the_diff_is_not_recreated(five, monkeypatch, interactive):
    def confirm(*args, **kwargs):
        (five / "shop/d.py").unlink()
        return True

    monkeypatch.setattr(cli.click, "confirm", confirm)
    result = invoke("apply")
    assert result.exit_code == 3, result.output
    assert_one_error(result.stderr, "shop/d.py", "No such file")
    assert not (five / "shop/d.py").exists()
    for rel in set(FIVE) - {"shop/d.py"}:
        assert (five / rel).read_text() == SERVICES_FIXED
    assert leftovers(five) == []


def test_file_replaced_by_a_symlink_while_the_user_reads_the_diff(five, monkeypatch, interactive):
    elsewhere = five / "elsewhere.txt"  # not a .py file: not part of the run
    elsewhere.write_text(SERVICES)

    def confirm(*args, **kwargs):
        (five / "shop/e.py").unlink()
        (five / "shop/e.py").symlink_to(elsewhere)
        return True

    monkeypatch.setattr(cli.click, "confirm", confirm)
    result = invoke("apply")
    assert result.exit_code == 3, result.output
    assert_one_error(result.stderr, "shop/e.py", "symlink")
    assert elsewhere.read_text() == SERVICES
    assert (five / "shop/e.py").is_symlink()


def test_file_edited_during_interactive_review_is_not_overwritten(five, monkeypatch, interactive):
    answers = iter(["y", "a"])

    def prompt(*args, **kwargs):
        answer = next(answers)
        if answer == "a":
            (five / "shop/e.py").write_text(SERVICES + "# edited during the review\n")
        return answer

    monkeypatch.setattr(cli.click, "prompt", prompt)
    result = invoke("apply", "--interactive")
    assert result.exit_code == 3, result.output
    assert_one_error(result.stderr, "shop/e.py", "changed since it was read")
    assert (five / "shop/e.py").read_text() == SERVICES + "# edited during the review\n"
    assert (five / "shop/a.py").read_text() == SERVICES_FIXED
    assert leftovers(five) == []


# -- signals: every file is old or new, never half-written, no temporary file left ----------------
MANY = 300


def many_files_project(root: Path) -> Path:
    body = "".join(
        f"\n\ndef f{i}(customer):\n"
        f"    # helper {i}\n"
        f"    if Order.objects.filter(customer=customer, status='s{i}'):\n"
        f"        return {LEN_X}\n"
        f"    return 0\n"
        for i in range(8)
    )
    files = {f"shop/m{n:03}.py": "from shop.models import Order\n" + body for n in range(MANY)}
    return make_project(root, files)


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    base = tmp_path_factory.mktemp("many")
    pristine = many_files_project(base / "pristine")
    done = base / "done"
    shutil.copytree(pristine, done)
    proc = run(done, "apply", "--yes", "--no-cache", timeout=300)
    assert proc.returncode == 0, stderr_of(proc)
    old, new = snapshot(pristine), snapshot(done)
    assert sum(old[k] != new[k] for k in old) == MANY + 1
    return types.SimpleNamespace(base=base, pristine=pristine, old=old, new=new)


SLOW_DISK = (
    # every fsync takes 20 ms, so that a signal sent while files are written lands mid-write
    "import os, time; real = os.fsync; "
    "os.fsync = lambda fd: (time.sleep(0.02), real(fd))[1]; "
    "import cli; cli.main()"
)


def _interrupt(many, name: str, signum: int, when: str, jobs: str, slow: bool):
    work = many.base / name
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(many.pristine, work)
    code = SLOW_DISK if slow else "import cli; cli.main()"
    log = many.base / f"{name}.stderr"
    with open(log, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", code, "apply", "--yes", "--no-cache", "-j", jobs],
            cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True,
        )
    outlived = False
    try:
        if when.startswith("after:"):
            time.sleep(float(when.split(":")[1]))
        else:  # "written:N": as soon as the N-th file is new
            watched = work / f"shop/m{int(when.split(':')[1]):03}.py"
            original = many.old[str(watched.relative_to(work))]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if watched.read_bytes() != original:
                        break
                except OSError:
                    pass
                time.sleep(0.001)
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)  # Ctrl-C: the terminal signals the whole group
        else:
            os.kill(proc.pid, signum)  # `kill PID`
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"qsfix did not stop within 60 s of {signal.Signals(signum).name}")
        # nothing it started may outlive it (worker processes hold the project in memory)
        deadline = time.monotonic() + 10
        while True:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            if time.monotonic() > deadline:
                outlived = True
                break
            time.sleep(0.05)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            proc.wait()
    return work, proc.returncode, log.read_bytes().decode("utf-8", "replace"), outlived


SIGNAL_CASES = [
    ("SIGINT", "after:0.5", "1", False),
    ("SIGINT", "written:0", "1", False),
    ("SIGINT", "written:150", "2", False),
    ("SIGINT", "after:1.5", "2", False),
    ("SIGINT", "written:10", "1", True),
    ("SIGTERM", "after:0.5", "1", False),
    ("SIGTERM", "written:0", "1", False),
    ("SIGTERM", "written:150", "2", False),
    ("SIGTERM", "after:1.5", "2", False),
    ("SIGTERM", "written:10", "1", True),
]


@pytest.mark.parametrize(
    ("signame", "when", "jobs", "slow"), SIGNAL_CASES,
    ids=[f"{s}-{w}-j{j}{'-slow-disk' if slow else ''}" for s, w, j, slow in SIGNAL_CASES],
)
@pytest.mark.slow
def test_a_signal_during_apply_leaves_every_file_old_or_new(many, signame, when, jobs, slow):
    signum = getattr(signal, signame)
    name = f"{signame}-{when.replace(':', '-')}-{jobs}-{slow}"
    work, status, stderr, outlived = _interrupt(many, name, signum, when, jobs, slow)
    after = snapshot(work)
    half = [rel for rel in after if rel in many.old and after[rel] not in (many.old[rel], many.new[rel])]
    assert half == [], half
    assert leftovers(work) == []
    assert set(after) == set(many.old), sorted(set(after) ^ set(many.old))
    if when.startswith("written:"):  # interrupted while writing: a message, not a traceback
        assert_no_traceback(stderr)
    written = sum(after[rel] != many.old[rel] for rel in after)
    if written < MANY + 1:  # it was interrupted: that is no success
        assert status != 0
    assert not outlived, "processes qsfix started outlived it"


# -- security: the code read is never imported or run ------------------------------------------------
def marker_code(markers: Path, name: str) -> str:
    return f"open({str(markers / name)!r}, 'w').close()\nimport os\nos.system('touch {markers / (name + '.sh')}')\n"


def qsfix_entry_point() -> list[str]:
    """The installed `qsfix` script when there is one (what users run), else `python -I -c`."""
    script = Path(sys.executable).with_name("qsfix")
    return [str(script)] if script.exists() else QSFIX


@pytest.mark.slow
def test_the_code_read_is_never_imported_or_run(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    project = tmp_path / "project"
    names = [
        "shop/__init__.py", "conftest.py", "setup.py", "manage.py", "sitecustomize.py",
        "usercustomize.py", "__main__.py", "cli.py", "click.py", "rich/__init__.py",
        "libcst/__init__.py", "pathspec.py", "codemods/__init__.py", "codemods/engine.py",
        "shop/apps.py", "shop/settings.py", "shop/admin.py",
    ]
    files = {name: marker_code(markers, name.replace("/", "_")) for name in names}
    files["shop/models.py"] = marker_code(markers, "models") + EXAMPLE_MODELS
    files["shop/services.py"] = marker_code(markers, "services") + SERVICES
    files.update({f"shop/pad_{i:02}.py": marker_code(markers, f"pad{i}") + SERVICES for i in range(40)})
    make_project(project, files)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "evil"\nversion = "1"\n'
    )
    (project / "evil.pth").write_text(f"import os; os.system('touch {markers / 'pth'}')\n")
    for jobs in ("1", "2"):
        for args in (["check"], ["check", "--format", "json"], ["diff"], ["apply", "--yes"]):
            proc = subprocess.run(
                qsfix_entry_point() + args + ["-j", jobs, "--no-cache"], cwd=project,
                stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
            )
            assert proc.returncode in (0, 1), (args, stderr_of(proc))
            assert sorted(os.listdir(markers)) == [], (args, jobs)
    assert b"open(" in (project / "shop/services.py").read_bytes()
    assert COUNT_X in (project / "shop/services.py").read_text()


def test_a_cache_file_planted_in_the_repository_is_never_unpickled(tmp_path):
    # A cloned repository controls every file in it, `.qsfix_cache/` included: loading a
    # pickle from there runs whatever the repository's author put in it.
    markers = tmp_path / "markers"
    markers.mkdir()
    project = make_project(tmp_path / "project")
    (project / "pyproject.toml").write_text("[tool.qsfix]\n")
    first = run(project, "check")
    assert first.returncode == 1, stderr_of(first)
    planted = [p for p in (project / CACHE_DIR).rglob("*") if p.is_file() and p.name != ".gitignore"] if (
        project / CACHE_DIR
    ).exists() else []
    if not planted:  # wherever the cache lives, a repository can hold a file of that name
        planted = [project / CACHE_DIR / "cache.pickle"]
        planted[0].parent.mkdir(exist_ok=True)

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {markers / 'pwned'}",))

    import pickle

    for path in planted:
        path.write_bytes(pickle.dumps(Exploit()))
    for args in (["check"], ["diff"], ["apply", "--yes"]):
        proc = run(project, *args)
        assert_no_traceback(stderr_of(proc))
        assert not (markers / "pwned").exists(), f"`qsfix {' '.join(args)}` ran code from {planted}"


# -- security: nothing outside the given paths is written ---------------------------------------------
@pytest.fixture
def two_apps(tmp_path):
    project = make_project(
        tmp_path / "project",
        {"other/__init__.py": "", "other/services.py": SERVICES, "manage.py": "# a Django project\n"},
    )
    (tmp_path / "sibling.py").write_text(SERVICES)
    return types.SimpleNamespace(root=tmp_path, project=project, before=snapshot(tmp_path))


@pytest.mark.parametrize(
    ("cwd", "paths"),
    [
        ("project", ["shop"]),
        ("project", ["shop/../shop"]),
        ("project", ["./shop/services.py"]),
        ("project/other", ["../shop"]),
        ("project/other", ["../shop/services.py"]),
        ("project/shop", ["."]),
    ],
)
def test_only_the_given_paths_are_written(two_apps, cwd, paths):
    proc = run(two_apps.root / cwd, "apply", "--yes", "-j", "1", *paths)
    assert proc.returncode == 0, stderr_of(proc)
    assert changed_files(two_apps.before, snapshot(two_apps.root)) == {
        "project/shop/services.py": SERVICES_FIXED.encode()
    }


# -- file names: spaces, newlines, non-ASCII, brackets, bytes that are not UTF-8 ------------------------
# `:thumbs_up:` is an emoji code rich would have replaced
ODD_NAMES = ["shop/nightly report.py", "shop/café.py", "shop/[draft] v2.py", "shop/[/red] x.py", "shop/ok:thumbs_up:.py"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_file_names_in_text_json_and_diff(tmp_path, name):
    project = make_project(tmp_path / "src", {name: SERVICES})
    check = run(project, "check", "-j", "1")
    assert check.returncode == 1, stderr_of(check)
    lines = check.stdout.decode().splitlines()
    message = f"QS002 `{LEN_X}` fetches every row to count them; use `.count()`"
    assert f"{name}:5:12: {message}" in lines

    data = json.loads(run(project, "check", "--format", "json", "-j", "1").stdout)
    assert sorted(f["path"] for f in data["findings"]) == sorted([name, "shop/services.py"])
    changes = json.loads(run(project, "diff", "--format", "json", "-j", "1").stdout)["changes"]
    assert sorted(c["path"] for c in changes) == sorted([name, "shop/services.py"])

    diff = run(project, "diff", "-j", "1")
    assert diff.returncode == 1
    patch = tmp_path / "x.patch"
    patch.write_bytes(diff.stdout)
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "src", copy)
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    git = subprocess.run(["git", "apply", str(patch)], cwd=copy, capture_output=True, env=env)
    assert git.returncode == 0, git.stderr
    assert (copy / name).read_text() == SERVICES_FIXED

    apply = run(project, "apply", "--yes", "-j", "1")
    assert apply.returncode == 0, stderr_of(apply)
    assert (project / name).read_text() == SERVICES_FIXED


@pytest.mark.parametrize("name", ["shop/[/red] x.py", "shop/[bold]loud[/bold].py", "shop/[draft].py"])
def test_file_names_that_look_like_markup_in_error_lines(tmp_path, name):
    project = make_project(tmp_path, {name: b"def broken(:\n"})
    proc = run(project, "check", "-j", "1")
    text = stderr_of(proc)
    assert proc.returncode == 3, text
    assert_no_traceback(text)
    assert_one_error(text, f"{name}:1:", "syntax error")


def test_a_newline_in_a_file_name_keeps_one_finding_per_line(tmp_path):
    name = "shop/line\nbreak.py"
    project = make_project(tmp_path, {name: SERVICES})
    check = run(project, "check", "-j", "1")
    assert check.returncode == 1, stderr_of(check)
    lines = check.stdout.decode().splitlines()
    assert len(lines) == 2, lines  # two findings: two lines, whatever the names hold
    assert all(re.match(r".+:\d+:\d+: QS002 ", line) for line in lines), lines

    data = json.loads(run(project, "check", "--format", "json", "-j", "1").stdout)
    assert sorted(f["path"] for f in data["findings"]) == sorted([name, "shop/services.py"])

    apply = run(project, "apply", "--yes", "-j", "1")
    assert apply.returncode == 0, stderr_of(apply)
    assert (project / name).read_text() == SERVICES_FIXED


def test_a_newline_in_a_file_name_keeps_one_error_per_line(tmp_path):
    project = make_project(tmp_path, {"shop/line\nbreak.py": b"def broken(:\n"})
    proc = run(project, "check", "-j", "1")
    text = stderr_of(proc)
    assert proc.returncode == 3, text
    assert_no_traceback(text)
    # one error line and the summary: the name's newline must not start a line of its own
    assert len(text.splitlines()) == 2, text
    assert_one_error(text, "shop/line", "syntax error")


def test_a_newline_in_a_file_name_gives_a_diff_git_applies(tmp_path):
    name = "shop/line\nbreak.py"
    make_project(tmp_path / "src", {name: SERVICES})
    shutil.copytree(tmp_path / "src", tmp_path / "copy")
    diff = run(tmp_path / "src", "diff", "-j", "1")
    assert diff.returncode == 1, stderr_of(diff)
    (tmp_path / "x.patch").write_bytes(diff.stdout)
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    git = subprocess.run(["git", "apply", str(tmp_path / "x.patch")], cwd=tmp_path / "copy", capture_output=True, env=env)
    assert git.returncode == 0, git.stderr
    assert (tmp_path / "copy" / name).read_text() == SERVICES_FIXED


def test_a_file_name_that_is_not_utf8(tmp_path):
    project = make_project(tmp_path)
    raw = os.fsencode(str(project / "shop")) + b"/caf\xe9.py"
    with open(raw, "wb") as handle:
        handle.write(SERVICES.encode())
    name = os.fsdecode(b"shop/caf\xe9.py")
    for args in (["check"], ["diff"], ["check", "--show-skipped"]):
        proc = run(project, *args, "-j", "1")
        assert_no_traceback(stderr_of(proc))
        assert proc.returncode == 1, (args, stderr_of(proc))
        assert b"shop/caf" in proc.stdout
    data = json.loads(run(project, "check", "--format", "json", "-j", "1").stdout)
    assert sorted(os.fsencode(f["path"]) for f in data["findings"]) == [b"shop/caf\xe9.py", b"shop/services.py"]
    assert name in [f["path"] for f in data["findings"]]
    apply = run(project, "apply", "--yes", "-j", "1")
    assert apply.returncode == 0, stderr_of(apply)
    with open(raw, "rb") as handle:
        assert handle.read() == SERVICES_FIXED.encode()


# -- the sweep, small: tests/data/sweep plus the encodings and a broken file --------------------------
SWEEP = REPO / "scripts" / "sweep.py"


def load_sweep():
    spec = importlib.util.spec_from_file_location("qsfix_sweep", SWEEP)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_sweep_over_the_small_corpus(tmp_path):
    corpus = tmp_path / "library"
    shutil.copytree(REPO / "tests" / "data" / "sweep", corpus)
    services = (corpus / "library" / "services.py").read_bytes()
    # the same code with CRLF line ends, and in latin-1 with a cookie
    (corpus / "library" / "services_crlf.py").write_bytes(services.replace(b"\n", b"\r\n"))
    (corpus / "library" / "services_latin1.py").write_bytes(
        b"# -*- coding: latin-1 -*-\n# caf\xe9 cr\xe8me\n" + services.replace(b"Lending rules", b"R\xe8gles")
    )
    (corpus / "legacy").mkdir()
    (corpus / "legacy" / "py2_report.py").write_bytes(b'print "report"\n')
    proc = subprocess.run(
        [sys.executable, str(SWEEP), str(corpus)], capture_output=True, timeout=300
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    header, row = out.splitlines()[:2]
    assert header.split() == ["project", "files", "active", "unsafe", "skipped", "changed", "unparsable", "failures", "seconds"]
    cells = row.split()
    figures = dict(zip(header.split(), cells))
    assert figures["project"] == "library"
    assert int(figures["files"]) >= 13
    assert int(figures["changed"]) >= 7
    assert int(figures["active"]) >= 30
    assert figures["unparsable"] == "1"
    assert figures["failures"] == "0"
    assert "legacy/py2_report.py" in out
    assert "FAILURE" not in out


@pytest.mark.slow
def test_sweep_with_a_file_limit(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SWEEP), str(REPO / "tests" / "data" / "sweep"), "--files", "3"],
        capture_output=True, timeout=300,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    figures = dict(zip(out.splitlines()[0].split(), out.splitlines()[1].split()))
    assert figures["files"] == "3"
    assert figures["changed"] == "3"  # the files with fixes are taken first


def test_sweep_hunk_check_accepts_rewrites_inside_the_span_and_flags_others():
    sweep = load_sweep()
    old = b"x = 1\nif qs:\n    pass\ny = (len(\n    qs\n) == 0)\n"
    spans = sweep.finding_spans(old, [(2, 4), (4, 6)])
    good = b"x = 1\nif qs.exists():\n    pass\ny = (not qs.exists())\n"
    assert sweep.hunk_violations("a.py", old, good, spans) == []
    outside_line = good.replace(b"x = 1", b"x = 2")
    assert [v.split(":")[1] for v in sweep.hunk_violations("a.py", old, outside_line, spans)] == ["1"]
    same_line_outside_span = b"x = 1\nwhile qs.exists():\n    pass\ny = (not qs.exists())\n"
    assert len(sweep.hunk_violations("a.py", old, same_line_outside_span, spans)) == 1
    crlf = old.replace(b"\n", b"\r\n")
    assert sweep.hunk_violations("a.py", crlf, good.replace(b"\n", b"\r\n"), sweep.finding_spans(crlf, [(2, 4), (4, 6)])) == []
    assert len(sweep.hunk_violations("a.py", crlf, good.replace(b"\n", b"\r\n").replace(b"pass\r\n", b"pass\n"), spans)) == 1
