"""A pass is one module: a toy pass written into the `codemods` package (a temporary folder
on its path) is seen by `list`, `explain`, the config file, the command line, the cache
keys and a run, with nothing else edited. Also: the declared order, and no import circle."""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
import codemods
from codemods import engine, registry
from codemods.querysets import ChainTyper
from tests.helpers import REPO, run_in, write_project

TOY = '''\
"""QS901: `toy_marker()` -> `toy_marked()` (a pass that exists only in this test)."""

import ast

from .base import Example, Pass, PassInfo, PassOption
from .rewrite import cst

FACTS = ["first"]  # what its cached results depend on; the test changes it


class ToyMarker(Pass):
    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id == "toy_marker":
            self.report(
                node, "`toy_marker()` is a toy; call `toy_marked()`",
                fix_title="Call `toy_marked()`",
                edits=[(node.func, lambda original, updated: cst.Name("toy_marked"))],
                unless=[("shout", "toy_marker() is left alone without --shout")],
            )


INFO = PassInfo(
    code="QS901",
    name="toy-marker",
    summary="`toy_marker()` -> `toy_marked()`",
    safety="safe",
    what="Finds calls to `toy_marker()`.",
    why="It is a toy.",
    fix_safety="Safe: a toy.",
    references=["https://example.invalid/toy"],
    examples=(
        Example("call", "toy_marker()\\n", "toy_marked()\\n"),
        Example("other-call", "print()\\n"),
    ),
    visitor=ToyMarker,
    options=(PassOption("shout", help="rewrite the toy's calls too"),),
    runs_after=("QS002",),
    words=("toy_marker",),
    dependency_facts=lambda index, typer: list(FACTS),
    reads_whole_project=lambda index: {"shop.use"},
)
ToyMarker.info = INFO
'''


@pytest.fixture
def toy_pass(tmp_path_factory):
    """`codemods/qs901_toy.py`, as if it were in the package; gone afterwards."""
    folder = tmp_path_factory.mktemp("passes")
    (folder / "qs901_toy.py").write_text(TOY)
    codemods.__path__.append(str(folder))
    registry.reset()
    try:
        yield sys.modules.get
    finally:
        codemods.__path__.remove(str(folder))
        sys.modules.pop("codemods.qs901_toy", None)
        registry.reset()


@pytest.fixture
def project(tmp_path, monkeypatch):
    write_project(tmp_path, {"shop/tools.py": "def toy_marker():\n    pass\n", "shop/other.py": "",
                             "shop/use.py": "from shop.tools import toy_marker\n\ntoy_marker()\n"})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def qsfix(*args: str):
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def test_the_toy_pass_is_found_ordered_listed_and_explained(toy_pass):
    assert registry.known("QS901") and registry.MODULES["QS901"] == "qs901_toy"
    assert [info.code for info in registry.PASSES][-1] == "QS901"  # after QS002 and, by code, the rest
    listed = qsfix("list")
    assert "QS901" in listed.output and "toy-marker" in listed.output
    page = qsfix("explain", "QS901").output
    assert "## Options\n- `--shout` (`shout = true` in `[tool.qsfix]`): rewrite the toy's calls too" in page
    assert "toy_marked()" in page


def test_the_toy_option_works_as_a_flag_and_as_a_config_key(toy_pass, project):
    assert "--shout / --no-shout" in qsfix("check", "--help").output
    line = "shop/use.py:3:1: QS901 `toy_marker()` is a toy; call `toy_marked()`"
    off = qsfix("check", "--select", "QS901", "--show-skipped", "--no-cache")
    assert "toy_marker() is left alone without --shout" in off.output and off.exit_code == 0
    flag = qsfix("check", "--select", "QS901", "--shout", "--no-cache")
    assert line in flag.output and flag.exit_code == 1
    (project / "pyproject.toml").write_text("[tool.qsfix]\nshout = true\n")
    assert line in qsfix("check", "--select", "QS901", "--no-cache").output
    assert qsfix("apply", "--select", "QS901", "--yes", "--no-cache").exit_code == 0
    assert (project / "shop/use.py").read_text() == "from shop.tools import toy_marker\n\ntoy_marked()\n"


