"""Integrations (issue 8): SARIF and GitHub output, stdin mode, --changed-since, the generated
rule docs, the README's tested commands, and the pre-commit hooks run by a real pre-commit.

In-process tests use click's CliRunner inside a throwaway project; the README commands and
pre-commit run `qsfix` as a process, from the current virtual environment.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from cli import main
from codemods import registry
from codemods.base import EXAMPLE_MODELS
from codemods.files import split_lines
from codemods.reports import github
from tests.helpers import REPO, write_project

# the same small project as the CLI tests
from tests.test_cli import BOTH, LEN_X, COUNT_X, SERVICES, SERVICES_FIXED, SERVICES_DIFF, CLEAN, QS002_MESSAGE  # noqa: E402

# a safe QS001 fix, a QS002 fix, a Manager (declined), a suppressed site, an unsafe site
MIXED = BOTH + """

def manager():
    return len(Order.objects)


def quiet():
    return len(Order.objects.all())  # qsfix: ignore


def reused():
    orders = Order.objects.filter(status="y")
    n = len(orders)
    for o in orders:
        print(o)
    return n
"""

SYNTAX_ERROR = "x = 1\n\ndef broken(:\n    pass\n"


def qsfix(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A Django project (`manage.py`, the pass examples' models) whose root is the working folder."""

    def build(files: dict[str, str]) -> Path:
        write_project(tmp_path, {"manage.py": "", "shop/models.py": EXAMPLE_MODELS, **files})
        monkeypatch.chdir(tmp_path)
        return tmp_path

    return build


# -- SARIF -----------------------------------------------------------------------------------
SCHEMA_PATH = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif_validator():
    import jsonschema
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # the official schema says `"$schema": "http://json-schema.org/draft-04/schema#"`
    validator_class = jsonschema.validators.validator_for(schema)
    assert validator_class is jsonschema.Draft4Validator
    validator_class.check_schema(schema)
    return validator_class(schema)


def load_sarif(result, validator) -> dict:
    data = json.loads(result.stdout)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert data["version"] == "2.1.0"
    assert len(data["runs"]) == 1
    return data["runs"][0]


def apply_replacements(text: str, replacements: list[dict]) -> str:
    """What a SARIF viewer does with a fix: replace each deletedRegion (line/column positions
    in the original, columns in code points) with the insertedContent."""
    lines = split_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    spans = []
    for r in replacements:
        region = r["deletedRegion"]
        start = offset(region["startLine"], region["startColumn"])
        end = offset(region["endLine"], region["endColumn"])
        assert start <= end
        spans.append((start, end, r.get("insertedContent", {}).get("text", "")))
    spans.sort()
    for (_, end, _), (start, _, _) in zip(spans, spans[1:]):
        assert end <= start, "replacements overlap"
    for start, end, inserted in reversed(spans):
        text = text[:start] + inserted + text[end:]
    return text


@pytest.mark.parametrize("command", ["check", "diff"])
def test_sarif_is_valid_and_carries_rules_results_and_fixes(project, sarif_validator, command):
    project({"shop/services.py": SERVICES, "shop/mixed.py": MIXED})
    result = qsfix(command, "--format", "sarif")
    assert result.exit_code == 1
    run = load_sarif(result, sarif_validator)

    driver = run["tool"]["driver"]
    assert driver["name"] == "qsfix"
    assert driver["version"] == cli.codemods.__version__
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(info.code for info in registry.PASSES)
    for rule in rules:
        info = registry.get_pass(rule["id"])
        assert rule["name"] == info.name
        assert rule["shortDescription"]["text"] == info.summary
        assert rule["help"]["markdown"] == cli.explain_markdown(info)
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path.cwd().as_uri() + "/"
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]

    # without --show-skipped: exactly the findings `check` prints
    results = run["results"]
    assert [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"],
         r["locations"][0]["physicalLocation"]["region"]["startColumn"], r["level"])
        for r in results
    ] == [
        ("QS001", "shop/mixed.py", 5, 8, "warning"),
        ("QS002", "shop/mixed.py", 10, 12, "warning"),
        ("QS002", "shop/services.py", 5, 12, "warning"),
    ]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert "kind" not in r and "suppressions" not in r
    assert results[2]["message"]["text"] == QS002_MESSAGE
    assert results[2]["properties"]["fix"] == {
        "applicability": "safe", "applied": True, "title": results[2]["properties"]["fix"]["title"],
    }

    # one fix per changed file, on its first fixed finding; applying it gives what `apply` writes
    assert [("fixes" in r) for r in results] == [True, False, True]
    services_fix = results[2]["fixes"][0]
    change = services_fix["artifactChanges"][0]
    assert change["artifactLocation"] == {"uri": "shop/services.py", "uriBaseId": "%SRCROOT%"}
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 5, "startColumn": 1, "endLine": 6, "endColumn": 1},
        "insertedContent": {"text": f"    return {COUNT_X}\n"},
    }]
    assert apply_replacements(SERVICES, change["replacements"]) == SERVICES_FIXED
    mixed_change = results[0]["fixes"][0]["artifactChanges"][0]
    assert "2 fixes" in results[0]["fixes"][0]["description"]["text"]
    fixed_by_sarif = apply_replacements(MIXED, mixed_change["replacements"])

    assert qsfix("apply", "--yes").exit_code == 0
    assert Path("shop/mixed.py").read_text() == fixed_by_sarif
    assert Path("shop/services.py").read_text() == SERVICES_FIXED


