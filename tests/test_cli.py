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
            "message": "`len(Order.objects)`",  # no advice that the skip reason contradicts
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
        "true, and `bool()` runs no query — `len(Order.objects)`",
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


# -- issue 12: a bad [tool.qsfix] is one line naming the file, the key and what was expected ------
def write_pyproject(root: Path, text: str) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n\n" + textwrap.dedent(text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tool]\nqsfix = 5\n",
            "tool.qsfix: expected a table (a `[tool.qsfix]` section of `key = value` lines), got an integer (5)",
        ),
        (
            "[tool.qsfix]\nselect = 5\n",
            "[tool.qsfix] select: expected a list of codes or a comma-separated string, got an integer (5)",
        ),
        (
            '[tool.qsfix]\nignore = ["QS001", 2]\n',
            "[tool.qsfix] ignore: expected a list of codes or a comma-separated string, "
            "got an array holding an integer (2)",
        ),
        (
            "[tool.qsfix]\nexclude = {legacy = true}\n",
            "[tool.qsfix] exclude: expected a list of globs or a comma-separated string, got a table",
        ),
        ('[tool.qsfix]\nunsafe = "yes"\n', '[tool.qsfix] unsafe: expected true or false, got a string ("yes")'),
        ("[tool.qsfix]\nall-views = 1\n", "[tool.qsfix] all-views: expected true or false, got an integer (1)"),
        (
            '[tool.qsfix]\nselect = "QS001,QS999"\n',
            "[tool.qsfix] select: unknown code(s) QS999 (known: " + ", ".join(sorted(registry.MODULES)) + ")",
        ),
        (
            "[tool.qsfix]\nexclud = []\n",
            "[tool.qsfix] exclud: unknown key "
            "(did you mean `exclude`? known keys: select, ignore, unsafe, exclude, all-views, keep-names, check-tests)",
        ),
    ],
    ids=["not-a-table", "select-int", "ignore-mixed", "exclude-table", "unsafe-string", "all-views-int",
         "unknown-code-in-string", "unknown-key"],
)
def test_bad_config_is_one_line_naming_file_key_and_expectation(project, text, message):
    root = project()
    write_pyproject(root, text)
    result = qsfix("check")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: pyproject.toml: {message}\n"  # no traceback, no usage banner


def test_bad_config_in_a_parent_folder_names_that_file(project, monkeypatch):
    root = project()
    write_pyproject(root, "[tool.qsfix]\nunsafe = 1\n")
    monkeypatch.chdir(root / "shop")
    result = qsfix("check", ".")
    assert result.exit_code == 2
    # outside the current folder the file is named in full
    assert result.stderr == (
        f"error: {os.path.abspath('../pyproject.toml')}: [tool.qsfix] unsafe: expected true or false, got an integer (1)\n"
    )


def test_bad_config_as_a_process_prints_no_traceback(tmp_path):
    make_project(tmp_path, {"shop/services.py": SERVICES})
    write_pyproject(tmp_path, "[tool]\nqsfix = 5\n")
    proc = run_qsfix(tmp_path, "check")
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode().splitlines() == [
        "error: pyproject.toml: tool.qsfix: expected a table (a `[tool.qsfix]` section of "
        "`key = value` lines), got an integer (5)"
    ]


def test_a_tool_value_that_is_not_a_table_is_not_ours_to_judge(project):
    root = project()
    (root / "pyproject.toml").write_text("tool = 5\n")
    result = qsfix("check")
    assert result.exit_code == 1
    assert result.stdout == SERVICES_LINE + "\n"


@pytest.mark.parametrize(
    "text",
    [
        '[tool.qsfix]\nselect = "qs002"\n',
        '[tool.qsfix]\nselect = "QS001, QS002"\nignore = "QS001"\n',
        '[tool.qsfix]\nselect = ["QS002"]\nignore = []\n',
    ],
    ids=["one-code-string", "comma-separated", "lists"],
)
def test_config_codes_are_a_list_or_a_comma_separated_string(project, text):
    root = project({"shop/services.py": BOTH})
    write_pyproject(root, text)
    assert codes_reported() == ["QS002"]


@pytest.mark.parametrize("text", ['exclude = "legacy/*, scripts/*"\n', 'exclude = ["legacy/*", "scripts/*"]\n'])
def test_config_exclude_is_a_list_or_a_comma_separated_string(project, text):
    root = project({"shop/services.py": SERVICES, "legacy/old.py": SERVICES, "scripts/one.py": SERVICES})
    write_pyproject(root, "[tool.qsfix]\n" + text)
    assert [line.split(":")[0] for line in qsfix("check").stdout.splitlines()] == ["shop/services.py"]


