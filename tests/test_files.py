"""The file layer: which files a run takes, how they are read and written, how failures read.

Each test builds a small tree in `tmp_path` and calls `codemods.files` / `codemods.engine`
directly; the CLI on top of them is covered in test_cli.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codemods import engine
from codemods.base import EXAMPLE_MODELS
from codemods.diffs import NO_EOL, split_lines, unified_diff
from codemods.files import FileError, atomic_write, discover, read_source
from tests.helpers import write_project

SERVICES = """\
from shop.models import Order


def f():
    return len(Order.objects.filter(status="x"))
"""
SERVICES_FIXED = SERVICES.replace(
    'len(Order.objects.filter(status="x"))', 'Order.objects.filter(status="x").count()'
)


def touch(root: Path, *rels: str) -> None:
    for rel in rels:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def found(paths, excludes=()) -> list[str]:
    return sorted(p.replace(os.sep, "/") for p in discover(paths, excludes))


# -- discovery -------------------------------------------------------------------------------
def test_walk_finds_python_files_only_in_stable_order(tmp_path, monkeypatch):
    touch(tmp_path, "b.py", "a.py", "pkg/c.py", "README.md", "setup.cfg", "pkg/data.txt", "pkg/stub.pyi")
    monkeypatch.chdir(tmp_path)
    assert list(discover(["."])) == ["a.py", "b.py", "pkg/c.py"]
    assert found(["pkg"]) == ["pkg/c.py"]


def test_each_file_once_when_named_twice_or_inside_a_named_folder(tmp_path, monkeypatch):
    touch(tmp_path, "pkg/a.py", "pkg/b.py")
    monkeypatch.chdir(tmp_path)
    assert found(["pkg/a.py", "pkg", "pkg/a.py"]) == ["pkg/a.py", "pkg/b.py"]


def test_gitignore_in_walked_folder(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    touch(tmp_path, "keep.py", "generated/out.py", "pkg/schema_gen.py", "pkg/model.py", "pkg/deep/x_gen.py")
    (tmp_path / ".gitignore").write_text("# generated code\ngenerated/\n*_gen.py\n")
    monkeypatch.chdir(tmp_path)
    assert found(["."]) == ["keep.py", "pkg/model.py"]


def test_gitignore_without_a_git_folder_is_still_read_in_the_walked_folder(tmp_path, monkeypatch):
    touch(tmp_path, "keep.py", "skip.py")
    (tmp_path / ".gitignore").write_text("skip.py\n")
    monkeypatch.chdir(tmp_path)
    assert found(["."]) == ["keep.py"]


def test_gitignore_in_a_nested_folder_applies_below_it_only(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    touch(tmp_path, "local.py", "pkg/local.py", "pkg/other.py")
    (tmp_path / "pkg" / ".gitignore").write_text("local.py\n")
    monkeypatch.chdir(tmp_path)
    assert found(["."]) == ["local.py", "pkg/other.py"]


def test_gitignore_in_parent_folders_up_to_the_repository_root(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    touch(repo, "app/shop/legacy/old.py", "app/shop/new.py", "app/shop/tmp_cache.py", "app/shop/views.py")
    (repo / ".gitignore").write_text("app/shop/legacy/\n")
    (repo / "app" / ".gitignore").write_text("tmp_*.py\n")
    # above the repository root: not this repository's business
    (tmp_path / ".gitignore").write_text("*.py\n")
    monkeypatch.chdir(repo / "app" / "shop")
    assert found(["."]) == ["new.py", "views.py"]
    monkeypatch.chdir(repo)
    assert found(["app/shop"]) == ["app/shop/new.py", "app/shop/views.py"]


def test_gitignore_above_the_repository_root_is_not_read(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    touch(repo, "a.py")
    (tmp_path / ".gitignore").write_text("*.py\n")
    monkeypatch.chdir(repo)
    assert found(["."]) == ["a.py"]


def test_negation_in_a_deeper_gitignore_reincludes_a_file(tmp_path, monkeypatch):
    # git: "patterns in lower level files override those in higher level files";
    # `git check-ignore sub/keep_gen.py` says it is not ignored.
    (tmp_path / ".git").mkdir()
    touch(tmp_path, "sub/keep_gen.py", "sub/drop_gen.py", "sub/a.py")
    (tmp_path / ".gitignore").write_text("*_gen.py\n")
    (tmp_path / "sub" / ".gitignore").write_text("!keep_gen.py\n")
    monkeypatch.chdir(tmp_path)
    assert found(["."]) == ["sub/a.py", "sub/keep_gen.py"]


@pytest.mark.parametrize(
    "folder",
    [
        "migrations",
        "shop/migrations",
        "node_modules",
        "web/node_modules/pkg",
        ".venv",
        "venv",
        "build",
        "dist",
        "__pycache__",
        "shop/__pycache__",
        ".git",
        ".hg",
        ".tox",
        "site-packages",
        "django_qsfix.egg-info",
    ],
)
def test_skipped_folders(tmp_path, monkeypatch, folder):
    touch(tmp_path, "keep.py", f"{folder}/skipped.py", f"{folder}/deeper/also.py")
    monkeypatch.chdir(tmp_path)
    assert found(["."]) == ["keep.py"]


def test_a_folder_with_pyvenv_cfg_is_a_virtual_environment(tmp_path, monkeypatch):
    touch(tmp_path, "keep.py", "myenv/lib/python3.11/site.py", "myenv/bin/activate_this.py")
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    touch(tmp_path, "notenv/code.py")
    monkeypatch.chdir(tmp_path)
    assert found(["."]) == ["keep.py", "notenv/code.py"]


def test_folder_names_that_only_resemble_skipped_ones_are_walked(tmp_path, monkeypatch):
    touch(tmp_path, "builder/a.py", "my_migrations/b.py", "venvs_doc/c.py")
    monkeypatch.chdir(tmp_path)
    assert found(["."]) == ["builder/a.py", "my_migrations/b.py", "venvs_doc/c.py"]


def test_exclude_globs(tmp_path, monkeypatch):
    touch(tmp_path, "keep.py", "legacy/old.py", "shop/tests/test_x.py", "shop/test_y.py", "shop/views.py")
    monkeypatch.chdir(tmp_path)
    assert found(["."], ["legacy"]) == ["keep.py", "shop/test_y.py", "shop/tests/test_x.py", "shop/views.py"]
    assert found(["."], ["test_*.py"]) == ["keep.py", "legacy/old.py", "shop/views.py"]
    assert found(["."], ["shop/tests/*"]) == ["keep.py", "legacy/old.py", "shop/test_y.py", "shop/views.py"]
    assert found(["."], ["legacy", "shop/*"]) == ["keep.py"]


def test_explicitly_named_files_are_taken_even_where_a_walk_would_skip_them(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    touch(tmp_path, "shop/migrations/0001_initial.py", "generated/out.py", "notes.txt")
    (tmp_path / ".gitignore").write_text("generated/\n")
    monkeypatch.chdir(tmp_path)
    assert found(["."]) == []
    assert found(["shop/migrations/0001_initial.py", "generated/out.py"]) == [
        "generated/out.py",
        "shop/migrations/0001_initial.py",
    ]
    # a named file need not end in .py (a script without a suffix)
    assert found(["notes.txt"]) == ["notes.txt"]


def test_symlinked_files_and_folders_are_not_followed_when_walking(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    touch(outside, "elsewhere.py", "lib/mod.py")
    project = tmp_path / "project"
    touch(project, "real.py")
    (project / "linked.py").symlink_to(outside / "elsewhere.py")
    (project / "linked_dir").symlink_to(outside / "lib", target_is_directory=True)
    (project / "self").symlink_to(project, target_is_directory=True)  # a loop
    monkeypatch.chdir(project)
    assert found(["."]) == ["real.py"]


# -- reading -----------------------------------------------------------------------------------
def test_read_source_keeps_bytes_and_shows_a_relative_path(tmp_path, monkeypatch):
    data = b"\xef\xbb\xbfx = 1\r\n"
    touch(tmp_path, "pkg/a.py")
    (tmp_path / "pkg" / "a.py").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    source = read_source("./pkg/a.py")
    assert source.data == data
    assert source.path == os.path.join("pkg", "a.py")
    assert source.abspath == str(tmp_path / "pkg" / "a.py")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.symlink_to(p.parent / "nowhere.py"), "no such file"),
    ],
    ids=["missing", "directory", "dangling-symlink"],
)
def test_read_source_errors(tmp_path, monkeypatch, make, message):
    make(tmp_path / "x.py")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileError) as info:
        read_source("x.py")
    assert str(info.value) == message


# -- writing -----------------------------------------------------------------------------------
def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".qsfix-"))


def test_atomic_write_replaces_content_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "a.py"
    target.write_bytes(b"old\n")
    atomic_write(str(target), b"new\r\n", b"old\n")
    assert target.read_bytes() == b"new\r\n"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", [0o640, 0o755, 0o600])
def test_atomic_write_keeps_permission_bits(tmp_path, mode):
    target = tmp_path / "a.py"
    target.write_bytes(b"old\n")
    target.chmod(mode)
    atomic_write(str(target), b"new\n", b"old\n")
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.read_bytes() == b"new\n"
    assert leftovers(tmp_path) == []


def test_atomic_write_refuses_a_file_changed_since_it_was_read(tmp_path):
    target = tmp_path / "a.py"
    target.write_bytes(b"edited by someone else\n")
    with pytest.raises(FileError, match="changed since it was read; not written"):
        atomic_write(str(target), b"new\n", b"old\n")
    assert target.read_bytes() == b"edited by someone else\n"
    assert leftovers(tmp_path) == []


def test_atomic_write_refuses_a_file_deleted_since_it_was_read(tmp_path):
    target = tmp_path / "a.py"
    with pytest.raises(FileError, match="cannot re-read before writing"):
        atomic_write(str(target), b"new\n", b"old\n")
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_atomic_write_refuses_to_write_through_a_symlink(tmp_path):
    real = tmp_path / "real.py"
    real.write_bytes(b"old\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    with pytest.raises(FileError, match="is a symlink; not written through"):
        atomic_write(str(link), b"new\n", b"old\n")
    assert real.read_bytes() == b"old\n"
    assert link.is_symlink()
    assert leftovers(tmp_path) == []


def test_write_changes_reports_a_file_changed_after_the_run_and_writes_the_others(tmp_path, monkeypatch):
    write_project(tmp_path, {"shop/models.py": EXAMPLE_MODELS, "shop/a.py": SERVICES, "shop/b.py": SERVICES})
    monkeypatch.chdir(tmp_path)
    result = engine.run(["."], engine.Options())
    assert [r.path for r in result.changed] == ["shop/a.py", "shop/b.py"]
    (tmp_path / "shop" / "a.py").write_text(SERVICES + "# edited meanwhile\n")
    written = engine.write_changes(result.changed)
    assert [r.path for r in written] == ["shop/b.py"]
    assert (tmp_path / "shop" / "a.py").read_text() == SERVICES + "# edited meanwhile\n"
    assert (tmp_path / "shop" / "b.py").read_text() == SERVICES_FIXED
    assert [r.error for r in result.failed] == ["shop/a.py: changed since it was read; not written"]


# -- failures: one line each, naming the file; the other files still processed ----------------
def run_with(tmp_path, monkeypatch, extra: dict[str, bytes], paths=(".",)):
    write_project(tmp_path, {"shop/models.py": EXAMPLE_MODELS, "shop/services.py": SERVICES})
    for rel, data in extra.items():
        (tmp_path / rel).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    return engine.run(list(paths), engine.Options())


def assert_others_processed(result: engine.RunResult, tmp_path: Path) -> None:
    services = next(r for r in result.files if r.path == "shop/services.py")
    assert services.error is None
    assert services.new == SERVICES_FIXED.encode()
    assert [f.code for f in services.findings if f.is_active] == ["QS002"]
    # nothing is written by a run
    assert (tmp_path / "shop" / "services.py").read_text() == SERVICES


def only_error(result: engine.RunResult, path: str) -> str:
    failed = result.failed
    assert [r.path for r in failed] == [path]
    error = failed[0].error
    assert "\n" not in error
    assert failed[0].new is None
    return error


def test_syntax_error_names_file_line_and_column(tmp_path, monkeypatch):
    result = run_with(tmp_path, monkeypatch, {"shop/bad.py": b"x = 1\n\ndef f(:\n    pass\n"})
    assert only_error(result, "shop/bad.py") == "shop/bad.py:3:7: syntax error: invalid syntax"
    assert_others_processed(result, tmp_path)


def test_indentation_error_names_its_line(tmp_path, monkeypatch):
    result = run_with(tmp_path, monkeypatch, {"shop/bad.py": b"def f():\n    x = 1\n      y = 2\n"})
    error = only_error(result, "shop/bad.py")
    assert error.startswith("shop/bad.py:3:")
    assert "unexpected indent" in error
    assert_others_processed(result, tmp_path)


def test_undecodable_bytes_without_a_cookie(tmp_path, monkeypatch):
    result = run_with(tmp_path, monkeypatch, {"shop/bad.py": b"x = '\xff'\n"})
    error = only_error(result, "shop/bad.py")
    assert error.startswith("shop/bad.py:1:")
    assert "'utf-8' codec can't decode byte 0xff" in error
    assert_others_processed(result, tmp_path)


def test_unknown_encoding_cookie(tmp_path, monkeypatch):
    result = run_with(tmp_path, monkeypatch, {"shop/bad.py": b"# -*- coding: klingon -*-\nx = 1\n"})
    error = only_error(result, "shop/bad.py")
    assert error.startswith("shop/bad.py")
    assert "unknown encoding: klingon" in error
    # the cookie is on line 1; there is no line 0 nor column -1 to jump to
    assert not error.startswith("shop/bad.py:0:"), error
    assert ":-1:" not in error, error
    assert_others_processed(result, tmp_path)


def test_nul_byte(tmp_path, monkeypatch):
    result = run_with(tmp_path, monkeypatch, {"shop/bad.py": b"x = 1\x00\n"})
    # describe_error has a branch for exactly this message
    assert only_error(result, "shop/bad.py") == "shop/bad.py: contains NUL bytes; not Python source"
    assert_others_processed(result, tmp_path)


def test_explicit_path_that_does_not_exist(tmp_path, monkeypatch):
    result = run_with(tmp_path, monkeypatch, {}, paths=["shop", "shop/gone.py"])
    assert only_error(result, "shop/gone.py") == "shop/gone.py: no such file"
    assert_others_processed(result, tmp_path)


def test_dangling_symlink_named_explicitly(tmp_path, monkeypatch):
    write_project(tmp_path, {"shop/models.py": EXAMPLE_MODELS, "shop/services.py": SERVICES})
    (tmp_path / "shop" / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    monkeypatch.chdir(tmp_path)
    result = engine.run(["shop", "shop/dangling.py"], engine.Options())
    assert only_error(result, "shop/dangling.py") == "shop/dangling.py: no such file"
    assert_others_processed(result, tmp_path)


def test_a_directory_where_a_file_was_expected(tmp_path, monkeypatch):
    (tmp_path / "x.py").mkdir()
    monkeypatch.chdir(tmp_path)
    # a path that was a file when listed and is a folder when read
    from codemods.files import FileError, read_source

    with pytest.raises(FileError) as raised:
        read_source("x.py")
    assert engine.describe_error("x.py", raised.value) == "x.py: is a directory"


def test_unreadable_file(tmp_path, monkeypatch):
    # chmod 000 does not stop root (CI runs as root), so the OS refusal is simulated
    import builtins

    import codemods.files

    write_project(tmp_path, {"shop/models.py": EXAMPLE_MODELS, "shop/services.py": SERVICES, "shop/secret.py": "x = 1\n"})

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(codemods.files, "open", refusing_open, raising=False)
    monkeypatch.chdir(tmp_path)
    result = engine.run(["."], engine.Options())
    assert only_error(result, "shop/secret.py") == "shop/secret.py: cannot read: Permission denied"
    assert_others_processed(result, tmp_path)


def test_many_failures_in_one_run_each_reported_once(tmp_path, monkeypatch):
    result = run_with(
        tmp_path,
        monkeypatch,
        {"shop/a.py": b"def (:\n", "shop/b.py": b"x = '\xff'\n", "shop/c.py": b"x = 1\x00\n"},
        paths=["shop", "shop/missing.py"],
    )
    assert [r.path for r in result.failed] == ["shop/a.py", "shop/b.py", "shop/c.py", "shop/missing.py"]
    for r in result.failed:
        assert r.error.startswith(r.path + ":")
        assert "\n" not in r.error
    assert_others_processed(result, tmp_path)


# -- diffs ---------------------------------------------------------------------------------------
def test_split_lines_splits_after_newline_only():
    assert split_lines(b"a\r\nb\rc\nd") == [b"a\r\n", b"b\rc\n", b"d"]
    assert split_lines(b"") == []


def test_unified_diff_exact():
    old = b"a\nb\nc\n"
    new = b"a\nB\nc\n"
    assert unified_diff("pkg/x.py", old, new) == (
        b"--- a/pkg/x.py\n+++ b/pkg/x.py\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
    )
    assert unified_diff("pkg/x.py", old, old) == b""


def test_unified_diff_without_trailing_newline():
    old = b"x = 1\ny = len(qs)"
    new = b"x = 1\ny = qs.count()"
    assert unified_diff("a.py", old, new) == (
        b"--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n x = 1\n"
        b"-y = len(qs)\n" + NO_EOL + b"+y = qs.count()\n" + NO_EOL
    )
    assert NO_EOL == b"\\ No newline at end of file\n"


def test_unified_diff_when_only_the_old_side_lacks_a_newline():
    diff = unified_diff("a.py", b"x = 1", b"x = 1\n")
    assert diff == b"--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n" + NO_EOL + b"+x = 1\n"


def test_unified_diff_keeps_crlf_and_latin1_bytes():
    old = b"# -*- coding: latin-1 -*-\r\ns = 'caf\xe9'\r\nn = len(qs)\r\n"
    new = b"# -*- coding: latin-1 -*-\r\ns = 'caf\xe9'\r\nn = qs.count()\r\n"
    assert unified_diff("a.py", old, new) == (
        b"--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n"
        b" # -*- coding: latin-1 -*-\r\n s = 'caf\xe9'\r\n-n = len(qs)\r\n+n = qs.count()\r\n"
    )


# -- a QS004 change is written whole or not at all -----------------------------------------------
QUERYSETS = """\
from shop.models import Order