def test_sarif_show_skipped_marks_suppressed_and_declined_sites(project, sarif_validator):
    project({"shop/mixed.py": MIXED})
    run = load_sarif(qsfix("check", "--format", "sarif", "--show-skipped"), sarif_validator)
    by_line = {r["locations"][0]["physicalLocation"]["region"]["startLine"]: r for r in run["results"]}
    assert sorted(by_line) == [5, 10, 14, 18, 23]
    # a Manager: declined by the tool, an observation rather than a problem
    manager = by_line[14]
    assert manager["kind"] == "informational"
    assert manager["level"] == "none"
    assert manager["message"]["text"].startswith("skipped: a Manager, not a QuerySet")
    assert manager["properties"]["skipReason"].startswith("a Manager, not a QuerySet")
    assert "suppressions" not in manager
    # the user's `# qsfix: ignore`: a suppressed result, which viewers hide
    quiet = by_line[18]
    assert quiet["suppressions"] == [
        {"kind": "inSource", "justification": "suppressed by a comment on its line"}
    ]
    assert quiet["level"] == "warning" and "kind" not in quiet
    # an unsafe fix not applied: declined too
    unsafe = by_line[23]
    assert unsafe["kind"] == "informational"
    assert unsafe["properties"]["fix"] == {
        "applicability": "unsafe", "applied": False, "title": unsafe["properties"]["fix"]["title"],
    }
    assert "fixes" not in unsafe


def test_sarif_reports_unreadable_files_as_notifications(project, sarif_validator):
    project({"shop/services.py": SERVICES, "shop/broken.py": SYNTAX_ERROR})
    result = qsfix("diff", "--format", "sarif")
    assert result.exit_code == 3
    run = load_sarif(result, sarif_validator)
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [{
        "level": "error",
        "message": {"text": "shop/broken.py:3:12: syntax error: invalid syntax"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "shop/broken.py", "uriBaseId": "%SRCROOT%"}}}],
    }]
    assert [r["ruleId"] for r in run["results"]] == ["QS002"]


def test_sarif_fix_keeps_crlf_and_a_last_line_without_newline(project, sarif_validator):
    source = "from shop.models import Order\r\n\r\n\r\ndef f():\r\n    return " + LEN_X
    root = project({})
    (root / "shop" / "odd.py").write_bytes(source.encode())
    run = load_sarif(qsfix("diff", "--format", "sarif"), sarif_validator)
    (result,) = run["results"]
    replacements = result["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacements == [{
        "deletedRegion": {"startLine": 5, "startColumn": 1, "endLine": 5, "endColumn": len("    return " + LEN_X) + 1},
        "insertedContent": {"text": "    return " + COUNT_X},
    }]
    assert apply_replacements(source, replacements) == source.replace(LEN_X, COUNT_X)


def test_sarif_uri_is_percent_encoded(project, sarif_validator):
    project({"shop/my report.py": SERVICES})
    run = load_sarif(qsfix("check", "--format", "sarif"), sarif_validator)
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "shop/my%20report.py"