def test_config_boolean_keys_take_either_spelling(project):
    root = project({"shop/services.py": REUSED})
    write_pyproject(root, "[tool.qsfix]\nunsafe = true\nkeep_names = false\nall-views = false\n")
    assert qsfix("apply", "--yes").exit_code == 0
    assert read("shop/services.py") == REUSED_UNSAFE_FIXED


# -- issue 12: a file that is only too new for this Python says so --------------------------------
RUNNING = "%d.%d" % sys.version_info[:2]


def test_syntax_of_a_newer_python_names_the_feature_and_the_python_it_needs(project):
    # PEP 758 (`except A, B:`) needs 3.14: an error on every Python qsfix runs on today
    project({"shop/services.py": SERVICES, "shop/newer.py": "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n"})
    result = qsfix("check")
    assert result.exit_code == 3
    assert result.stdout == SERVICES_LINE + "\n"
    assert (
        "error: shop/newer.py:3:8: uses `except` with several exception types without parentheses (PEP 758), "
        f"which needs Python 3.14; this is Python {RUNNING}: run qsfix under Python 3.14 or newer\n"
    ) in result.stderr


def test_a_plain_syntax_error_stays_a_syntax_error(broken_project):
    broken_project()
    assert f"error: {SYNTAX_ERROR_LINE}\n" in qsfix("check").stderr
    assert "run qsfix under" not in qsfix("check").stderr


# (what Python 3.11 says, the line) -> the feature; recorded from 3.11, 3.12 and 3.13
NEWER_SYNTAX = [
    ("invalid syntax", "type Point = tuple[float, float]", "a `type` alias statement (PEP 695)", (3, 12)),
    ("invalid syntax", "type ListOf[T] = list[T]", "a `type` alias statement (PEP 695)", (3, 12)),
    ("expected '('", "def first[T](items: list[T]) -> T:", "type parameters (PEP 695)", (3, 12)),
    ("expected '('", "    async def first[T](items):", "type parameters (PEP 695)", (3, 12)),
    ("invalid syntax", "class Box[T](Base):", "type parameters (PEP 695)", (3, 12)),
    ("expected '('", "def f[T = int](x: T) -> T:", "a type parameter default (PEP 696)", (3, 13)),
    ("f-string: unmatched '['", 's = f"{x["a"]}"', None, (3, 12)),
    ("f-string expression part cannot include a backslash", "s = f\"{'\\n'.join(rows)}\"", None, (3, 12)),
    ("f-string: expecting '}'", "s = f'{\",\".join(\"ab\")}' + f\"{\"x\"}\"", None, (3, 12)),
    ("unterminated string literal (detected at line 1)", 's = f"{1 # one', None, (3, 12)),
    ("multiple exception types must be parenthesized", "except ValueError, TypeError:",
     "`except` with several exception types without parentheses (PEP 758)", (3, 14)),
    ("multiple exception types must be parenthesized", "    except KeyError, errors.Http404 :",
     "`except` with several exception types without parentheses (PEP 758)", (3, 14)),
    ("invalid syntax", "    except* ValueError:", "`except*` (PEP 654)", (3, 11)),
    ("invalid syntax", 's = t"{x}"', 'a template string `t"..."` (PEP 750)', (3, 14)),
]
PEP_701 = "an f-string with its own quotes, a backslash, a comment or a line break inside `{...}` (PEP 701)"


@pytest.mark.parametrize(("message", "line", "feature", "version"), NEWER_SYNTAX)
def test_newer_syntax_is_told_apart_by_its_tokens(message, line, feature, version):
    from codemods.syntax_versions import NewerSyntax, _feature

    assert _feature(message, line) == NewerSyntax(feature or PEP_701, version)


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ("invalid syntax", "def f(:"),
        ("unterminated string literal (detected at line 1)", 's = f"{x} and more'),
        ("invalid syntax", 'x = f"{y}" +'),
        ("multiple exception types must be parenthesized", "except ValueError, TypeError as error:"),
        # Python 2's `except Exception, e:`: Python 3.14 parses it, but it is no PEP 758 code
        ("multiple exception types must be parenthesized", "except Exception, e:"),
        ("invalid syntax", "type = 5 5"),
    ],
)
def test_plain_syntax_errors_are_not_blamed_on_a_newer_python(message, line):
    from codemods.syntax_versions import _feature

    assert _feature(message, line) is None


