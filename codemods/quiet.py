"""Which functions of a module name nothing relevant (the cheap check on function bodies).

A function or method whose source names none of the words that matter to a reading (the
module's relevant names, and the words the reading itself starts from) cannot change what
that reading finds: every typing rule starts from a relevant name, and a local variable's
value is in the same function. Such bodies are bound, not walked (`ScopeMap(skip_bodies=...)`).
The engine uses this for each file's analysis; a pass that analyses other modules for its
project-wide facts (QS008's writes) uses it with its own words.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from itertools import accumulate
from typing import Iterable, Iterator, Optional, Union


def lines_naming(lines: list[str], words: Iterable[str], text: Optional[str] = None) -> list[int]:
    """The numbers of the lines where one of `words` occurs as a whole word (as a regular
    expression's `\\b` sees it), in order. `str.find` for each word: a few times faster than
    one regular expression over the text, which tries every word at every position."""
    if text is None:
        text = "".join(lines)  # `lines` are the whole text, split
    starts = list(accumulate(map(len, lines), initial=0))  # starts[n]: offset of line n + 1
    size = len(text)
    hits: set[int] = set()
    for word in words:
        length = len(word)
        at = text.find(word)
        while at != -1:
            end = at + length
            before = text[at - 1] if at else " "
            after = text[end] if end < size else " "
            if before != "_" and not before.isalnum() and after != "_" and not after.isalnum():
                line = bisect_right(starts, at)
                hits.add(line)
                at = text.find(word, starts[line] if line < len(starts) else size)  # next line
            else:
                at = text.find(word, at + 1)
    return sorted(hits)


def lines_matching(lines: list[str], pattern: re.Pattern, text: Optional[str] = None) -> list[int]:
    """The numbers of the lines where a match of `pattern` starts, in order."""
    if text is None:
        text = "".join(lines)
    starts = list(accumulate(map(len, lines), initial=0))
    return sorted({bisect_right(starts, match.start()) for match in pattern.finditer(text)})


def definitions(tree: ast.Module) -> Iterator[ast.AST]:
    """Top-level functions and classes, and the classes' methods: the definitions
    `quiet_definitions` may leave unread."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node
        if isinstance(node, ast.ClassDef):
            yield from (m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)))


def quiet_definitions(tree: ast.Module, text: str, lines: list[str],
                      words: Union[None, set[str], re.Pattern]) -> frozenset:
    """The ids of the functions and methods whose source (decorators included) names none of
    `words` (or holds no match of a pattern; None: every definition may matter). Top-level
    functions and the methods of top-level classes are checked; a class body itself is always
    read. A function that says `global` is never quiet: it may bind a module-level name, and
    the typing reads those."""
    if words is None:
        return frozenset()
    if isinstance(words, re.Pattern):
        hits = sorted({*lines_naming(lines, {"global"}, text), *lines_matching(lines, words, text)})
    else:
        hits = lines_naming(lines, {*words, "global"}, text)
    quiet = set()

    def is_quiet(node: ast.AST) -> bool:
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        first = bisect_left(hits, start)
        return first == len(hits) or hits[first] > node.end_lineno

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if is_quiet(node):
                quiet.add(id(node))
        elif isinstance(node, ast.ClassDef):
            if is_quiet(node):
                quiet.add(id(node))
                continue
            for method in node.body:
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_quiet(method):
                    quiet.add(id(method))
    return frozenset(quiet)