def test_the_toy_run_rewrites_once(toy_pass, project):
    result = run_in(project, select=frozenset({"QS901"}), shout=True)
    changed = {r.path: r.new.decode() for r in result.changed}
    assert changed == {"shop/use.py": "from shop.tools import toy_marker\n\ntoy_marked()\n"}
    (project / "shop/use.py").write_text(changed["shop/use.py"])
    assert run_in(project, select=frozenset({"QS901"}), shout=True).changed == []


def test_the_toy_facts_are_part_of_every_cache_key(toy_pass, project):
    index = run_in(project).index
    digests = {name: "same" for name in index.modules}
    keys = engine._dependency_keys(index, ChainTyper(index), engine.Options(), digests)
    assert engine._dependency_keys(index, ChainTyper(index), engine.Options(), digests) == keys
    other = engine._dependency_keys(index, ChainTyper(index), engine.Options(), {**digests, "shop.other": "new"})
    assert other["shop.use"] != keys["shop.use"]  # it reads the whole project
    assert other["shop.tools"] == keys["shop.tools"]  # imports nothing that changed
    toy_pass("codemods.qs901_toy").FACTS.append("second")
    changed = engine._dependency_keys(index, ChainTyper(index), engine.Options(), digests)
    assert set(changed) == set(keys) and all(changed[m] != keys[m] for m in keys)


def test_a_module_whose_info_names_another_code_is_an_error(tmp_path_factory):
    folder = tmp_path_factory.mktemp("passes")
    (folder / "qs902_wrong.py").write_text(TOY)  # declares QS901
    codemods.__path__.append(str(folder))
    try:
        with pytest.raises(RuntimeError, match="qs902_wrong declares QS901, but its file name says QS902"):
            registry.load({"QS902": "qs902_wrong"})
    finally:
        codemods.__path__.remove(str(folder))
        sys.modules.pop("codemods.qs902_wrong", None)


def test_the_passes_run_in_their_declared_order():
    assert [info.code for info in registry.PASSES][:4] == ["QS004", "QS003", "QS001", "QS002"]
    seen: set[str] = set()
    for info in registry.PASSES:
        assert set(info.runs_after) <= seen, f"{info.code} runs before {set(info.runs_after) - seen}"
        seen.add(info.code)


def test_passes_that_run_after_each_other_are_an_error():
    first = registry.get_pass("QS001")
    looped = [dataclasses.replace(first, code="QS801", runs_after=("QS802",)),
              dataclasses.replace(first, code="QS802", runs_after=("QS801",))]
    with pytest.raises(RuntimeError, match="QS801, QS802"):
        registry.ordered(looped)


def _imports(path: Path, package: str, known: set[str]) -> set[str]:
    """The package's modules `path` imports, anywhere in it but under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner) for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for statement in node.body for inner in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join([*parts[: len(parts) - node.level + 1], *([node.module] if node.module else [])]) \
                if node.level else node.module or ""
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & known


def test_the_tool_has_no_import_circle():
    """Every import between the tool's modules, lazy ones too, as a graph with no cycle.
    A module's import of the `codemods` package itself (for `__version__`) is not an edge:
    the package is initialised before any of its modules."""
    root = REPO / "codemods"
    names = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    known = set(names) - {"codemods"}
    graph = {}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = _imports(path, package, known) - {name}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, "import circle: " + " -> ".join([*path[path.index(name):], name])
        if name not in done:
            for imported in sorted(graph[name]):
                visit(imported, (*path, name))
            done.add(name)

    for name in sorted(graph):
        visit(name, ())
    assert "codemods.factories" not in graph["codemods.querysets"]  # the circle this ended
    assert "codemods.engine" not in graph["codemods.base"]
