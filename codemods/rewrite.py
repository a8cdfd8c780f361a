"""Writing fixes back with libcst, losslessly.

Passes analyse `ast` trees and describe each fix as edits: "replace the node of this kind at
this span with what `rewrite(original, updated)` makes of it", where `rewrite` works on libcst
nodes. Only files that get a fix are parsed with libcst; its PositionProvider finds the node
at each span (both count lines the same way and exclude a node's own parentheses), and one
transform applies every edit, inner ones first, so fixes from different passes compose.
"""

from __future__ import annotations

import ast
import functools
import importlib
from typing import Optional, Sequence

from .findings import Edit


class _Lazy:
    """libcst, imported on first use: `check` never needs it, and importing it costs more
    than a warm run's whole analysis."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        module = importlib.import_module(self._name)
        return getattr(module, attr)


cst = _Lazy("libcst")

# ast node class -> names of the libcst classes the same syntax parses to
FAMILIES: dict[type, tuple[str, ...]] = {
    ast.Call: ("Call",),
    ast.Name: ("Name",),
    ast.Attribute: ("Attribute",),
    ast.Compare: ("Comparison",),
    ast.UnaryOp: ("UnaryOperation",),
    ast.Subscript: ("Subscript",),
    ast.BinOp: ("BinaryOperation",),
    ast.BoolOp: ("BooleanOperation",),
    ast.IfExp: ("IfExp",),
    ast.Lambda: ("Lambda",),
    ast.ListComp: ("ListComp",),
    ast.GeneratorExp: ("GeneratorExp",),
    ast.NamedExpr: ("NamedExpr",),
    # statements are replaced whole: `X = ...` alone on its line is a SimpleStatementLine
    ast.Assign: ("SimpleStatementLine",),
    ast.AnnAssign: ("SimpleStatementLine",),
    ast.Expr: ("SimpleStatementLine",),  # QS005/QS006 add a statement after one
    ast.ImportFrom: ("SimpleStatementLine",),  # QS006 adds an import after one
    ast.AugAssign: ("AugAssign",),
    ast.alias: ("ImportAlias",),
    ast.Constant: ("SimpleString",),
    ast.ClassDef: ("ClassDef",),
    ast.FunctionDef: ("FunctionDef",),
}


class EditError(Exception):
    pass


def family_of(node: ast.AST) -> tuple[str, ...]:
    try:
        return FAMILIES[type(node)]
    except KeyError:
        raise EditError(f"no libcst counterpart known for {type(node).__name__}") from None


def transformer(cls_factory):
    """A libcst transformer class defined on first use (libcst is imported lazily)."""
    return functools.cache(cls_factory)


@transformer
def _apply_edits_class():
    class ApplyEdits(cst.CSTTransformer):
        def __init__(self, edits: dict[int, list]):
            super().__init__()
            self.edits = edits

        def on_leave(self, original_node, updated_node):
            for rewrite in self.edits.get(id(original_node), ()):
                updated_node = rewrite(original_node, updated_node)
            return updated_node

    return ApplyEdits


def apply_edits(source: bytes, edits: Sequence[Edit]) -> bytes:
    """`source` with every edit applied (in the given order where two share a node)."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    wanted = {(e.span[0], e.span[1]) for e in edits}
    families = tuple({getattr(cst, name) for e in edits for name in e.family})
    at: dict[tuple, list] = {}
    for node, where in positions.items():
        if isinstance(node, families):
            key = ((where.start.line, where.start.column), (where.end.line, where.end.column))
            if key in wanted:
                at.setdefault(key, []).append(node)
    by_node: dict[int, list] = {}
    for edit in edits:
        kinds = tuple(getattr(cst, name) for name in edit.family)
        candidates = [n for n in at.get(edit.span, []) if isinstance(n, kinds)]
        if not candidates:
            raise EditError(f"no {edit.family[0]} at {edit.span}")
        # nested nodes of one kind can share a span (`(a)` in `((a))`): the outermost wins
        node = candidates[0]
        by_node.setdefault(id(node), []).append(edit.rewrite)
    return module.visit(_apply_edits_class()(by_node)).bytes


# -- building replacements ---------------------------------------------------------------------
def as_receiver(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr` ready to take `.method()`: parenthesised unless it is an atom on one line."""
    if expr.lpar:
        return expr
    atom = isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.Subscript))
    if atom and "\n" not in cst.Module(body=[]).code_for_node(expr):
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def method_call(expr: cst.BaseExpression, method: str) -> cst.Call:
    return cst.Call(func=cst.Attribute(value=as_receiver(expr), attr=cst.Name(method)))


def first_arg(call: cst.CSTNode) -> cst.BaseExpression:
    assert isinstance(call, cst.Call)
    return call.args[0].value


def negated(expr: cst.BaseExpression, like: Optional[cst.BaseExpression] = None) -> cst.UnaryOperation:
    """`not expr`, wearing the parentheses `like` had."""
    lpar = like.lpar if like is not None else []
    rpar = like.rpar if like is not None else []
    return cst.UnaryOperation(operator=cst.Not(), expression=expr, lpar=lpar, rpar=rpar)