def test_sarif_without_findings(project, sarif_validator):
    project({"shop/services.py": CLEAN})
    result = qsfix("check", "--format", "sarif")
    assert result.exit_code == 0
    assert load_sarif(result, sarif_validator)["results"] == []


# -- GitHub workflow commands ------------------------------------------------------------------
def test_github_lines_are_exact(project):
    project({"shop/services.py": SERVICES, "shop/mixed.py": MIXED})
    result = qsfix("check", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::warning file=shop/mixed.py,line=5,col=8,title=QS001::testing the truth of "
        '`Order.objects.filter(status="z")` fetches every row; use `.exists()`',
        f"::warning file=shop/mixed.py,line=10,col=12,title=QS002::{QS002_MESSAGE}",
        f"::warning file=shop/services.py,line=5,col=12,title=QS002::{QS002_MESSAGE}",
    ]
    # diff: the same annotations, and the exit status of diff
    diff = qsfix("diff", "--format", "github")
    assert diff.exit_code == 1
    assert diff.stdout == result.stdout


def test_github_escapes_properties_and_data(project):
    # GitHub's rules: in the message % \r \n; in properties also : and , (a message is one
    # line: the multi-line call is quoted on one)
    multi_line = 'from shop.models import Order\n\n\ndef f():\n    return len(\n        Order.objects.filter(status="100%")\n    )\n'
    root = project({})
    folder = root / "shop" / "a,b:c"
    folder.mkdir()
    (folder / "x%y.py").write_text(multi_line)
    result = qsfix("check", "--format", "github", "shop/a,b:c")
    assert result.exit_code == 1
    assert result.stdout == (
        "::warning file=shop/a%2Cb%3Ac/x%25y.py,line=5,col=12,title=QS002::"
        '`len(Order.objects.filter(status="100%25"))` fetches every row to count them; use `.count()`\n'
    )


def test_github_escape_functions():
    assert github._github_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d"
    assert github._github_property("100% a\r\nb: c, d") == "100%25 a%0D%0Ab%3A c%2C d"


def test_github_skipped_sites_as_notices_and_failures_as_errors(project):
    project({"shop/mixed.py": MIXED, "shop/broken.py": SYNTAX_ERROR})
    plain = qsfix("check", "--format", "github")
    assert plain.exit_code == 3
    assert "::notice" not in plain.stdout
    assert plain.stdout.splitlines()[-1] == (
        "::error file=shop/broken.py,title=qsfix::shop/broken.py:3:12: syntax error: invalid syntax"
    )
    shown = qsfix("check", "--format", "github", "--show-skipped").stdout.splitlines()
    assert (
        "::notice file=shop/mixed.py,line=18,col=12,title=QS002 skipped::suppressed by a comment on "
        "its line — `len(Order.objects.all())` fetches every row to count them; use `.count()`"
    ) in shown
    assert sum(line.startswith("::notice") for line in shown) == 3


# -- stdin ----------------------------------------------------------------------------------------
def test_apply_stdin_prints_the_rewritten_source_and_writes_nothing(project):
    root = project({"shop/services.py": CLEAN})
    # the source on stdin differs from the file on disk: stdin is what is analysed
    result = qsfix("apply", "-", "--stdin-filename", "shop/services.py", input=SERVICES)
    assert result.exit_code == 0
    assert result.stdout == SERVICES_FIXED
    assert "1 file scanned" in result.stderr
    assert (root / "shop/services.py").read_text() == CLEAN
    assert not (root / ".qsfix_cache").exists()


def test_apply_stdin_for_a_file_that_does_not_exist_yet_knows_the_models(project):
    root = project({})
    result = qsfix("apply", "-", "--stdin-filename", "shop/new.py", input=SERVICES)
    assert result.exit_code == 0
    assert result.stdout == SERVICES_FIXED
    assert not (root / "shop/new.py").exists()


def test_apply_stdin_without_changes_echoes_the_input_bytes(project):
    project({})
    data = CLEAN.replace("\n", "\r\n").encode()
    result = qsfix("apply", "-", "--stdin-filename", "shop/services.py", input=data)
    assert result.exit_code == 0
    assert result.stdout_bytes == data


