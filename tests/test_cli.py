"""The command line contract of SPEC.md: commands, exit codes, output formats, options,
configuration, suppression comments, interactive review, and the patch guarantee.

In-process tests use click's CliRunner inside a throwaway project (`monkeypatch.chdir`);
the tests about real terminals-or-not and `git apply`/`patch -p1` run `qsfix` as a process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from cli import main
from codemods import registry
from codemods.base import EXAMPLE_MODELS
from tests.helpers import REPO, write_project

QSFIX = [sys.executable, "-c", "import cli; cli.main()"]

LEN_X = 'len(Order.objects.filter(status="x"))'
COUNT_X = 'Order.objects.filter(status="x").count()'

SERVICES = f"""\
from shop.models import Order


def f():
    return {LEN_X}
"""
SERVICES_FIXED = SERVICES.replace(LEN_X, COUNT_X)
QS002_MESSAGE = f"`{LEN_X}` fetches every row to count them; use `.count()`"
SERVICES_LINE = f"shop/services.py:5:12: QS002 {QS002_MESSAGE}"
SERVICES_DIFF = f"""\
--- a/shop/services.py
+++ b/shop/services.py
@@ -2,4 +2,4 @@
 
 
 def f():
-    return {LEN_X}
+    return {COUNT_X}
"""

CLEAN = """\
from shop.models import Order


def f():
    return Order.objects.filter(status="x").count()
"""

# one QS001 site and one QS002 site
BOTH = """\
from shop.models import Order


def has_any():
    if Order.objects.filter(status="z"):
        return 1


def how_many():
    return len(Order.objects.filter(status="x"))
"""

# `len(orders)` and then the rows are iterated: `.count()` would add a query
REUSED = """\
from shop.models import Order


def k():
    orders = Order.objects.filter(status="y")
    n = len(orders)
    for o in orders:
        print(o)
    return n
"""
REUSED_UNSAFE_FIXED = REUSED.replace("n = len(orders)", "n = orders.count()")

MANAGER = """\
from shop.models import Order


def g():
    return len(Order.objects)
"""

SYNTAX_ERROR = "x = 1\n\ndef broken(:\n    pass\n"
SYNTAX_ERROR_LINE = "shop/broken.py:3:12: syntax error: invalid syntax"

FINDING_KEYS = {"path", "line", "column", "code", "name", "message", "fix", "skip_reason"}


def make_project(root: Path, files: dict[str, str]) -> Path:
    write_project(root, {"shop/models.py": EXAMPLE_MODELS, **files})
    return root


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with one safe QS002 fix in shop/services.py; the working folder is its root."""

    def build(files: dict[str, str] | None = None) -> Path:
        make_project(tmp_path, {"shop/services.py": SERVICES} if files is None else files)
        monkeypatch.chdir(tmp_path)
        return tmp_path

    return build