def test_a_feature_the_running_python_has_is_not_blamed():
    from codemods import syntax_versions

    error = SyntaxError("invalid syntax", ("x.py", 3, 5, "    except* ValueError:\n", 3, 6))
    assert syntax_versions.describe(error, running=(3, 10)) == (
        "uses `except*` (PEP 654), which needs Python 3.11; this is Python 3.10: run qsfix under Python 3.11 or newer"
    )
    assert syntax_versions.describe(error, running=(3, 11)) is None


# -- issue 12: one line per finding -------------------------------------------------------------
MULTI_LINE = """\
from shop.models import Order


def f():
    return len(
        Order.objects.filter(
            status="x",
        ).exclude(pk=1)
    )


def g():
    if Order.objects.filter(status="z",
                            pk__gt=3):
        return 1
"""


def test_check_prints_one_line_per_finding_for_multi_line_calls(project):
    project({"shop/services.py": MULTI_LINE})
    result = qsfix("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "shop/services.py:5:12: QS002 `len(Order.objects.filter(...).exclude(pk=1))` fetches every row "
        "to count them; use `.count()`",
        "shop/services.py:13:8: QS001 testing the truth of `Order.objects.filter(...)` fetches every row; "
        "use `.exists()`",
    ]


@pytest.mark.parametrize(
    ("code", "quoted"),
    [
        ('Order.objects.filter(status="x")', 'Order.objects.filter(status="x")'),
        ('Order.objects.filter(\n    status="x",\n)', "Order.objects.filter(...)"),
        ('Order.objects.filter(a=1).exclude(\n    b=2\n).order_by("c")', 'Order.objects.filter(a=1).exclude(...).order_by("c")'),
        ("(Order.objects.all()\n    .filter(a=1))", "(Order.objects.all().filter(a=1))"),
        ('Order.objects.filter(note="""\nlong\n""")', "Order.objects.filter(...)"),
        ("Order.objects.filter(a=1,  # why\n    b=2)", "Order.objects.filter(...)"),
        ('Order.objects.filter(status="open", customer=customer).exclude(created__gte=yesterday, total__gt=100)',
         'Order.objects.filter(status="open", customer=customer).exclude(...)'),
        ("x" * 100, "x" * 69 + "..."),
    ],
    ids=["short", "multi-line-call", "middle-call", "grouping-parentheses", "multi-line-string", "comment",
         "long-line", "long-name"],
)
def test_quoted_source_is_one_short_line(code, quoted):
    from codemods.wording import QUOTE_LIMIT, short_code

    assert short_code(code) == quoted
    assert "\n" not in quoted and len(quoted) <= QUOTE_LIMIT


def test_finding_line_escapes_what_would_break_the_line():
    from codemods.findings import Finding

    finding = Finding("shop/a\nb.py", 3, 1, "QS002", "count-for-len", "`len(x)`", skip_reason="a\treason")
    assert cli.finding_line(finding) == "shop/a\\nb.py:3:1: QS002 skipped: a\\treason — `len(x)`"


# -- a crash, an aborted question ----------------------------------------------------------------
@pytest.mark.parametrize("command", [["check"], ["diff"], ["apply", "--yes"]])
def test_a_crash_is_exit_3_with_one_line(project, monkeypatch, command):
    project()

    def crash(*args, **kwargs):
        raise IndexError("pop from empty list\nsecond line")

    monkeypatch.setattr(cli.engine, "run", crash)
    result = qsfix(*command)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        "qsfix: internal error: IndexError: pop from empty list (set QSFIX_TRACEBACK=1 to see where)\n"
    )


def test_a_crash_shows_the_traceback_when_asked(project, monkeypatch):
    project()
    monkeypatch.setenv("QSFIX_TRACEBACK", "1")
    monkeypatch.setattr(cli.engine, "run", lambda *a, **k: {}["missing"])
    result = qsfix("check")
    assert result.exit_code == 3
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert result.stderr.endswith("qsfix: internal error: KeyError: 'missing' (set QSFIX_TRACEBACK=1 to see where)\n")


@pytest.mark.parametrize("flag", [[], ["--interactive"]])
def test_end_of_input_at_the_question_writes_nothing_and_is_not_exit_1(project, interactive, flag):
    project()
    result = qsfix("apply", *flag, input="")
    assert result.exit_code == 130
    assert result.stderr.endswith("qsfix: aborted at the question; nothing was written\n")
    assert read("shop/services.py") == SERVICES


# -- apply: review that scales --------------------------------------------------------------------
OTHER_FILE = TWO_CHANGES.replace('"a"', '"c"').replace('"b"', '"d"')