def test_apply_stdin_that_does_not_parse_echoes_it_and_exits_3(project):
    project({})
    result = qsfix("apply", "-", "--stdin-filename", "shop/broken.py", input=SYNTAX_ERROR)
    assert result.exit_code == 3
    assert result.stdout == SYNTAX_ERROR
    assert "error: shop/broken.py:3:12: syntax error" in result.stderr


def test_diff_and_check_stdin(project):
    project({})
    diff = qsfix("diff", "-", "--stdin-filename", "shop/services.py", input=SERVICES)
    assert diff.exit_code == 1
    assert diff.stdout == SERVICES_DIFF
    check = qsfix("check", "-", "--stdin-filename", "shop/services.py", input=SERVICES)
    assert check.exit_code == 1
    assert check.stdout == f"shop/services.py:5:12: QS002 {QS002_MESSAGE}\n"
    clean = qsfix("check", "-", "--stdin-filename", "shop/services.py", input=CLEAN)
    assert clean.exit_code == 0
    assert clean.stdout == ""
    data = json.loads(qsfix("check", "-", "--stdin-filename", "shop/services.py", "--format", "json", input=SERVICES).stdout)
    assert [f["path"] for f in data["findings"]] == ["shop/services.py"]
    assert data["files"]["scanned"] == 1


def test_stdin_from_a_process(tmp_path):
    write_project(tmp_path, {"manage.py": "", "shop/models.py": EXAMPLE_MODELS})
    proc = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "apply", "-", "--stdin-filename", "shop/services.py"],
        cwd=tmp_path, input=SERVICES.encode(), capture_output=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == SERVICES_FIXED.encode()
    assert not (tmp_path / "shop/services.py").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "-"], "`-` needs --stdin-filename"),
        (["diff", "-"], "`-` needs --stdin-filename"),
        (["apply", "-"], "`-` needs --stdin-filename"),
        (["check", "--stdin-filename", "shop/services.py"], "--stdin-filename is only used with the path `-`"),
        (["check", "-", "shop", "--stdin-filename", "shop/services.py"], "cannot be combined with other paths"),
        (["apply", "-", "--interactive", "--stdin-filename", "shop/services.py"], "--interactive"),
        (["check", "-", "--stdin-filename", "x.py", "--changed-since", "HEAD"], "--changed-since cannot be combined"),
    ],
)
def test_stdin_usage_errors(project, args, message):
    project({"shop/services.py": SERVICES})
    result = qsfix(*args, input=SERVICES)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert Path("shop/services.py").read_text() == SERVICES


