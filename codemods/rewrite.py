"""Writing fixes back with libcst, losslessly.

Passes analyse `ast` trees and describe each fix as edits: "replace the node of this kind at
this span with what `rewrite(original, updated)` makes of it", where `rewrite` works on libcst
nodes. Only files that get a fix are parsed with libcst, and in them only the top-level statements
that hold an edit, where that gives the very text the whole module would (codemods/slices.py);
its PositionProvider finds the node at each span (both count lines the same way and exclude a
node's own parentheses), and one transform applies every edit, inner ones first, so fixes
from different passes compose.
"""

from __future__ import annotations

import ast
import collections
import functools
import importlib
import io
import os
import tokenize
from typing import Optional, Sequence

from . import slices
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


# Set (to anything but "" or "0") to build every text both ways, from the slices and from the
# whole module, and fail on any difference: tests/test_rewrite_slices.py does, and so can
# `QSFIX_CHECK_SLICES=1 python scripts/sweep.py ...` (its qsfix processes inherit it).
CHECK_SLICES_ENV = "QSFIX_CHECK_SLICES"

# in that mode, how many texts were built from slices ("slices") or whole (and why)
ROUTES: collections.Counter = collections.Counter()


class SliceMismatch(AssertionError):
    """The text built from slices is not the one the whole module gives."""


def apply_edits(source: bytes, edits: Sequence[Edit]) -> bytes:
    """`source` with every edit applied (in the given order where two share a node). Only
    the top-level statements that hold the edits are parsed where that is certainly the
    same (see codemods/slices.py); otherwise, or if that fails, the whole module is."""
    if os.environ.get(CHECK_SLICES_ENV, "") not in ("", "0"):
        return _checked(source, edits)
    route = slices.plan(source, edits)
    if isinstance(route, slices.Plan):
        try:
            return apply_to_slices(route)
        except Exception:  # noqa: BLE001 - the whole module says what is wrong, if anything
            pass
    return apply_to_module(source, edits)


def _checked(source: bytes, edits: Sequence[Edit]) -> bytes:
    """Both ways, which must agree (an error from the whole module is raised as it is)."""
    expected = apply_to_module(source, edits)
    route = slices.plan(source, edits)
    ROUTES["slices" if isinstance(route, slices.Plan) else route] += 1
    if isinstance(route, slices.Plan):
        try:
            got = apply_to_slices(route)
        except Exception as exc:
            raise SliceMismatch(f"slices failed: {type(exc).__name__}: {exc}") from exc
        if got != expected:
            difference = _first_difference(got, expected)
            raise SliceMismatch(f"slices give another text than the whole module ({difference})")
    return expected


def _first_difference(got: bytes, expected: bytes) -> str:
    at = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    line = expected.count(b"\n", 0, at) + 1
    return f"from line {line}: {got[at:at + 40]!r} instead of {expected[at:at + 40]!r}"


def apply_to_module(source: bytes, edits: Sequence[Edit]) -> bytes:
    module = cst.parse_module(source)
    return _edited(module, edits).bytes


def apply_to_slices(route: slices.Plan) -> bytes:
    """The file with each slice parsed, edited and written back between the untouched text
    around it; libcst infers the whole file's indentation and line ending from the prefix
    (or from the slice, which starts the file)."""
    parts = []
    done = 0
    for piece in route.slices:
        start, end = route.offset(piece.first), route.offset(piece.last + 1)
        module = cst.parse_module(piece.prefix + route.text[start:end])
        inferred = (module.default_indent, module.default_newline)
        if not piece.prefix and inferred == ("    ", route.newline):
            # a slice that starts the file and holds no indented block: libcst's fallback
            inferred = (route.indent, route.newline)
            module = module.with_changes(default_indent=route.indent)
        if inferred != (route.indent, route.newline):
            raise EditError("libcst inferred another indentation or line ending for the slice")
        code = _edited(module, piece.edits).code
        if not code.startswith(piece.prefix):
            raise EditError("an edit changed the prefix")
        parts += [route.text[done:start], code[len(piece.prefix):]]
        done = end
    parts.append(route.text[done:])
    return "".join(parts).encode("utf-8")


def _edited(module, edits: Sequence[Edit]):
    """`module` with `edits` applied (their spans are positions in `module`)."""
    from libcst.metadata import MetadataWrapper, PositionProvider

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
    return module.visit(_apply_edits_class()(by_node))


# -- building replacements ---------------------------------------------------------------------
ATOMS = ("Name", "Attribute", "Call", "Subscript")  # take `.method()` as they are


def code_of(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def breaks_lines_outside_brackets(code: str) -> bool:
    """Does `code` end a line outside its own brackets (`Order.objects\n.filter()`)? Such an
    expression parsed only inside brackets around it, which a rewrite may remove."""
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth -= 1
            elif token.type in (tokenize.NEWLINE, tokenize.NL) and token.string and depth == 0:
                return True
    except (tokenize.TokenError, SyntaxError):
        return True  # cannot tell: parentheses are always correct
    return False


def needs_parentheses(expr: cst.BaseExpression) -> bool:
    """Would `expr.method()` need `expr` in parentheses? Only for operators (`(a or b)`,
    `(await x)`) and for line breaks outside its own brackets; a call that spans lines inside
    its own parentheses takes `.method()` as it is."""
    if expr.lpar:
        return False
    if not isinstance(expr, tuple(getattr(cst, name) for name in ATOMS)):
        return True
    return breaks_lines_outside_brackets(code_of(expr))


def as_receiver(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr` ready to take `.method()`: parenthesised only where it must be."""
    if needs_parentheses(expr):
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def method_call(expr: cst.BaseExpression, method: str) -> cst.Call:
    return cst.Call(func=cst.Attribute(value=as_receiver(expr), attr=cst.Name(method)))


def first_arg(call: cst.CSTNode) -> cst.BaseExpression:
    """The only argument of `bool(x)` / `len(x)`, ready to take the call's place as a receiver.
    Where it needs parentheses, or sits on lines of its own (`len(\n    qs\n)`), it wears the
    call's: same line breaks, so the user's layout survives and nothing is added."""
    assert isinstance(call, cst.Call)
    arg = call.args[0]
    value = arg.value
    if value.lpar:
        return value
    before = call.whitespace_before_args
    after = arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else arg.whitespace_after_arg
    own_lines = "\n" in code_of(before) + code_of(after)
    if not (own_lines or needs_parentheses(value)):
        return value
    return value.with_changes(
        lpar=[cst.LeftParen(whitespace_after=before)],
        rpar=[cst.RightParen(whitespace_before=after)],
    )


def negated(expr: cst.BaseExpression, like: Optional[cst.BaseExpression] = None) -> cst.UnaryOperation:
    """`not expr`, wearing the parentheses `like` had."""
    lpar = like.lpar if like is not None else []
    rpar = like.rpar if like is not None else []
    return cst.UnaryOperation(operator=cst.Not(), expression=expr, lpar=lpar, rpar=rpar)
