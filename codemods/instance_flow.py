"""What QS005 and QS006 ask about a model instance inside one function: where it came from,
which statements run after which, how each mention of it uses it, and how to insert a
statement after another.

Both passes follow one local name through one function body, in source order, along the
statements that can run after a given one (later statements of the same block and of the
enclosing blocks, stopping at a `return`, `raise`, `break` or `continue`; never the other
branch of an `if`). Loops are not followed round: a missed finding costs less than a wrong
one. The typing (is this name a model instance, of which model) is `FileAnalysis`'s.
"""

from __future__ import annotations

import ast
import os
import re
from typing import TYPE_CHECKING, Optional

from .kinds import INSTANCE, UNKNOWN
from .rewrite import cst
from .options import PassOption
from .scopes import FUNCTION_NODES

if TYPE_CHECKING:
    from .analysis import FileAnalysis

# Test code reads and writes rows on purpose (fixtures, assertions on stale instances): the
# stale-data passes leave it alone, unless --check-tests (or this, for a whole session) is on.
CHECK_TESTS = False
# the stale-data passes' shared option: it changes which files they read, so it is keyed
CHECK_TESTS_OPTION = PassOption(
    "check-tests", help="also check test code (`tests/` folders, `test_*.py`, `tests.py`)",
    in_cache_key=True,
)

BLOCK_FIELDS = ("body", "orelse", "finalbody")
PATH_ENDERS = (ast.Return, ast.Raise, ast.Break, ast.Continue)


TEST_FILE = re.compile(r"(^test_.*|.*_tests|^tests)\.py$")


def is_test_path(path: str) -> bool:
    """Under a `tests/` folder, or named `test_*.py`, `*_tests.py` or `tests.py` (folders
    counted from where qsfix runs: a checkout below some `tests/` folder is not all tests).
    The one rule of the stale-data passes (QS005-QS009)."""
    if os.path.isabs(path):
        try:
            path = os.path.relpath(path)
        except ValueError:  # another drive (Windows): keep it whole
            pass
    parts = path.replace(os.sep, "/").split("/")
    return "tests" in parts[:-1] or bool(TEST_FILE.match(parts[-1]))


def skips_file(analysis: "FileAnalysis") -> bool:
    checks_tests = CHECK_TESTS or analysis.project.options.flag(CHECK_TESTS_OPTION.name)
    return not checks_tests and is_test_path(analysis.path)


def enclosing_function(analysis: "FileAnalysis", node: ast.AST) -> Optional[ast.AST]:
    for ancestor in analysis.scopes.ancestors(node):
        if isinstance(ancestor, FUNCTION_NODES):
            return ancestor
    return None


def in_same_function(analysis: "FileAnalysis", node: ast.AST, function: ast.AST) -> bool:
    return enclosing_function(analysis, node) is function


def position(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


def end_position(node: ast.AST) -> tuple[int, int]:
    return node.end_lineno, node.end_col_offset


# -- where an instance comes from ----------------------------------------------------------
def model_of_self(analysis: "FileAnalysis", name: ast.Name) -> Optional[str]:
    """`self` in a method of a model class: that model."""
    if name.id != "self":
        return None
    cls = analysis.typer.enclosing_class(name)
    if cls is None:
        return None
    qualname = f"{analysis.summary.module}.{cls.name}"
    if analysis.index.class_kind(qualname) != "model" or analysis.index.is_abstract_model(qualname):
        return None
    return qualname


def instance_model(analysis: "FileAnalysis", name: ast.Name, allow_self: bool = False) -> Optional[str]:
    """The model of the instance `name` is, when the typing proves it is one."""
    if allow_self:
        model = model_of_self(analysis, name)
        if model is not None:
            return model
    t = analysis.type_of(name)
    if t.kind == INSTANCE and t.model and t.confidence > UNKNOWN:
        return t.model
    return None


def same_row_models(analysis: "FileAnalysis", instance_model_name: str, queried: str) -> bool:
    """A row of `queried` with the instance's pk is the instance's own row: the same model, or
    a concrete model it inherits from (multi-table inheritance shares the primary key)."""
    index = analysis.index
    if queried == instance_model_name:
        return True
    mro, _ = index.model_mro(instance_model_name)
    return queried in mro and not index.is_abstract_model(queried)


def model_fields(analysis: "FileAnalysis", model: str) -> dict[str, str]:
    """Class-level `name = <call>()` of the model and its project bases: name -> callee."""
    fields: dict[str, str] = {}
    mro, _ = analysis.index.model_mro(model)
    for qualname in reversed(mro):
        cls = analysis.index.classes.get(qualname)
        if cls is not None:
            fields.update(cls.call_attrs)
    return fields


def model_attrs(analysis: "FileAnalysis", model: str) -> set[str]:
    attrs: set[str] = set()
    mro, _ = analysis.index.model_mro(model)
    for qualname in mro:
        cls = analysis.index.classes.get(qualname)
        if cls is not None:
            attrs |= cls.attrs | set(cls.methods)
    return attrs


# -- order of statements ---------------------------------------------------------------------
def _block_of(parent: ast.AST, child: ast.AST) -> Optional[list]:
    for field in BLOCK_FIELDS:
        block = getattr(parent, field, None)
        if isinstance(block, list) and child in block:
            return block
    return None


def runs_after(analysis: "FileAnalysis", earlier: ast.stmt, later: ast.AST) -> bool:
    """`later` (inside the same function) can run after the statement `earlier` finished,
    without going round a loop: it is in a later statement of a block enclosing `earlier`,
    and no `return`/`raise`/`break`/`continue` of that block ends the path first."""
    contains = analysis.scopes.contains
    current: ast.AST = earlier
    while True:
        parent = analysis.parents.get(current)
        if parent is None:
            return False
        block = _block_of(parent, current)
        if block is not None:
            for sibling in block[block.index(current) + 1:]:
                if contains(sibling, later):
                    return True
                if isinstance(sibling, PATH_ENDERS):
                    return False
            if isinstance(parent, ast.Try) and current in parent.body:
                for sibling in [*parent.orelse, *parent.finalbody]:
                    if contains(sibling, later):
                        return True
        if isinstance(parent, (*FUNCTION_NODES, ast.Module, ast.ClassDef)):
            return False
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)) and contains(parent, later):
            return False  # inside the same loop but before `earlier`: only a next round reaches it
        current = parent