# -- --changed-since -------------------------------------------------------------------------------
GIT_ENV = {
    "GIT_AUTHOR_NAME": "qsfix tests", "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "qsfix tests", "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def repo(project, monkeypatch, tmp_path):
    """A git repository whose first commit holds six files with a finding each."""
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    root = project({f"shop/m{i}.py": SERVICES for i in range(6)})
    (root / ".gitignore").write_text("ignored.py\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def paths_checked(*args: str) -> list[str]:
    result = qsfix("check", *args)
    assert result.exit_code in (0, 1), result.stderr
    return [line.split(":")[0] for line in result.stdout.splitlines()]


def test_changed_since_takes_committed_staged_unstaged_and_untracked_files(repo):
    (repo / "shop/m0.py").write_text(SERVICES + "# committed on the branch\n")
    git(repo, "commit", "-q", "-am", "branch")
    (repo / "shop/m1.py").write_text(SERVICES + "# staged\n")
    git(repo, "add", "shop/m1.py")
    (repo / "shop/m2.py").write_text(SERVICES + "# not staged\n")
    (repo / "shop/new.py").write_text(SERVICES)  # untracked
    (repo / "shop/ignored.py").write_text(SERVICES)  # untracked but ignored
    git(repo, "rm", "-q", "shop/m5.py")  # deleted: nothing to check
    assert paths_checked("--changed-since", "HEAD~1") == [
        "shop/m0.py", "shop/m1.py", "shop/m2.py", "shop/new.py",
    ]
    assert paths_checked("--changed-since", "HEAD") == ["shop/m1.py", "shop/m2.py", "shop/new.py"]
    # intersected with the PATHs
    assert paths_checked("--changed-since", "HEAD~1", "shop/m0.py", "shop/m2.py", "shop/m3.py") == [
        "shop/m0.py", "shop/m2.py",
    ]
    # everything as usual without the option
    assert paths_checked() == [f"shop/m{i}.py" for i in range(5)] + ["shop/new.py"]


def test_changed_since_nothing_changed(repo):
    for args in (["check"], ["diff"], ["apply", "--yes"]):
        result = qsfix(*args, "--changed-since", "HEAD")
        assert result.exit_code == 0, args
        assert result.stdout == ""
        assert result.stderr.startswith("0 files scanned")


def test_changed_since_diff_and_apply_only_touch_changed_files(repo):
    (repo / "shop/m3.py").write_text(SERVICES + "# edited\n")
    diff = qsfix("diff", "--changed-since", "HEAD")
    assert diff.exit_code == 1
    assert diff.stdout.count("+++ b/") == 1
    assert "+++ b/shop/m3.py" in diff.stdout
    assert qsfix("apply", "--yes", "--changed-since", "HEAD").exit_code == 0
    assert (repo / "shop/m3.py").read_text() == SERVICES_FIXED + "# edited\n"
    assert (repo / "shop/m4.py").read_text() == SERVICES


def test_changed_since_the_models_come_from_the_whole_project(repo):
    # only services.py changed; the models file is not a target but its models are known
    (repo / "shop/services.py").write_text(SERVICES)
    result = qsfix("check", "--changed-since", "HEAD")
    assert result.exit_code == 1
    assert result.stdout == f"shop/services.py:5:12: QS002 {QS002_MESSAGE}\n"


def test_changed_since_a_branch_that_moved_on_counts_from_where_they_forked(repo):
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "shop/m1.py").write_text(SERVICES + "# feature\n")
    git(repo, "commit", "-q", "-am", "feature work")
    git(repo, "checkout", "-q", "main")
    (repo / "shop/m2.py").write_text(SERVICES + "# main moved on\n")
    git(repo, "commit", "-q", "-am", "main work")
    git(repo, "checkout", "-q", "feature")
    # main's own later change to m2 is not this branch's
    assert paths_checked("--changed-since", "main") == ["shop/m1.py"]


@pytest.mark.parametrize("ref", ["no-such-branch", "HEAD~5", "--output=x"])
def test_changed_since_unknown_revision_is_a_usage_error(repo, ref):
    result = qsfix("check", "--changed-since", ref)
    assert result.exit_code == 2
    assert f"unknown git revision: {ref}" in result.stderr
    assert result.stdout == ""
    assert not (repo / "x").exists()


def test_changed_since_outside_a_repository_is_a_usage_error(project, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    project({"shop/services.py": SERVICES})
    result = qsfix("diff", "--changed-since", "main")
    assert result.exit_code == 2
    assert "not inside a git repository" in result.stderr
    assert result.stdout == ""


# -- the rule docs ---------------------------------------------------------------------------------
def load_gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_rule_docs_are_what_the_script_generates():
    gen_docs = load_gen_docs()
    out_of_date = gen_docs.differences(REPO)
    assert out_of_date == [], f"docs out of date: {out_of_date}; run `python scripts/gen_docs.py`"


def test_every_registered_pass_has_a_page_that_explain_prints():
    for info in registry.PASSES:
        page = REPO / "docs" / "rules" / f"{info.code}.md"
        assert page.is_file(), f"{info.code} has no page"
        explain = qsfix("explain", info.code)
        assert explain.exit_code == 0
        assert page.read_text(encoding="utf-8") == explain.stdout
        assert f"[{info.code}]({info.code}.md)" in (REPO / "docs/rules/index.md").read_text(encoding="utf-8")


def test_gen_docs_writes_and_checks(tmp_path):
    gen_docs = load_gen_docs()
    assert sorted(gen_docs.differences(tmp_path)) == sorted(gen_docs.render())
    (tmp_path / "docs/rules").mkdir(parents=True)
    (tmp_path / "docs/rules/QS999.md").write_text("a pass that is gone\n")
    gen_docs.write(tmp_path)
    assert gen_docs.differences(tmp_path) == []
    assert not (tmp_path / "docs/rules/QS999.md").exists()
    for rel, text in gen_docs.render().items():
        assert (tmp_path / rel).read_text(encoding="utf-8") == text


# -- the README's tested commands -------------------------------------------------------------------
TESTED_BLOCK = re.compile(r"<!-- tested -->\n```(?:sh|bash)\n(.*?)```", re.DOTALL)
EXIT_NOTE = re.compile(r"#\s*exit (\d+)\b")


def readme_blocks() -> list[list[tuple[str, int]]]:
    """Each `<!-- tested -->` shell block: its commands, each with the exit status its
    `# exit N` comment says."""
    blocks = []
    for match in TESTED_BLOCK.finditer((REPO / "README.md").read_text(encoding="utf-8")):
        commands = []
        for line in match.group(1).splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            note = EXIT_NOTE.search(line)
            assert note, f"README: a tested command says no `# exit N`: {line}"
            commands.append((line, int(note.group(1))))
        blocks.append(commands)
    return blocks


README_BLOCKS = readme_blocks()


def test_the_readme_has_tested_blocks():
    assert len(README_BLOCKS) >= 4
    assert all(README_BLOCKS)


@pytest.mark.slow
@pytest.mark.parametrize("commands", README_BLOCKS, ids=[block[0][0].split("#")[0].strip() for block in README_BLOCKS])
def test_readme_commands(commands, tmp_path):
    """Each block runs in a fresh copy of samples/, a git repository whose `origin/main` is the
    samples as shipped and whose branch has since edited shop/services.py, as in a pull request."""
    work = tmp_path / "samples"
    shutil.copytree(REPO / "samples", work, ignore=shutil.ignore_patterns("__pycache__", ".qsfix_cache"))
    env = {
        **os.environ, **GIT_ENV,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "GIT_CEILING_DIRECTORIES": str(tmp_path),
    }
    for key in ("COLUMNS", "LINES"):
        env.pop(key, None)
    git(work, "init", "-q")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "samples")
    git(work, "update-ref", "refs/remotes/origin/main", "HEAD")
    with open(work / "shop/services.py", "a") as handle:
        handle.write("\n# edited on the branch\n")
    git(work, "commit", "-q", "-am", "branch")
    for command, expected in commands:
        proc = subprocess.run(
            ["bash", "-c", command], cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        )
        assert proc.returncode == expected, f"{command}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


# -- pre-commit -------------------------------------------------------------------------------------
def test_hook_manifest():
    import yaml
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"qsfix", "qsfix-check"}
    assert hooks["qsfix"]["entry"] == "qsfix apply --yes"
    assert hooks["qsfix-check"]["entry"] == "qsfix check"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["python"]
        assert re.search(hook["exclude"], "shop/migrations/0001_initial.py")
        assert not re.search(hook["exclude"], "shop/services.py")
        assert hook["require_serial"] is True