def qsfix(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def read(path: str) -> str:
    return Path(path).read_text()


# -- list / explain ----------------------------------------------------------------------------
def test_list_shows_every_pass():
    result = qsfix("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "safety", "description"]
    rows = [line for line in lines if line[:2] == "QS"]
    assert [row.split()[0] for row in rows] == sorted(info.code for info in registry.PASSES)
    for info in registry.PASSES:
        row = next(r for r in rows if r.startswith(info.code))
        assert row.split()[1] == info.name
        assert info.safety in row


@pytest.mark.parametrize("code", [info.code for info in registry.PASSES])
def test_explain_every_pass(code):
    info = registry.get_pass(code)
    result = qsfix("explain", code.lower())
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith(f"# {info.code} {info.name}\n")
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    expected = ["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"]
    if info.example.after is None:  # a pass that only reports has no rewrite to show
        expected.remove("## Use instead")
    assert headings[: len(expected)] == expected
    assert info.example.before_code in out
    assert info.example.after is None or info.example.after_code in out
    assert info.fix_safety in out


def test_explain_qs001_sections():
    result = qsfix("explain", "QS001")
    assert result.exit_code == 0
    for section in ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety"):
        assert f"## {section}\n" in result.stdout
    assert ".exists()" in result.stdout
    assert result.stderr == ""


def test_explain_unknown_code():
    result = qsfix("explain", "QS999")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown code: QS999" in result.stderr


def test_explain_without_a_code_is_a_usage_error():
    assert qsfix("explain").exit_code == 2


# -- diff ----------------------------------------------------------------------------------------
def test_diff_no_change_exits_0(project):
    project({"shop/services.py": CLEAN})
    result = qsfix("diff")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == (
        "3 files scanned, 0 findings (0 fixed in the diff), 0 sites skipped, 0 files would change\n"
    )


def test_diff_with_changes_exits_1_and_writes_nothing(project):
    root = project()
    result = qsfix("diff")
    assert result.exit_code == 1
    assert result.stdout == SERVICES_DIFF
    assert result.stderr == (
        "3 files scanned, 1 finding (1 fixed in the diff), 0 sites skipped, 1 file would change\n"
    )
    assert read("shop/services.py") == SERVICES
    assert not any(p.name.startswith(".qsfix-") for p in (root / "shop").iterdir())


def test_diff_of_named_paths(project):
    project({"shop/services.py": SERVICES, "other/more.py": SERVICES})
    result = qsfix("diff", "shop")
    assert result.exit_code == 1
    assert result.stdout == SERVICES_DIFF
    # both folders: the other file's diff follows
    result = qsfix("diff", "shop", "other")
    assert result.stdout == SERVICES_DIFF + SERVICES_DIFF.replace("shop/services.py", "other/more.py")


# -- check ---------------------------------------------------------------------------------------
def test_check_no_findings_exits_0(project):
    project({"shop/services.py": CLEAN})
    result = qsfix("check")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_check_findings_exit_1_with_exact_lines(project):
    project({"shop/services.py": SERVICES, "shop/both.py": BOTH})
    result = qsfix("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "shop/both.py:5:8: QS001 testing the truth of `Order.objects.filter(status=\"z\")` "
        "fetches every row; use `.exists()`",
        "shop/both.py:10:12: QS002 `len(Order.objects.filter(status=\"x\"))` fetches every row "
        "to count them; use `.count()`",
        SERVICES_LINE,
    ]
    assert result.stderr == (
        "4 files scanned, 3 findings (3 fixed in the diff), 0 sites skipped, 2 files would change\n"
    )
    assert read("shop/services.py") == SERVICES


def test_check_line_is_not_wrapped_on_a_narrow_terminal(project, monkeypatch):
    project()
    monkeypatch.setenv("COLUMNS", "40")
    result = qsfix("check")
    assert result.stdout == SERVICES_LINE + "\n"


# -- apply ---------------------------------------------------------------------------------------
def test_apply_yes_writes_and_exits_0(project):
    root = project()
    mode_before = os.stat("shop/services.py").st_mode
    result = qsfix("apply", "--yes")
    assert result.exit_code == 0
    assert read("shop/services.py") == SERVICES_FIXED
    assert os.stat("shop/services.py").st_mode == mode_before
    assert result.stdout == SERVICES_DIFF
    assert result.stderr.endswith("1 file written\n")
    assert not any(p.name.startswith(".qsfix-") for p in (root / "shop").iterdir())
    # nothing left to do: still 0, nothing written
    again = qsfix("apply", "-y")
    assert again.exit_code == 0
    assert again.stdout == ""
    assert again.stderr.endswith("0 files written\n")
    assert read("shop/services.py") == SERVICES_FIXED


def test_apply_without_yes_on_non_interactive_stdin_writes_nothing(project):
    project()
    result = qsfix("apply", input="y\n")
    assert result.exit_code == 2
    assert "not a terminal" in result.stderr
    assert "nothing was written" in result.stderr
    assert "--yes" in result.stderr
    assert read("shop/services.py") == SERVICES


def test_apply_without_yes_from_a_pipe_process(tmp_path):
    make_project(tmp_path, {"shop/services.py": SERVICES})
    proc = subprocess.run(QSFIX + ["apply"], cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert b"not a terminal" in proc.stderr
    assert (tmp_path / "shop/services.py").read_text() == SERVICES


def test_apply_yes_and_interactive_exclude_each_other(project):
    project()
    result = qsfix("apply", "--yes", "--interactive")
    assert result.exit_code == 2
    assert read("shop/services.py") == SERVICES


@pytest.fixture
def interactive(monkeypatch):
    monkeypatch.setattr(cli, "_stdin_is_interactive", lambda: True)


def test_plain_apply_answering_no_writes_nothing(project, interactive):
    project()
    result = qsfix("apply", input="n\n")
    assert result.exit_code == 0
    assert result.stdout == SERVICES_DIFF
    assert "Write 1 file(s)?" in result.stderr
    assert "nothing written" in result.stderr
    assert read("shop/services.py") == SERVICES


def test_plain_apply_answering_yes_writes(project, interactive):
    project()
    result = qsfix("apply", input="y\n")
    assert result.exit_code == 0
    assert "Write 1 file(s)?" in result.stderr
    assert read("shop/services.py") == SERVICES_FIXED


def test_plain_apply_default_answer_is_no(project, interactive):
    project()
    result = qsfix("apply", input="\n")
    assert result.exit_code == 0
    assert read("shop/services.py") == SERVICES


TWO_CHANGES = """\
from shop.models import Order


def first():
    return len(Order.objects.filter(status="a"))


def second():
    return len(Order.objects.filter(status="b"))
"""
FIRST_FIXED = 'return Order.objects.filter(status="a").count()'
SECOND_FIXED = 'return Order.objects.filter(status="b").count()'


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ("y\nn\n", TWO_CHANGES.replace('return len(Order.objects.filter(status="a"))', FIRST_FIXED)),
        ("n\ny\n", TWO_CHANGES.replace('return len(Order.objects.filter(status="b"))', SECOND_FIXED)),
        (
            "y\ny\n",
            TWO_CHANGES.replace('return len(Order.objects.filter(status="a"))', FIRST_FIXED).replace(
                'return len(Order.objects.filter(status="b"))', SECOND_FIXED
            ),
        ),
        ("n\nn\n", TWO_CHANGES),
        (
            "a\n",
            TWO_CHANGES.replace('return len(Order.objects.filter(status="a"))', FIRST_FIXED).replace(
                'return len(Order.objects.filter(status="b"))', SECOND_FIXED
            ),
        ),
        ("q\n", TWO_CHANGES),
    ],
    ids=["yes-no", "no-yes", "yes-yes", "no-no", "all", "quit"],
)
def test_apply_interactive_per_change(project, interactive, answers, expected):
    project({"shop/services.py": TWO_CHANGES})
    result = qsfix("apply", "--interactive", input=answers)
    assert result.exit_code == 0
    assert read("shop/services.py") == expected
    written = "0 files written" if expected == TWO_CHANGES else "1 file written"
    assert result.stderr.rstrip("\n").endswith(written)
    assert "change 1 of 2" in result.stdout
    # each preview shows only its own change
    first_preview = result.stdout.split("change 2 of 2")[0] if "change 2 of 2" in result.stdout else result.stdout
    assert "+    " + FIRST_FIXED in first_preview
    assert "+    " + SECOND_FIXED not in first_preview


def test_apply_interactive_second_preview_shows_the_second_change(project, interactive):
    project({"shop/services.py": TWO_CHANGES})
    result = qsfix("apply", "-i", input="n\nn\n")
    second_preview = result.stdout.split("change 2 of 2")[1]
    assert "-    return len(Order.objects.filter(status=\"b\"))" in second_preview
    assert "+    " + SECOND_FIXED in second_preview
    assert "status=\"a\"" not in second_preview
    assert read("shop/services.py") == TWO_CHANGES


def test_apply_interactive_without_a_terminal_writes_nothing(project):
    project({"shop/services.py": TWO_CHANGES})
    result = qsfix("apply", "--interactive", input="y\ny\n")
    assert result.exit_code == 2
    assert read("shop/services.py") == TWO_CHANGES


# -- usage errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["check"], ["diff"], ["apply", "--yes"]])
@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_code_in_select_or_ignore(project, command, option):
    project()
    result = qsfix(*command, option, "QS002,QS999")
    assert result.exit_code == 2
    assert "unknown code(s): QS999" in result.stderr
    assert result.stdout == ""
    assert read("shop/services.py") == SERVICES


@pytest.mark.parametrize("command", [["check"], ["diff"], ["apply", "--yes"]])
def test_path_that_does_not_exist(project, command):
    project()
    result = qsfix(*command, "shop", "nope")
    assert result.exit_code == 2
    assert "no such file or folder: nope" in result.stderr
    assert result.stdout == ""
    assert read("shop/services.py") == SERVICES


def test_codes_are_case_insensitive_and_trimmed(project):
    project({"shop/services.py": SERVICES, "shop/both.py": BOTH})
    result = qsfix("check", "--select", " qs002 , ")
    assert result.exit_code == 1
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["QS002", "QS002"]


# -- failures: exit 3, the other files still processed -----------------------------------------
@pytest.fixture
def broken_project(project):
    return lambda: project({"shop/services.py": SERVICES, "shop/broken.py": SYNTAX_ERROR})


def test_check_with_a_syntax_error_exits_3(broken_project):
    broken_project()
    result = qsfix("check")
    assert result.exit_code == 3
    assert result.stdout == SERVICES_LINE + "\n"
    assert f"error: {SYNTAX_ERROR_LINE}\n" in result.stderr
    assert result.stderr.endswith("1 failed\n")


def test_diff_with_a_syntax_error_exits_3_and_still_diffs_the_others(broken_project):
    broken_project()
    result = qsfix("diff")
    assert result.exit_code == 3
    assert result.stdout == SERVICES_DIFF
    assert f"error: {SYNTAX_ERROR_LINE}\n" in result.stderr


def test_apply_with_a_syntax_error_exits_3_and_still_writes_the_others(broken_project):
    broken_project()
    result = qsfix("apply", "--yes")
    assert result.exit_code == 3
    assert read("shop/services.py") == SERVICES_FIXED
    assert read("shop/broken.py") == SYNTAX_ERROR
    assert f"error: {SYNTAX_ERROR_LINE}\n" in result.stderr
    assert "1 file written" in result.stderr


def test_syntax_error_alone_exits_3_not_0(project):
    project({"shop/broken.py": SYNTAX_ERROR})
    for args in (["check"], ["diff"], ["apply", "--yes"], ["check", "--format", "json"]):
        assert qsfix(*args).exit_code == 3, args


def test_apply_reports_a_file_that_cannot_be_written(project, monkeypatch):
    project({"shop/services.py": SERVICES, "shop/other.py": SERVICES})
    real_run = cli.engine.run

    def run_then_edit(*args, **kwargs):
        result = real_run(*args, **kwargs)
        Path("shop/other.py").write_text(SERVICES + "# edited meanwhile\n")
        return result

    monkeypatch.setattr(cli.engine, "run", run_then_edit)
    result = qsfix("apply", "--yes")
    assert result.exit_code == 3
    assert "shop/other.py: changed since it was read; not written" in result.stderr
    assert read("shop/other.py") == SERVICES + "# edited meanwhile\n"
    assert read("shop/services.py") == SERVICES_FIXED


# -- JSON ----------------------------------------------------------------------------------------
def load_json(result) -> dict:
    data = json.loads(result.stdout)  # stdout holds the JSON and nothing else
    assert data["version"] == 1
    assert set(data) >= {"version", "findings", "files"}
    assert set(data["files"]) >= {"scanned", "changed", "failed"}
    for finding in data["findings"]:
        assert set(finding) >= FINDING_KEYS
        if finding["fix"] is not None:
            assert finding["fix"]["applicability"] in ("safe", "unsafe")
            assert isinstance(finding["fix"]["applied"], bool)
    return data


def required(finding: dict) -> dict:
    out = {k: finding[k] for k in FINDING_KEYS}
    if out["fix"] is not None:
        out["fix"] = {k: out["fix"][k] for k in ("applicability", "applied")}
    return out


@pytest.mark.parametrize("command", ["check", "diff"])
def test_json_schema(project, command):
    project({"shop/services.py": SERVICES, "shop/manager.py": MANAGER, "shop/reused.py": REUSED, "shop/broken.py": SYNTAX_ERROR})
    result = qsfix(command, "--format", "json")
    assert result.exit_code == 3
    data = load_json(result)
    assert data["files"] == {
        "scanned": 6,
        "changed": 1,
        "failed": [{"path": "shop/broken.py", "error": SYNTAX_ERROR_LINE}],
    }
    assert [required(f) for f in data["findings"]] == [
        {
            "path": "shop/manager.py",
            "line": 5,
            "column": 12,
            "code": "QS002",
            "name": "count-for-len",
            "message": "`len(Order.objects)` fetches every row to count them; use `.count()`",
            "fix": None,
            "skip_reason": "a Manager, not a QuerySet: it has no `len()`, is always true, and `bool()` runs no query",
        },
        {
            "path": "shop/reused.py",
            "line": 6,
            "column": 9,
            "code": "QS002",
            "name": "count-for-len",
            "message": data["findings"][1]["message"],
            "fix": {"applicability": "unsafe", "applied": False},
            "skip_reason": "unsafe fix: applied only with --unsafe",
        },
        {
            "path": "shop/services.py",
            "line": 5,
            "column": 12,
            "code": "QS002",
            "name": "count-for-len",
            "message": QS002_MESSAGE,
            "fix": {"applicability": "safe", "applied": True},
            "skip_reason": None,
        },
    ]
    assert data["findings"][1]["message"].startswith("`len(orders)` fetches every row")


@pytest.mark.parametrize("command", ["check", "diff"])
def test_json_exit_codes(project, command):
    project({"shop/services.py": CLEAN})
    result = qsfix(command, "--format", "json")
    assert result.exit_code == 0
    data = load_json(result)
    assert data["findings"] == []
    assert data["files"] == {"scanned": 3, "changed": 0, "failed": []}
    Path("shop/services.py").write_text(SERVICES)
    result = qsfix(command, "--format", "json")
    assert result.exit_code == 1
    assert load_json(result)["files"] == {"scanned": 3, "changed": 1, "failed": []}


def test_json_unsafe_fix_applied_with_unsafe(project):
    project({"shop/reused.py": REUSED})
    data = load_json(qsfix("check", "--format", "json", "--unsafe"))
    assert [required(f)["fix"] for f in data["findings"]] == [{"applicability": "unsafe", "applied": True}]
    assert [f["skip_reason"] for f in data["findings"]] == [None]


# -- skipped sites and suppression ---------------------------------------------------------------
SKIPPY = """\
from shop.models import Order


def g():
    return len(Order.objects)


def h():
    return len(Order.objects.all())  # qsfix: ignore


def f():
    return len(Order.objects.filter(status="x"))
"""


def test_show_skipped_lists_skipped_sites_with_their_reason(project):
    project({"shop/services.py": SKIPPY})
    plain = qsfix("check")
    assert plain.exit_code == 1
    assert plain.stdout == f"shop/services.py:13:12: QS002 {QS002_MESSAGE}\n"
    assert plain.stderr.startswith(
        "3 files scanned, 1 finding (1 fixed in the diff), 2 sites skipped (--show-skipped lists them)"
    )
    shown = qsfix("check", "--show-skipped")
    assert shown.exit_code == 1
    assert shown.stdout.splitlines() == [
        "shop/services.py:5:12: QS002 skipped: a Manager, not a QuerySet: it has no `len()`, is always "
        "true, and `bool()` runs no query — `len(Order.objects)` fetches every row to count them; use `.count()`",
        "shop/services.py:9:12: QS002 skipped: suppressed by a comment on its line — "
        "`len(Order.objects.all())` fetches every row to count them; use `.count()`",
        f"shop/services.py:13:12: QS002 {QS002_MESSAGE}",
    ]


def test_only_skipped_sites_exit_0(project):
    project({"shop/services.py": MANAGER})
    assert qsfix("check").exit_code == 0
    result = qsfix("check", "--show-skipped")
    assert result.exit_code == 0
    assert "skipped: a Manager" in result.stdout


def test_diff_show_skipped_goes_to_stderr(project):
    project({"shop/services.py": SKIPPY})
    plain = qsfix("diff")
    shown = qsfix("diff", "--show-skipped")
    assert shown.exit_code == plain.exit_code == 1
    assert shown.stdout == plain.stdout  # the patch stays a patch
    assert "shop/services.py:5:12: QS002 skipped: a Manager" in shown.stderr
    assert "shop/services.py:9:12: QS002 skipped: suppressed by a comment on its line" in shown.stderr
    assert "QS002 skipped" not in plain.stderr


def test_apply_show_skipped_lists_them_on_stderr(project):
    project({"shop/services.py": SKIPPY})
    result = qsfix("apply", "--yes", "--show-skipped")
    assert result.exit_code == 0
    assert "shop/services.py:5:12: QS002 skipped: a Manager" in result.stderr
    assert "shop/services.py:9:12: QS002 skipped: suppressed by a comment on its line" in result.stderr
    assert read("shop/services.py") == SKIPPY.replace(LEN_X, COUNT_X)


# The comment patterns are case-insensitive (like flake8's `# NOQA`).
@pytest.mark.parametrize(
    "comment",
    ["# noqa: QS002", "# qsfix: ignore[QS002]", "# qsfix: ignore", "# qsfix: ignore[QS001,QS002]", "# noqa:qs002", "# NOQA: QS002", "# QSFIX: IGNORE"],
)
def test_suppression_comments(project, comment):
    project({"shop/services.py": SERVICES.replace(LEN_X, f"{LEN_X}  {comment}")})
    assert qsfix("check").exit_code == 0
    diff = qsfix("diff")
    assert diff.exit_code == 0
    assert diff.stdout == ""
    shown = qsfix("check", "--show-skipped")
    assert "QS002 skipped: suppressed by a comment on its line" in shown.stdout


@pytest.mark.parametrize("comment", ["# qsfix: ignore[QS001]", "# noqa: QS001", "# noqa", "# noqa: E501"])
def test_other_codes_or_a_bare_noqa_do_not_suppress_qs002(project, comment):
    source = SERVICES.replace(LEN_X, f"{LEN_X}  {comment}")
    project({"shop/services.py": source})
    result = qsfix("apply", "--yes")
    assert result.exit_code == 0
    assert read("shop/services.py") == source.replace(LEN_X, COUNT_X)


def test_suppression_applies_to_its_own_line_only(project):
    source = BOTH.replace('if Order.objects.filter(status="z"):', 'if Order.objects.filter(status="z"):  # qsfix: ignore')
    project({"shop/services.py": source})
    result = qsfix("check")
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["QS002"]


# -- --unsafe -------------------------------------------------------------------------------------
def test_unsafe_fix_needs_the_flag(project):
    project({"shop/services.py": REUSED})
    result = qsfix("diff")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert qsfix("apply", "--yes").exit_code == 0
    assert read("shop/services.py") == REUSED

    result = qsfix("diff", "--unsafe")
    assert result.exit_code == 1
    assert "+    n = orders.count()\n" in result.stdout
    assert qsfix("apply", "--yes", "--unsafe").exit_code == 0
    assert read("shop/services.py") == REUSED_UNSAFE_FIXED


# -- [tool.qsfix] in pyproject.toml ---------------------------------------------------------------
def pyproject(root: Path, body: str) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.qsfix]\n" + textwrap.dedent(body))