def runs_after_call(analysis: "FileAnalysis", call: ast.AST, statement: ast.stmt, later: ast.AST) -> bool:
    """`later` can run after `call` (in `statement`) has run: after the statement, or in the
    branches of the `if`/`while` whose test holds the call."""
    if runs_after(analysis, statement, later):
        return True
    contains = analysis.scopes.contains
    if isinstance(statement, (ast.If, ast.While)) and contains(statement.test, call):
        return any(contains(s, later) for s in [*statement.body, *statement.orelse])
    return False


# -- how a mention of the instance uses it ---------------------------------------------------
def mentions(analysis: "FileAnalysis", name: ast.Name, function: ast.AST) -> list[ast.Name]:
    """Every mention of the local `name` (loads and stores) directly in `function`, in
    source order."""
    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id == name.id:
            if in_same_function(analysis, node, function):
                found.append(node)
    found.sort(key=position)
    return found


def use_of(analysis: "FileAnalysis", name: ast.Name) -> tuple[str, Optional[str]]:
    """("read", f) for `obj.f`; ("store", f) for `obj.f = ...`; ("call", m) for
    `obj.m(...)`; ("rebind", None) when the name is bound again; ("other", None) else."""
    if isinstance(name.ctx, (ast.Store, ast.Del)):
        return "rebind", None
    parent = analysis.parents.get(name)
    if isinstance(parent, ast.Attribute) and parent.value is name:
        grand = analysis.parents.get(parent)
        if isinstance(grand, ast.Call) and grand.func is parent:
            return "call", parent.attr
        if isinstance(parent.ctx, (ast.Store, ast.Del)):
            return "store", parent.attr
        if isinstance(grand, ast.AugAssign) and grand.target is parent:
            return "store", parent.attr
        return "read", parent.attr
    return "other", None


def call_of(analysis: "FileAnalysis", name: ast.Name) -> ast.Call:
    return analysis.parents[analysis.parents[name]]


def literal_strings(node: Optional[ast.AST]) -> Optional[list[str]]:
    """`["a", "b"]` / `("a",)` -> ["a", "b"]; None for anything else."""
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return None
    values = []
    for element in node.elts:
        if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
            return None
        values.append(element.value)
    return values


def keyword(call: ast.Call, name: str) -> Optional[ast.keyword]:
    return next((k for k in call.keywords if k.arg == name), None)


# -- inserting a statement after another -------------------------------------------------------
def lone_statement(analysis: "FileAnalysis", statement: ast.stmt) -> bool:
    """A simple statement alone on its lines inside an indented block: libcst sees it as a
    `SimpleStatementLine`, after which a new line can go."""
    if not isinstance(statement, (ast.Expr, ast.Assign, ast.ImportFrom)):
        return False
    parent = analysis.parents.get(statement)
    block = _block_of(parent, statement) if parent is not None else None
    if block is None or (parent is not None and not isinstance(parent, ast.Module)
                         and getattr(parent, "lineno", 0) == statement.lineno):
        return False  # `if x: statement` on one line
    for other in block:
        if other is not statement and (
            other.lineno <= statement.end_lineno and other.end_lineno >= statement.lineno
        ):
            return False  # `a; b`
    return True


def statements_after(lines: list[str]):
    """A rewrite for a `SimpleStatementLine` that adds `lines` (source text) after it, in
    the same block; several such rewrites on one statement add their lines in turn, and a
    line already added is not added twice."""

    def rewrite(original, updated):
        nodes = list(updated.nodes) if isinstance(updated, cst.FlattenSentinel) else [updated]
        empty = cst.Module(body=[])
        present = {empty.code_for_node(n).strip() for n in nodes}
        for line in lines:
            if line not in present:
                nodes.append(cst.parse_statement(line + "\n"))
                present.add(line)
        return nodes[0] if len(nodes) == 1 else cst.FlattenSentinel(nodes)

    return rewrite