def snapshot_repository(destination: Path) -> str:
    """A git repository holding this working tree as it is (uncommitted changes and untracked,
    not ignored files included); returns its commit."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout
    destination.mkdir()
    for name in sorted({os.fsdecode(n) for n in listed.split(b"\0") if n}):
        source = REPO / name
        if source.is_file():  # deleted in the working tree: left out
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "working tree")
    return git(destination, "rev-parse", "HEAD").strip()


@pytest.mark.slow
def test_pre_commit_hooks_for_real(tmp_path, monkeypatch):
    import pre_commit  # noqa: F401  (the test extra installs it)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    sha = snapshot_repository(tmp_path / "hooks")

    project = tmp_path / "project"
    write_project(project, {"shop/models.py": EXAMPLE_MODELS, "shop/services.py": CLEAN})
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {tmp_path / 'hooks'}\n    rev: {sha}\n    hooks:\n"
        "      - id: qsfix\n      - id: qsfix-check\n"
    )
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "project")

    def run_pre_commit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", *args], cwd=project, capture_output=True, text=True,
            stdin=subprocess.DEVNULL,
        )

    # only the staged file is passed; the models come from the rest of the repository
    (project / "shop/services.py").write_text(SERVICES)
    git(project, "add", "shop/services.py")
    first = run_pre_commit("run", "qsfix", "--files", "shop/services.py")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert (project / "shop/services.py").read_text() == SERVICES_FIXED
    second = run_pre_commit("run", "qsfix", "--files", "shop/services.py")
    assert second.returncode == 0, second.stdout + second.stderr

    # qsfix-check reports and changes nothing
    (project / "shop/other.py").write_text(SERVICES)
    check = run_pre_commit("run", "qsfix-check", "--files", "shop/other.py")
    assert check.returncode == 1, check.stdout + check.stderr
    assert f"shop/other.py:5:12: QS002 {QS002_MESSAGE}" in check.stdout
    assert (project / "shop/other.py").read_text() == SERVICES
    (project / "shop/other.py").unlink()

    # as a git hook: the commit fails with the staged file rewritten, and passes once it is staged
    installed = run_pre_commit("install", "--hook-type", "pre-commit")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    (project / "shop/later.py").write_text(SERVICES)
    git(project, "add", "-A")
    env = {**os.environ, **GIT_ENV}
    commit = subprocess.run(["git", "commit", "-m", "with a finding"], cwd=project, capture_output=True, text=True, env=env)
    assert commit.returncode != 0, commit.stdout + commit.stderr
    assert (project / "shop/later.py").read_text() == SERVICES_FIXED
    git(project, "add", "-A")
    commit = subprocess.run(["git", "commit", "-m", "fixed"], cwd=project, capture_output=True, text=True, env=env)
    assert commit.returncode == 0, commit.stdout + commit.stderr


# -- stdin: QS004's facts come from the buffer, never from the file on disk ------------------------
OPEN_QUERIES = """\
from shop.models import Order