@pytest.mark.parametrize(
    ("answers", "services", "other"),
    [
        # f: this change and the rest of shop/a.py, then asked about shop/b.py
        ("f\nn\nn\n", TWO_CHANGES.replace(
            'return len(Order.objects.filter(status="a"))', FIRST_FIXED).replace(
            'return len(Order.objects.filter(status="b"))', SECOND_FIXED), OTHER_FILE),
        # n, then f on the second change of shop/a.py: the first stays
        ("n\nf\nn\nn\n", TWO_CHANGES.replace('return len(Order.objects.filter(status="b"))', SECOND_FIXED), OTHER_FILE),
    ],
    ids=["file-from-first", "file-from-second"],
)
def test_apply_interactive_rest_of_this_file(project, interactive, answers, services, other):
    project({"shop/a.py": TWO_CHANGES, "shop/b.py": OTHER_FILE})
    result = qsfix("apply", "-i", input=answers)
    assert result.exit_code == 0
    assert read("shop/a.py") == services
    assert read("shop/b.py") == other
    assert result.stderr.count("Apply this change?") == answers.count("\n")


def test_apply_interactive_rest_of_this_pass(project, interactive):
    # QS001 in has_any(), QS002 in how_many(), in two files: p on the first QS002 takes both
    project({"shop/a.py": BOTH, "shop/b.py": BOTH})
    result = qsfix("apply", "-i", input="n\np\nn\n")
    assert result.exit_code == 0
    only_qs002 = BOTH.replace("len(Order.objects.filter(status=\"x\"))", COUNT_X)
    assert read("shop/a.py") == only_qs002
    assert read("shop/b.py") == only_qs002
    assert result.stderr.count("Apply this change?") == 3  # QS001 a, QS002 a (p), QS001 b
    assert result.stderr.rstrip("\n").endswith(
        "4 files scanned, 4 findings (2 fixed in the diff), 0 sites skipped, 2 files written"
    )


@pytest.mark.parametrize(
    ("answers", "summary"),
    [
        ("y\nn\n", "3 files scanned, 2 findings (1 fixed in the diff), 0 sites skipped, 1 file written"),
        ("n\nn\n", "3 files scanned, 2 findings (0 fixed in the diff), 0 sites skipped, 0 files written"),
        ("q\n", "3 files scanned, 2 findings (0 fixed in the diff), 0 sites skipped, 0 files written"),
    ],
)
def test_apply_interactive_summary_counts_what_was_accepted(project, interactive, answers, summary):
    project({"shop/services.py": TWO_CHANGES})
    result = qsfix("apply", "-i", input=answers)
    assert result.exit_code == 0
    assert result.stderr.rstrip("\n").endswith(summary)


def test_apply_interactive_prints_the_summary_and_failures_before_asking(broken_project, interactive):
    broken_project()
    result = qsfix("apply", "-i", input="n\n")
    assert result.exit_code == 3
    before = result.stderr.split("Apply this change?")[0]
    assert f"error: {SYNTAX_ERROR_LINE}\n" in before
    assert "1 file would change, 1 failed\nfixes per pass: QS002 1\n" in before
    assert result.stderr.count(SYNTAX_ERROR_LINE) == 1


def test_plain_apply_prints_the_summary_and_failures_before_asking(broken_project, interactive):
    broken_project()
    result = qsfix("apply", input="y\n")
    assert result.exit_code == 3
    before, after = result.stderr.split("Write 1 file(s)?")
    assert f"error: {SYNTAX_ERROR_LINE}\n" in before
    assert before.endswith("1 file would change, 1 failed\nfixes per pass: QS002 1\n")
    assert SYNTAX_ERROR_LINE not in after  # said once
    assert after.rstrip("\n").endswith("1 file written, 1 failed")
    assert read("shop/services.py") == SERVICES_FIXED


def test_apply_help_names_every_answer():
    result = qsfix("apply", "--help")
    text = " ".join(result.stdout.split())
    for words in ("y yes", "n no", "f this and the rest of this file", "p this and the rest of this pass",
                  "a all remaining", "q quit"):
        assert words in text, words


def test_apply_quiet_prints_only_errors_and_the_summary(broken_project):
    broken_project()
    result = qsfix("apply", "--yes", "--quiet", "--show-skipped")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {SYNTAX_ERROR_LINE}\n"
        "4 files scanned, 1 finding (1 fixed in the diff), 0 sites skipped, 1 file written, 1 failed\n"
    )
    assert read("shop/services.py") == SERVICES_FIXED