def codes_reported(*args: str) -> list[str]:
    result = qsfix("check", *args)
    assert result.exit_code in (0, 1), result.stderr
    return [line.split()[1] for line in result.stdout.splitlines()]


def test_config_select_and_the_flag_wins(project):
    root = project({"shop/services.py": BOTH})
    assert codes_reported() == ["QS001", "QS002"]
    pyproject(root, 'select = ["QS001"]\n')
    assert codes_reported() == ["QS001"]
    assert codes_reported("--select", "QS002") == ["QS002"]


def test_config_ignore_and_the_flag_wins(project):
    root = project({"shop/services.py": BOTH})
    pyproject(root, 'ignore = ["qs001"]\n')
    assert codes_reported() == ["QS002"]
    assert codes_reported("--ignore", "QS002") == ["QS001"]


def test_config_unsafe(project):
    root = project({"shop/services.py": REUSED})
    pyproject(root, "unsafe = true\n")
    result = qsfix("apply", "--yes")
    assert result.exit_code == 0
    assert read("shop/services.py") == REUSED_UNSAFE_FIXED


def test_config_exclude_and_the_flag_adds_more(project):
    root = project({"shop/services.py": SERVICES, "legacy/old.py": SERVICES, "scripts/one.py": SERVICES})
    assert [line.split(":")[0] for line in qsfix("check").stdout.splitlines()] == [
        "legacy/old.py", "scripts/one.py", "shop/services.py",
    ]
    pyproject(root, 'exclude = ["legacy"]\n')
    assert [line.split(":")[0] for line in qsfix("check").stdout.splitlines()] == [
        "scripts/one.py", "shop/services.py",
    ]
    result = qsfix("check", "--exclude", "scripts/*")
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["shop/services.py"]
    assert qsfix("apply", "--yes").exit_code == 0
    assert read("legacy/old.py") == SERVICES
    assert read("shop/services.py") == SERVICES_FIXED


