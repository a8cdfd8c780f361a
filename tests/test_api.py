"""The Python API (`codemods.run`, codemods/api.py): what it finds, changes and writes on a copy
of the samples, that it writes exactly what `qsfix apply --yes` writes, that configuration
applies as it does for the command, and that it neither prints, exits nor imports the CLI's
libraries.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import codemods
from codemods import engine
from codemods.api import ChangedFile, ConfigError, Failure, Result
from codemods.findings import SUPPRESSED
from tests.helpers import REPO

QSFIX = [sys.executable, "-c", "import cli; cli.main()"]

# Every finding on the samples, as (code, path, line, column, applicability, applied, skipped).
SAMPLE_FINDINGS = [
    ("QS003", "shop/api.py", 20, 5, None, False, True),
    ("QS003", "shop/api.py", 26, 5, "safe", True, False),
    ("QS004", "shop/querysets.py", 11, 1, "safe", True, False),
    ("QS004", "shop/querysets.py", 14, 1, "safe", True, False),
    ("QS002", "shop/services.py", 13, 12, "safe", True, False),
    ("QS001", "shop/services.py", 18, 8, "safe", True, False),
    ("QS001", "shop/services.py", 25, 16, "safe", True, False),
    ("QS001", "shop/services.py", 30, 17, "safe", True, False),
    ("QS001", "shop/services.py", 36, 8, "safe", True, False),
    ("QS001", "shop/services.py", 43, 8, "unsafe", False, True),  # rows iterated below: unsafe
    ("QS002", "shop/services.py", 51, 17, "unsafe", False, True),
    ("QS001", "shop/services.py", 65, 8, None, False, True),
    ("QS002", "shop/services.py", 72, 12, None, False, True),
    ("QS002", "shop/services.py", 77, 12, "safe", False, True),
    ("QS004", "shop/services.py", 84, 23, "safe", True, False),
    ("QS004", "shop/views.py", 10, 24, "safe", True, False),
    ("QS003", "shop/views.py", 16, 5, "safe", True, False),
    ("QS003", "shop/views.py", 24, 5, None, False, True),
    ("QS003", "shop/views.py", 30, 5, None, False, True),
    ("QS003", "shop/views.py", 37, 5, "safe", True, False),
]
SAMPLE_CHANGED = ["shop/api.py", "shop/querysets.py", "shop/services.py", "shop/views.py"]

BROKEN = "def broken(:\n    pass\n"

README_EXAMPLE = re.compile(r"<!-- tested: bulk_fix.py -->\n```python\n(.*?)```", re.DOTALL)


def summary(finding) -> tuple:
    return (
        finding.code, finding.path, finding.line, finding.column,
        finding.applicability, finding.applied, finding.skip_reason is not None,
    )


def copy_samples(destination: Path) -> Path:
    shutil.copytree(REPO / "samples", destination, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file below `root` (but qsfix's cache), by path relative to it."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".qsfix_cache" not in path.parts and "__pycache__" not in path.parts
    }


@pytest.fixture
def samples(tmp_path, monkeypatch) -> Path:
    """A copy of samples/, and the current folder (paths in results are relative to it)."""
    root = copy_samples(tmp_path / "samples")
    monkeypatch.chdir(root)
    return root


def test_findings_on_the_samples(samples):
    result = codemods.run(["."])
    assert [summary(f) for f in result.findings] == SAMPLE_FINDINGS
    assert [c.path for c in result.changed] == SAMPLE_CHANGED
    assert result.scanned == 12
    assert result.failures == ()
    assert result.written == ()
    assert result.ok


def test_findings_carry_what_the_engine_reports(samples):
    expected = engine.run(["."], engine.Options())
    result = codemods.run(["."])
    assert [
        (f.code, f.name, f.path, f.line, f.column, f.message, f.skip_reason, f.unit, f.fix_title)
        for f in result.findings
    ] == [
        (f.code, f.name, f.path, f.line, f.column, f.message, f.skip_reason, f.key,
         f.fix.title if f.fix else None)
        for f in expected.findings
    ]
    suppressed = [f for f in result.findings if f.line == 77]
    assert [f.skip_reason for f in suppressed] == [SUPPRESSED]


def test_changed_files_without_write_leave_the_disk_alone(samples):
    before = tree_bytes(samples)
    result = codemods.run([samples])
    assert tree_bytes(samples) == before
    for changed in result.changed:
        assert isinstance(changed, ChangedFile)
        assert changed.old == before[changed.path]
        assert changed.new != changed.old
        assert changed.abspath == str(samples / changed.path)
        assert changed.written is False
        compile(changed.new, changed.path, "exec", dont_inherit=True)


def test_diff_is_the_one_qsfix_diff_prints(samples):
    proc = subprocess.run([*QSFIX, "diff", "--no-cache", "."], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    result = codemods.run(["."])
    assert "".join(c.diff for c in result.changed) == proc.stdout


def test_write_writes_exactly_what_apply_yes_writes(tmp_path, monkeypatch):
    by_cli = copy_samples(tmp_path / "cli")
    by_api = copy_samples(tmp_path / "api")
    proc = subprocess.run([*QSFIX, "apply", "--yes", "."], cwd=by_cli, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    monkeypatch.chdir(by_api)
    original = tree_bytes(by_api)
    result = codemods.run(["."], write=True)
    written = tree_bytes(by_api)
    assert written == tree_bytes(by_cli)
    assert result.written == tuple(SAMPLE_CHANGED)
    assert sorted(p for p in written if written[p] != original[p]) == SAMPLE_CHANGED
    assert all(c.written for c in result.changed)
    assert [written[c.path] for c in result.changed] == [c.new for c in result.changed]


def test_write_again_changes_nothing(samples):
    codemods.run(["."], write=True)
    after = tree_bytes(samples)
    again = codemods.run(["."], write=True)
    assert again.changed == ()
    assert again.written == ()
    assert tree_bytes(samples) == after


def test_unsafe_and_select(samples):
    result = codemods.run(["."], select="QS002", unsafe=True)
    assert [summary(f) for f in result.findings] == [
        ("QS002", "shop/services.py", 13, 12, "safe", True, False),
        ("QS002", "shop/services.py", 51, 17, "unsafe", True, False),
        ("QS002", "shop/services.py", 72, 12, None, False, True),
        ("QS002", "shop/services.py", 77, 12, "safe", False, True),
    ]
    assert [c.path for c in result.changed] == ["shop/services.py"]
    same = codemods.run(["."], select=["qs002"], unsafe=True)
    assert same.findings == result.findings


def test_ignore(samples):
    result = codemods.run(["."], ignore=["QS003", "QS004"])
    assert {f.code for f in result.findings} == {"QS001", "QS002"}
    assert [c.path for c in result.changed] == ["shop/services.py"]


def test_exclude(samples):
    result = codemods.run(".", exclude="shop/services.py")
    assert "shop/services.py" not in {f.path for f in result.findings}
    assert [c.path for c in result.changed] == ["shop/api.py", "shop/querysets.py", "shop/views.py"]
    assert codemods.run(".", exclude=["shop/services.py"]) == result


def test_parse_error_is_a_failure_and_the_others_are_written(samples):
    (samples / "shop" / "broken.py").write_text(BROKEN)
    result = codemods.run(["."], write=True)
    assert [f.path for f in result.failures] == ["shop/broken.py"]
    assert isinstance(result.failures[0], Failure)
    assert result.failures[0].error.startswith("shop/broken.py:1:12: syntax error")
    assert not result.ok
    assert (samples / "shop" / "broken.py").read_text() == BROKEN
    assert result.written == tuple(SAMPLE_CHANGED)


def test_missing_path_is_a_failure(samples):
    result = codemods.run(["shop/services.py", "no/such.py"])
    assert [f.path for f in result.failures] == ["no/such.py"]
    assert result.failures[0].error.startswith("no/such.py: ")
    assert [c.path for c in result.changed] == ["shop/services.py"]


def test_file_edited_after_reading_is_a_failure_and_keeps_the_edit(samples):
    services = samples / "shop" / "services.py"
    edited = services.read_bytes() + b"# edited meanwhile\n"

    def edit_once(phase: str, done: int, total: int) -> None:
        # every file has been read when the first progress report comes
        if services.read_bytes() != edited:
            services.write_bytes(edited)

    result = codemods.run(["shop/services.py"], select="QS001,QS002", write=True, progress=edit_once)
    assert [f.path for f in result.failures] == ["shop/services.py"]
    assert [(c.path, c.written) for c in result.changed] == [("shop/services.py", False)]
    assert result.written == ()
    assert services.read_bytes() == edited


def test_config_is_honoured_and_arguments_win(samples):
    (samples / "pyproject.toml").write_text('[tool.qsfix]\nselect = ["QS002"]\nunsafe = true\n')
    from_file = codemods.run(["."])
    assert {f.code for f in from_file.findings} == {"QS002"}
    assert [summary(f) for f in from_file.findings if f.line == 51] == [
        ("QS002", "shop/services.py", 51, 17, "unsafe", True, False),
    ]
    overridden = codemods.run(["."], select="QS001", unsafe=False)
    assert {f.code for f in overridden.findings} == {"QS001"}
    ignored = codemods.run(["."], config=False)
    assert [summary(f) for f in ignored.findings] == SAMPLE_FINDINGS


def test_config_given_as_a_file_or_a_folder(samples, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text('[tool.qsfix]\nselect = ["QS003"]\n')
    (samples / "pyproject.toml").write_text('[tool.qsfix]\nselect = ["QS002"]\n')
    for config in (elsewhere / "pyproject.toml", str(elsewhere)):
        result = codemods.run(".", config=config)
        assert {f.code for f in result.findings} == {"QS003"}
    (elsewhere / "qsfix.toml").write_text('[tool.qsfix]\nselect = ["QS001"]\n')
    with pytest.raises(ValueError, match="neither a pyproject.toml nor a folder"):
        codemods.run(".", config=elsewhere / "qsfix.toml")
    with pytest.raises(ValueError, match="does not exist"):
        codemods.run(".", config=elsewhere / "missing" / "pyproject.toml")


def test_one_path_is_not_split_into_characters(samples):
    assert codemods.run("shop/services.py") == codemods.run(["shop/services.py"])
    assert codemods.run(samples / "shop") == codemods.run([samples / "shop"])


def test_config_is_found_from_the_paths_not_the_current_folder(tmp_path, monkeypatch):
    root = copy_samples(tmp_path / "samples")
    (root / "pyproject.toml").write_text('[tool.qsfix]\nselect = ["QS004"]\n')
    monkeypatch.chdir(tmp_path)
    result = codemods.run([root])
    assert {f.code for f in result.findings} == {"QS004"}
    assert result.findings[0].path == "samples/shop/querysets.py"


def test_projects_configured_differently_raise(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one = copy_samples(tmp_path / "one")
    two = copy_samples(tmp_path / "two")
    (one / "pyproject.toml").write_text('[tool.qsfix]\nselect = ["QS004"]\n')
    with pytest.raises(ValueError, match="configured differently"):
        codemods.run([one, two])
    (two / "pyproject.toml").write_text('[tool.qsfix]\nselect = ["QS004"]\n')
    both = codemods.run([one, two])
    assert sorted({f.path.split("/")[0] for f in both.findings}) == ["one", "two"]


def test_bad_arguments_and_config_raise(samples):
    with pytest.raises(ValueError, match="QS999"):
        codemods.run(["."], select="QS001,QS999")
    (samples / "pyproject.toml").write_text('[tool.qsfix]\nignore = ["QS998"]\n')
    with pytest.raises(ConfigError, match="QS998"):
        codemods.run(["."])


def test_prints_nothing(samples, capfd):
    (samples / "shop" / "broken.py").write_text(BROKEN)
    result = codemods.run(["."], write=True)
    assert result.failures and result.written
    assert capfd.readouterr() == ("", "")


def test_progress_is_reported(samples):
    calls = []
    codemods.run(["."], progress=lambda phase, done, total: calls.append((phase, done, total)))
    assert calls == [("index", n, 12) for n in range(1, 13)] + [("analyse", n, 12) for n in range(1, 13)]


def test_importable_without_click_or_rich(samples):
    script = (
        "import sys, codemods\n"
        "result = codemods.run(['.'])\n"
        "assert isinstance(result, codemods.Result), result\n"
        "print(len(result.findings), sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'rich')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{len(SAMPLE_FINDINGS)} []\n"
    assert Result is codemods.Result


def test_readme_example(tmp_path):
    """The README's API example, run over two repositories, one with a file that does not parse."""
    (example,) = README_EXAMPLE.findall((REPO / "README.md").read_text(encoding="utf-8"))
    (tmp_path / "bulk_fix.py").write_text(example)
    one = copy_samples(tmp_path / "one")
    two = copy_samples(tmp_path / "two")
    (two / "shop" / "broken.py").write_text(BROKEN)
    original = (one / "shop" / "services.py").read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "bulk_fix.py", "one", "two"], cwd=tmp_path, capture_output=True, text=True, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "one: 1 written, 0 failed\ntwo: 1 written, 1 failed\n"
    assert proc.stderr.startswith("  two/shop/broken.py:1:12: syntax error")
    assert proc.stderr.count("\n") == 1
    fixed = (one / "shop" / "services.py").read_bytes()
    assert fixed != original
    assert (two / "shop" / "services.py").read_bytes() == fixed
    assert (two / "shop" / "broken.py").read_text() == BROKEN
