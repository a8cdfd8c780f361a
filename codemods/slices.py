"""Which lines of a file libcst must parse to apply some edits: whole top-level statements.

Building a fixed file's text costs one libcst parse, one position pass and one codegen, and
each costs in proportion to the code it covers; a fix usually touches a few lines of a large
file. So `rewrite.apply_edits` parses only the runs of top-level statements (as `ast` sees
them) that hold the edits, and copies the bytes around them untouched. The runs are cut so
that every node an edit sees is the node a parse of the whole module makes:

- a run ends just before the next top-level statement, so the lines after its last
  statement fall to the same blocks' footers as in the whole module (libcst gives a block
  every line after it up to the last one indented like it);
- a top-level statement an edit may replace whole (an edit at column 0 of its first line)
  keeps the lines above it that libcst gives it (`leading_lines`): the run then starts at
  the statement before it (which keeps its share of those lines), or at the file's start;
- libcst stores indentation and line endings relative to the ones it infers for the module
  (the first indented block's, the first line's) and writes new blocks with them: a run that
  does not start the file is parsed after a two-line stand-in that makes libcst infer the
  whole file's (`Slice.prefix`).

Anything this does not handle for certain makes `plan` return a reason instead, and the
whole module is parsed: another encoding than UTF-8, a byte order mark, form feeds and
other odd line breaks, two top-level statements on one line, an edit outside every one.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, replace
from typing import Optional, Sequence, Union

from .findings import Edit

# Characters some line splitters or tokenizers break lines at, or indent by: the whole
# module is parsed where they occur (a lone `\r` ends a line for `ast`, not for `split`).
ODD = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]|\r(?!\n)")
# A line between top-level statements: blank or a comment.
GAP_LINE = re.compile(r"[ \t]*(?:#[^\r\n]*)?\r?\n?")
COMPOUND_FIELDS = ("body", "cases")


@dataclass
class Slice:
    first: int  # first line of the file it holds (1-based)
    last: int  # last line it holds
    prefix: str  # parsed before it, its output dropped: "" for a run that starts the file
    edits: list  # the edits inside it, their lines counted from the start of prefix


@dataclass
class Plan:
    text: str  # the file, decoded
    line_starts: list  # offset in `text` of each line's start, and of the end
    indent: str  # the module's default indentation and line ending, as libcst infers them
    newline: str
    slices: list

    def offset(self, line: int) -> int:
        return self.line_starts[line - 1]


def plan(source: bytes, edits: Sequence[Edit]) -> Union[Plan, str]:
    """The runs to parse for `edits`, or why the whole module must be parsed."""
    text = _decoded(source)
    if not isinstance(text, str):
        return text[0]
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return "does not parse"
    statements = tree.body
    lines = text.split("\n")
    if not statements:
        return "no top-level statement"
    starts = [_first_line(s) for s in statements]
    for before, start in zip(statements, starts[1:]):
        if before.end_lineno >= start:
            return "two top-level statements share a line"
    if not all(_starts_its_line(s, start, lines) for s, start in zip(statements, starts)):
        return "a top-level statement does not start its line"
    owners = _owners(edits, statements, starts)
    if isinstance(owners, str):
        return owners
    if not all(GAP_LINE.fullmatch(line + "\n") for line in _gap_lines(statements, starts, lines)):
        return "a line between top-level statements is neither blank nor a comment"
    indent = _first_indent(statements, starts, lines)
    if indent is None:
        return "no tokens for the first indented block"
    runs = _runs(owners, edits, statements, starts)
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line) + 1)
    line_starts[-1] = len(text)
    last_line = len(lines) - 1 if text.endswith("\n") else len(lines)
    newline = "\r\n" if lines[0].endswith("\r") else "\n"
    slices = []
    for first_index, last_index in runs:
        first = 1 if first_index == 0 else starts[first_index]
        last = starts[last_index + 1] - 1 if last_index + 1 < len(statements) else last_line
        prefix = "" if first == 1 else f"if 1:{newline}{indent}pass{newline}"
        shift = first - 1 - (2 if prefix else 0)
        inside = [i for i, owner in enumerate(owners) if first_index <= owner <= last_index]
        slices.append(Slice(first, last, prefix, [_shifted(edits[i], shift) for i in inside]))
    return Plan(text, line_starts, indent, newline, slices)


def _decoded(source: bytes) -> Union[str, tuple[str]]:
    """The text of a UTF-8 file, or (why not,)."""
    if source.startswith(b"\xef\xbb\xbf"):
        return ("a byte order mark",)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError:
        return ("an unknown encoding",)
    if encoding != "utf-8":
        return (f"encoded in {encoding}",)
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError:
        return ("not valid UTF-8",)
    if ODD.search(text):
        return ("a form feed, a lone carriage return or another odd line break",)
    return text


def _first_line(statement: ast.stmt) -> int:
    """The line a top-level statement starts on (its first decorator's)."""
    decorators = getattr(statement, "decorator_list", None)
    return min(d.lineno for d in decorators) if decorators else statement.lineno


def _starts_its_line(statement: ast.stmt, start: int, lines: list) -> bool:
    if getattr(statement, "decorator_list", None):
        return lines[start - 1].startswith("@")
    return statement.col_offset == 0


def _owners(edits: Sequence[Edit], statements: list, starts: list) -> Union[list, str]:
    """The index of the top-level statement holding each edit."""
    from bisect import bisect_right

    owners = []
    for edit in edits:
        (line, _), (end_line, _) = edit.span
        index = bisect_right(starts, line) - 1
        if index < 0 or end_line > statements[index].end_lineno:
            return "an edit outside every top-level statement"
        owners.append(index)
    return owners


def _runs(owners: list, edits: Sequence[Edit], statements: list, starts: list) -> list:
    """Runs of top-level statements (first, last index) to parse: one per edited statement,
    widened upwards while its first statement may be replaced whole and has lines above it
    that libcst may give it; overlapping or adjacent runs merged."""
    whole = {
        owner for owner, edit in zip(owners, edits)
        if edit.span[0][1] == 0 and edit.span[0][0] <= statements[owner].lineno
    }
    runs: list = []
    for owner in sorted(set(owners)):
        first = owner
        while first > 0 and first in whole and starts[first] > statements[first - 1].end_lineno + 1:
            first -= 1
        if runs and first <= runs[-1][1] + 1:
            runs[-1] = (min(first, runs[-1][0]), owner)
        else:
            runs.append((first, owner))
    return runs


def _gap_lines(statements: list, starts: list, lines: list):
    """The lines after each top-level statement, up to the next one or the end."""
    for statement, following in zip(statements, starts[1:]):
        yield from lines[statement.end_lineno : following - 1]
    yield from lines[statements[-1].end_lineno :]


def _first_indent(statements: list, starts: list, lines: list) -> Optional[str]:
    """The indentation of the file's first indented block (libcst's `default_indent`,
    4 spaces in a file without one), as its first INDENT token has it."""
    for statement, start in zip(statements, starts):
        if not any(getattr(statement, name, None) for name in COMPOUND_FIELDS):
            continue
        chunk = iter(line + "\n" for line in lines[start - 1 : statement.end_lineno])
        try:
            for token in tokenize.generate_tokens(lambda: next(chunk, "")):
                if token.type == tokenize.INDENT:
                    return token.string
        except (tokenize.TokenError, SyntaxError):
            return None
    return "    "


def _shifted(edit: Edit, lines: int) -> Edit:
    (l1, c1), (l2, c2) = edit.span
    return replace(edit, span=((l1 - lines, c1), (l2 - lines, c2)))