def test_config_exclude_matches_the_paths_shown_whatever_folder_is_named(project):
    # `exclude = ["shop/legacy/*"]` keeps shop/legacy/old.py out of `qsfix check .`;
    # it must do the same for `qsfix check shop`, where the file is shown as the same path.
    root = project({"shop/services.py": SERVICES, "shop/legacy/old.py": SERVICES})
    pyproject(root, 'exclude = ["shop/legacy/*"]\n')
    assert qsfix("check", ".").stdout == SERVICES_LINE + "\n"
    assert qsfix("check", "shop").stdout == SERVICES_LINE + "\n"


@pytest.mark.parametrize(
    "body",
    ['select = ["QS999"]\n', 'ignore = ["QS999"]\n', 'unsafe = "yes"\n', 'colour = true\n', "select = [\n"],
    ids=["unknown-select", "unknown-ignore", "bad-unsafe", "unknown-key", "broken-toml"],
)
def test_bad_config_is_a_usage_error(project, body):
    root = project()
    pyproject(root, body)
    result = qsfix("check")
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr
    assert result.stdout == ""


def test_pyproject_without_a_qsfix_section(project):
    root = project()
    (root / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    result = qsfix("check")
    assert result.exit_code == 1
    assert result.stdout == SERVICES_LINE + "\n"


# -- parallel runs give the same answer ---------------------------------------------------------
def test_jobs_do_not_change_the_result(project):
    # enough files for the engine to use a process pool
    count = cli.engine.PARALLEL_THRESHOLD + 1
    project({**{f"shop/m{i:02}.py": SERVICES for i in range(count)}, "shop/broken.py": SYNTAX_ERROR})
    one = qsfix("diff", "-j", "1", "--no-cache")
    many = qsfix("diff", "-j", "2")
    assert one.exit_code == many.exit_code == 3
    assert many.stdout == one.stdout
    assert many.stderr == one.stderr
    assert one.stdout.count("+++ b/shop/m") == count
    assert f"error: {SYNTAX_ERROR_LINE}\n" in many.stderr


def test_zero_jobs_is_a_usage_error(project):
    project()
    assert qsfix("check", "-j", "0").exit_code == 2


def test_version():
    result = qsfix("--version")
    assert result.exit_code == 0
    assert result.stdout == f"qsfix, version {cli.codemods.__version__}\n"


# -- the patch guarantee: `qsfix diff > x.patch` applies to give what `apply --yes` writes -------
def python_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def run_qsfix(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(QSFIX + list(args), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True)


def roundtrip(source: Path, tmp_path: Path, monkeypatch, args: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Copies of `source` patched with git apply, with patch -p1, and rewritten by apply --yes
    must be identical; returns the rewritten files."""
    copies = {name: tmp_path / name for name in ("diffed", "git", "patch", "applied")}
    for copy in copies.values():
        shutil.copytree(source, copy)
    diff = run_qsfix(copies["diffed"], "diff", *args)
    assert diff.returncode == 1, diff.stderr
    patch = diff.stdout
    assert patch.startswith(b"--- a/")
    assert b"files would change" in diff.stderr or b"file would change" in diff.stderr
    assert b"scanned" not in patch  # the summary is on stderr
    assert python_files(copies["diffed"]) == python_files(source)  # diff writes nothing
    (tmp_path / "x.patch").write_bytes(patch)

    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    git = subprocess.run(["git", "apply", str(tmp_path / "x.patch")], cwd=copies["git"], capture_output=True, env=env)
    assert git.returncode == 0, git.stderr
    with open(tmp_path / "x.patch", "rb") as stdin:
        patched = subprocess.run(["patch", "-p1", "--quiet"], cwd=copies["patch"], stdin=stdin, capture_output=True)
    assert patched.returncode == 0, patched.stdout + patched.stderr
    monkeypatch.chdir(copies["applied"])
    applied = qsfix("apply", "--yes", *args)
    assert applied.exit_code == 0, applied.stderr

    expected = python_files(copies["applied"])
    assert expected != python_files(source)
    assert python_files(copies["git"]) == expected
    assert python_files(copies["patch"]) == expected
    # patch leaves no .orig/.rej files behind
    assert sorted(p.name for p in copies["patch"].rglob("*") if p.suffix in (".orig", ".rej")) == []

    again = qsfix("diff", *args)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.stdout == ""
    return expected


def test_patch_roundtrip_on_the_samples(tmp_path, monkeypatch):
    source = tmp_path / "samples"
    shutil.copytree(REPO / "samples", source, ignore=shutil.ignore_patterns("__pycache__"))
    original = python_files(source)
    result = roundtrip(source, tmp_path / "work", monkeypatch)
    changed = sorted(path for path in result if result[path] != original[path])
    assert "shop/services.py" in changed
    # every rewritten file still parses
    for path in changed:
        compile(result[path], path, "exec", dont_inherit=True)


LEN_B = LEN_X.encode()
COUNT_B = COUNT_X.encode()

ODD_FILES: dict[str, bytes] = {
    "shop/crlf.py": (
        b"from shop.models import Order\r\n\r\n\r\n"
        b"def f():\r\n    # comment\r\n    return " + LEN_B + b"\r\n\r\n\r\nX = 1\r\n"
    ),
    "shop/latin.py": (
        "# -*- coding: latin-1 -*-\n# caf\xe9 au lait\nfrom shop.models import Order\n\n"
        'LABEL = "caf\xe9"\n\n\ndef f():\n    return '.encode("latin-1")
        + LEN_B
        + '  # \xe9t\xe9\n'.encode("latin-1")
    ),
    "shop/bom.py": b"\xef\xbb\xbffrom shop.models import Order\n\n\ndef f():\n    return " + LEN_B + b"\n",
    "shop/noeol.py": b"from shop.models import Order\n\n\ndef f():\n    return " + LEN_B,
    "shop/tabs.py": (
        b"from shop.models import Order\n\n\ndef f():\n\tif True:\n"
        b"\t\treturn " + LEN_B + b"\t# tab before the comment\n\treturn 0\n"
    ),
    "shop/mixed.py": (
        b"from shop.models import Order\r\n\n\ndef f():\n    x = 1 \n    return " + LEN_B + b"\r\n"
    ),
    # untouched files stay untouched
    "shop/untouched_crlf.py": b"x = 1\r\ny = 2\r\n",
}


def test_patch_roundtrip_keeps_bytes_outside_the_rewritten_span(tmp_path, monkeypatch):
    source = tmp_path / "project"
    make_project(source, {})
    for rel, data in ODD_FILES.items():
        (source / rel).write_bytes(data)
    original = python_files(source)
    result = roundtrip(source, tmp_path / "work", monkeypatch)
    for rel, data in ODD_FILES.items():
        expected = data.replace(LEN_B, COUNT_B, 1)
        assert result[rel] == expected, rel
    assert result["shop/untouched_crlf.py"] == ODD_FILES["shop/untouched_crlf.py"]
    assert result["shop/models.py"] == original["shop/models.py"]


def test_patch_from_a_parent_folder_applies_from_that_folder(tmp_path, monkeypatch):
    # `qsfix diff proj` run in the parent: the patch's paths start with proj/
    make_project(tmp_path / "src" / "proj", {"shop/services.py": SERVICES})
    shutil.copytree(tmp_path / "src", tmp_path / "dst")
    monkeypatch.chdir(tmp_path / "src")
    diff = qsfix("diff", "proj")
    assert diff.exit_code == 1
    assert diff.stdout == SERVICES_DIFF.replace("shop/services.py", "proj/shop/services.py")
    (tmp_path / "x.patch").write_bytes(diff.stdout_bytes)
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    git = subprocess.run(["git", "apply", str(tmp_path / "x.patch")], cwd=tmp_path / "dst", capture_output=True, env=env)
    assert git.returncode == 0, git.stderr
    assert (tmp_path / "dst/proj/shop/services.py").read_text() == SERVICES_FIXED


def test_diff_from_a_process_prints_a_plain_patch_and_the_summary_on_stderr(tmp_path):
    make_project(tmp_path, {"shop/services.py": SERVICES})
    proc = run_qsfix(tmp_path, "diff")
    assert proc.returncode == 1
    assert proc.stdout.decode() == SERVICES_DIFF
    assert b"\x1b[" not in proc.stdout  # no colour codes in a pipe
    assert proc.stderr.decode().strip() == (
        "3 files scanned, 1 finding (1 fixed in the diff), 0 sites skipped, 1 file would change"
    )


def test_patch_accepts_file_names_with_spaces_and_non_ascii(tmp_path):
    # git ends a `---`/`+++` name that holds a space with a TAB so that patch(1) reads the
    # whole name; without it `patch -p1` stops at the space and cannot find the file.
    make_project(tmp_path / "src", {"scripts/nightly report.py": SERVICES, "scripts/café.py": SERVICES})
    for name in ("git", "patch"):
        shutil.copytree(tmp_path / "src", tmp_path / name)
    diff = run_qsfix(tmp_path / "src", "diff")
    assert diff.returncode == 1
    (tmp_path / "x.patch").write_bytes(diff.stdout)
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    git = subprocess.run(["git", "apply", str(tmp_path / "x.patch")], cwd=tmp_path / "git", capture_output=True, env=env)
    assert git.returncode == 0, git.stderr
    assert (tmp_path / "git/scripts/nightly report.py").read_text() == SERVICES_FIXED
    assert (tmp_path / "git/scripts/café.py").read_text() == SERVICES_FIXED
    with open(tmp_path / "x.patch", "rb") as stdin:
        patched = subprocess.run(
            ["patch", "-p1", "--batch", "--forward"], cwd=tmp_path / "patch", stdin=stdin, capture_output=True
        )
    assert patched.returncode == 0, patched.stdout + patched.stderr
    assert (tmp_path / "patch/scripts/nightly report.py").read_text() == SERVICES_FIXED
    assert (tmp_path / "patch/scripts/café.py").read_text() == SERVICES_FIXED