ACTIVE_ORDERS = Order.objects.filter(status="active")
"""
QUERYSETS_FIXED = """\
from shop.models import Order


def active_orders():
    return Order.objects.filter(status="active")
"""
VIEWS = """\
from shop.querysets import ACTIVE_ORDERS


def first():
    return ACTIVE_ORDERS.first()
"""
VIEWS_FIXED = VIEWS.replace("ACTIVE_ORDERS.first()", "active_orders().first()").replace(
    "import ACTIVE_ORDERS", "import active_orders"
)
UNIT = {"shop/querysets.py": QUERYSETS, "shop/views.py": VIEWS, "shop/services.py": SERVICES}


def unit_run(tmp_path, monkeypatch) -> engine.RunResult:
    """The QS004 unit (querysets.py + views.py) and an unrelated QS002 fix (services.py), as
    analysed; nothing written yet."""
    write_project(tmp_path, {"shop/models.py": EXAMPLE_MODELS, **UNIT})
    monkeypatch.chdir(tmp_path)
    result = engine.run(["."], engine.Options())
    assert sorted(r.path for r in result.changed) == ["shop/querysets.py", "shop/services.py", "shop/views.py"]
    return result


def on_disk(root: Path) -> dict[str, str]:
    return {rel: (root / rel).read_text() for rel in UNIT}


def errors(result: engine.RunResult) -> dict[str, str]:
    return {r.path: r.error for r in result.failed}


def test_a_unit_file_edited_after_the_run_keeps_the_whole_unit_unwritten(tmp_path, monkeypatch):
    result = unit_run(tmp_path, monkeypatch)
    (tmp_path / "shop/views.py").write_text(VIEWS + "# edited meanwhile\n")
    written = engine.write_changes(result.changed, result.files)
    assert [r.path for r in written] == ["shop/services.py"]
    assert on_disk(tmp_path) == {
        "shop/querysets.py": QUERYSETS,
        "shop/views.py": VIEWS + "# edited meanwhile\n",
        "shop/services.py": SERVICES_FIXED,
    }
    assert errors(result) == {
        "shop/querysets.py": "shop/querysets.py: not written: it is part of one QS004 change with "
        "shop/views.py, which could not be written",
        "shop/views.py": "shop/views.py: changed since it was read; not written",
    }
    assert leftovers(tmp_path / "shop") == []


def test_a_failed_rename_inside_a_unit_restores_the_files_already_renamed(tmp_path, monkeypatch):
    import codemods.files

    result = unit_run(tmp_path, monkeypatch)
    real_replace = os.replace

    def replace(src, dst):
        if dst.endswith("views.py") and os.path.basename(src).startswith(".qsfix-"):
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(codemods.files.os, "replace", replace)
    written = engine.write_changes(result.changed, result.files)
    assert [r.path for r in written] == ["shop/services.py"]
    # querysets.py was renamed first, then put back as it was read
    assert on_disk(tmp_path) == {"shop/querysets.py": QUERYSETS, "shop/views.py": VIEWS, "shop/services.py": SERVICES_FIXED}
    assert errors(result) == {
        "shop/querysets.py": "shop/querysets.py: not written: it is part of one QS004 change with "
        "shop/views.py, which could not be written",
        "shop/views.py": "shop/views.py: cannot write: Input/output error",
    }
    assert leftovers(tmp_path / "shop") == []


def test_a_temporary_file_that_cannot_be_made_keeps_the_unit_unwritten(tmp_path, monkeypatch):
    import tempfile
    import types

    import codemods.files

    result = unit_run(tmp_path, monkeypatch)

    def mkstemp(dir, prefix, suffix):
        made = len([p for p in (tmp_path / "shop").iterdir() if p.name.startswith(".qsfix-")])
        if made == 1:  # the unit's second file: the disk is full
            raise OSError(28, "No space left on device")
        return tempfile.mkstemp(dir=dir, prefix=prefix, suffix=suffix)

    monkeypatch.setattr(codemods.files, "tempfile", types.SimpleNamespace(mkstemp=mkstemp))
    written = engine.write_changes([r for r in result.changed if r.path != "shop/services.py"], result.files)
    assert written == []
    assert on_disk(tmp_path) == UNIT
    assert errors(result) == {
        "shop/querysets.py": "shop/querysets.py: not written: it is part of one QS004 change with "
        "shop/views.py, which could not be written",
        "shop/views.py": "shop/views.py: cannot write: No space left on device",
    }
    assert leftovers(tmp_path / "shop") == []


def test_a_unit_whose_other_file_failed_its_rewrite_is_not_written(tmp_path, monkeypatch):
    # views.py's rewrite is discarded (as a libcst failure would): querysets.py alone would
    # leave views.py importing a name that no longer exists
    import codemods.engine

    real_apply_edits = codemods.engine.apply_edits

    def apply_edits(data, edits):
        if b"def first" in data:
            raise RuntimeError("simulated rewrite failure")
        return real_apply_edits(data, edits)

    monkeypatch.setattr(codemods.engine, "apply_edits", apply_edits)
    write_project(tmp_path, {"shop/models.py": EXAMPLE_MODELS, **UNIT})
    monkeypatch.chdir(tmp_path)
    result = engine.run(["."], engine.Options())
    assert errors(result) == {
        "shop/views.py": "shop/views.py: internal error, rewrite discarded: RuntimeError: simulated rewrite failure",
    }
    written = engine.write_changes(result.changed, result.files)
    assert [r.path for r in written] == ["shop/services.py"]
    assert on_disk(tmp_path) == {**UNIT, "shop/services.py": SERVICES_FIXED}
    assert errors(result)["shop/querysets.py"] == (
        "shop/querysets.py: not written: shop/views.py, part of the same QS004 change "
        "(shop.querysets.ACTIVE_ORDERS), failed"
    )


def test_units_and_files_that_can_be_written_are_written_together(tmp_path, monkeypatch):
    result = unit_run(tmp_path, monkeypatch)
    written = engine.write_changes(result.changed, result.files)
    assert sorted(r.path for r in written) == ["shop/querysets.py", "shop/services.py", "shop/views.py"]
    assert on_disk(tmp_path) == {
        "shop/querysets.py": QUERYSETS_FIXED, "shop/views.py": VIEWS_FIXED, "shop/services.py": SERVICES_FIXED,
    }
    assert result.failed == []


def test_apply_exits_3_naming_the_file_and_the_users_edit_survives(tmp_path, monkeypatch):
    # in-process, so the file can be edited while the diff is shown (at the confirmation)
    from click.testing import CliRunner

    import cli

    write_project(tmp_path, {"manage.py": "", "shop/models.py": EXAMPLE_MODELS, **UNIT})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_stdin_is_interactive", lambda: True)

    def confirm(*args, **kwargs):
        (tmp_path / "shop/views.py").write_text(VIEWS + "# the user's edit\n")
        return True

    monkeypatch.setattr(cli.click, "confirm", confirm)
    result = CliRunner().invoke(cli.main, ["apply", "-j", "1", "--no-cache"])
    assert result.exit_code == 3, result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error_lines == [
        "error: shop/querysets.py: not written: it is part of one QS004 change with shop/views.py, "
        "which could not be written",
        "error: shop/views.py: changed since it was read; not written",
    ]
    assert on_disk(tmp_path) == {
        "shop/querysets.py": QUERYSETS,
        "shop/views.py": VIEWS + "# the user's edit\n",
        "shop/services.py": SERVICES_FIXED,
    }


def test_a_file_holding_two_units_joins_them_so_an_edit_to_either_side_holds_all_back(tmp_path, monkeypatch):
    two = {
        "shop/querysets.py": QUERYSETS + 'CLOSED_ORDERS = Order.objects.filter(status="closed")\n',
        "shop/a.py": VIEWS,
        "shop/b.py": VIEWS.replace("ACTIVE_ORDERS", "CLOSED_ORDERS"),
    }
    write_project(tmp_path, {"shop/models.py": EXAMPLE_MODELS, **two})
    monkeypatch.chdir(tmp_path)
    result = engine.run(["."], engine.Options())
    assert sorted(r.path for r in result.changed) == ["shop/a.py", "shop/b.py", "shop/querysets.py"]
    (tmp_path / "shop/b.py").write_text(two["shop/b.py"] + "# edited meanwhile\n")
    assert engine.write_changes(result.changed, result.files) == []
    assert {rel: (tmp_path / rel).read_text() for rel in two} == {**two, "shop/b.py": two["shop/b.py"] + "# edited meanwhile\n"}
    assert sorted(errors(result)) == ["shop/a.py", "shop/b.py", "shop/querysets.py"]
    assert errors(result)["shop/b.py"] == "shop/b.py: changed since it was read; not written"