def test_apply_quiet_and_interactive_exclude_each_other(project, interactive):
    project()
    result = qsfix("apply", "--quiet", "--interactive")
    assert result.exit_code == 2
    assert read("shop/services.py") == SERVICES


def test_apply_json(broken_project):
    broken_project()
    result = qsfix("apply", "--yes", "--format", "json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["version"] == 1
    assert set(data) >= {"version", "findings", "files", "written"}
    assert data["written"] == ["shop/services.py"]
    assert data["files"]["failed"] == [{"path": "shop/broken.py", "error": SYNTAX_ERROR_LINE}]
    assert [(f["path"], f["code"], f["fix"]["applied"]) for f in data["findings"]] == [
        ("shop/services.py", "QS002", True)
    ]
    assert read("shop/services.py") == SERVICES_FIXED
    assert "--- a/" not in result.stdout


def test_apply_json_reports_a_file_that_cannot_be_written(project, monkeypatch):
    project({"shop/services.py": SERVICES, "shop/other.py": SERVICES})
    real_run = cli.engine.run

    def run_then_edit(*args, **kwargs):
        result = real_run(*args, **kwargs)
        Path("shop/other.py").write_text(SERVICES + "# edited meanwhile\n")
        return result

    monkeypatch.setattr(cli.engine, "run", run_then_edit)
    result = qsfix("apply", "--yes", "--format", "json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["written"] == ["shop/services.py"]
    assert data["files"]["failed"] == [
        {"path": "shop/other.py", "error": "shop/other.py: changed since it was read; not written"}
    ]


def test_apply_json_with_nothing_to_do(project):
    project({"shop/services.py": CLEAN})
    result = qsfix("apply", "--yes", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["written"] == [] and data["findings"] == [] and data["files"]["failed"] == []


def test_apply_json_without_yes(project, monkeypatch):
    project()
    # a non-interactive stdin: as plain apply, nothing written, exit 2
    result = qsfix("apply", "--format", "json")
    assert result.exit_code == 2
    assert "nothing was written" in result.stderr
    # on a terminal: it needs --yes (JSON cannot hold a question)
    monkeypatch.setattr(cli, "_stdin_is_interactive", lambda: True)
    result = qsfix("apply", "--format", "json", input="y\n")
    assert result.exit_code == 2
    assert "--format json writes without asking: add --yes" in result.stderr
    assert result.stdout == ""
    assert read("shop/services.py") == SERVICES


# -- -j is capped at the CPU count ------------------------------------------------------------------
def test_jobs_are_capped_at_the_cpu_count(project, monkeypatch):
    project({f"shop/s{i:02}.py": SERVICES for i in range(45)})  # enough files for workers
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 2)
    started: list[int] = []
    real_workers = cli.engine._workers

    def recording_workers(jobs):
        started.append(jobs)
        return real_workers(jobs)

    monkeypatch.setattr(cli.engine, "_workers", recording_workers)
    result = qsfix("check", "-j", "64", "--no-cache")
    assert result.exit_code == 1
    assert started == [2]
    assert cli.worker_count(None) == 2 and cli.worker_count(1) == 1


@pytest.mark.parametrize("command", ["diff", "check"])
def test_a_reader_that_leaves_early_is_no_crash(project, command):
    """`qsfix diff | head`: stdout closes before qsfix writes; it stops quietly (141, as git)."""
    root = project()
    proc = subprocess.Popen(QSFIX + [command], cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    assert b"internal error" not in stderr and b"Traceback" not in stderr and b"Exception ignored" not in stderr


# -- --stdin-filename in a folder tree with no project marker -----------------------------------------
def test_stdin_without_a_project_marker_indexes_the_files_folder(project):
    root = project({})
    assert not any((root / marker).exists() for marker in (".git", "pyproject.toml", "setup.py", "manage.py"))
    # as `qsfix check shop` would: the models next to the file are known
    result = qsfix("check", "-", "--stdin-filename", "shop/services.py", input=SERVICES)
    assert result.exit_code == 1
    assert result.stdout == f"shop/services.py:5:12: QS002 {QS002_MESSAGE}\n"


def test_namespace_app_found_from_the_command_line(tmp_path):
    write_project(tmp_path, {"manage.py": "", "shop/models.py": EXAMPLE_MODELS, "shop/services.py": SERVICES})
    (tmp_path / "shop" / "__init__.py").unlink()  # a PEP 420 app folder
    proc = subprocess.run(QSFIX + ["check", "--no-cache"], cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True)
    assert proc.returncode == 1
    assert proc.stdout.decode() == f"shop/services.py:5:12: QS002 {QS002_MESSAGE}\n"