OPEN_ORDERS = Order.objects.filter(status="open")


def first_open():
    return OPEN_ORDERS.first()
"""
OPEN_QUERIES_FIXED = """\
from shop.models import Order


def open_orders():
    return Order.objects.filter(status="open")


def first_open():
    return open_orders().first()
"""
RESETTING = """

def reset():
    global OPEN_ORDERS
    OPEN_ORDERS = Order.objects.none()
"""


def test_stdin_buffer_declaring_global_is_not_rewritten_when_the_file_on_disk_does_not(project):
    root = project({"shop/queries.py": OPEN_QUERIES})
    buffer = OPEN_QUERIES + RESETTING
    result = qsfix("apply", "-", "--stdin-filename", "shop/queries.py", input=buffer)
    assert result.exit_code == 0, result.output
    assert result.stdout == buffer
    check = qsfix("check", "-", "--stdin-filename", "shop/queries.py", "--show-skipped", input=buffer)
    assert check.exit_code == 0
    assert "declared `global OPEN_ORDERS` in a function" in check.output
    assert (root / "shop/queries.py").read_text() == OPEN_QUERIES


def test_stdin_buffer_without_global_is_rewritten_when_the_file_on_disk_declares_it(project):
    root = project({"shop/queries.py": OPEN_QUERIES + RESETTING})
    result = qsfix("apply", "-", "--stdin-filename", "shop/queries.py", input=OPEN_QUERIES)
    assert result.exit_code == 0, result.output
    assert result.stdout == OPEN_QUERIES_FIXED
    check = qsfix("check", "-", "--stdin-filename", "shop/queries.py", input=OPEN_QUERIES)
    assert check.exit_code == 1
    assert check.stdout.startswith("shop/queries.py:3:1: QS004 ")
    assert (root / "shop/queries.py").read_text() == OPEN_QUERIES + RESETTING


def test_stdin_buffer_for_a_new_file_has_its_constants_rewritten(project):
    root = project({})
    result = qsfix("apply", "-", "--stdin-filename", "shop/queries.py", input=OPEN_QUERIES)
    assert result.exit_code == 0, result.output
    assert result.stdout == OPEN_QUERIES_FIXED
    assert not (root / "shop/queries.py").exists()


def test_every_package_of_the_tool_is_installed():
    """A non-editable install (pre-commit's, pip's from a git URL) ships only the packages
    pyproject.toml names: a new subpackage left out of it fails only there."""
    import tomllib

    declared = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        str(folder.relative_to(REPO)).replace("/", ".")
        for folder in (REPO / "codemods").rglob("*") if (folder / "__init__.py").is_file()
    } | {"codemods"}
    assert declared == found
