"""Small helpers for the text of findings: source quoted on one line, kinds with an article.

Every message is one line of `check`'s `path:line:col: CODE message` output, so source quoted
in it is shortened the way a reviewer would write it in a comment: the arguments of a call
that spans lines collapse to `(...)` (`Order.objects.filter(...)`), and a quote that is still
long folds its longest argument lists, then loses its tail.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from typing import Optional

from .kinds import NOTHING, OTHER, PENDING

QUOTE_LIMIT = 72
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_LEFT_OUT = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
             tokenize.ENDMARKER)
Tokens = list[tokenize.TokenInfo]


def short_code(code: str, limit: int = QUOTE_LIMIT) -> str:
    """`code` on one line and at most about `limit` characters."""
    if "\n" not in code and "\r" not in code and len(code) <= limit:
        return code
    tokens = _tokens(code)
    if tokens is None:  # not tokenizable on its own: one line, cut
        return cut(" ".join(code.split()), limit)
    closers = _closers(tokens)
    folded = {i for i, j in closers.items() if tokens[j].start[0] != tokens[i].start[0] and _foldable(tokens, i)}
    while True:
        text, shown = _render(tokens, closers, folded)
        if len(text) <= limit or not shown:
            return cut(text, limit)
        # the longest argument list first: it says the least about which site this is
        folded.add(max(shown, key=lambda group: group[1])[0])


def _tokens(code: str) -> Optional[Tokens]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return [t for t in tokens if t.type not in _LEFT_OUT]


def _closers(tokens: Tokens) -> dict[int, int]:
    """Index of each opening bracket -> index of its closing one."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for i, token in enumerate(tokens):
        if token.type == tokenize.OP and token.string in _OPENERS:
            stack.append(i)
        elif token.type == tokenize.OP and token.string in _OPENERS.values() and stack:
            pairs[stack.pop()] = i
    return pairs


def _foldable(tokens: Tokens, i: int) -> bool:
    """Arguments, a subscript or a literal's items may become `...`; a parenthesised
    expression may not (`(a\\n .filter())` is shown as `(a.filter())`)."""
    if tokens[i].string != "(":
        return True
    if i == 0:
        return False
    before = tokens[i - 1]
    if before.type == tokenize.NAME:
        return not keyword.iskeyword(before.string) or before.string in ("None", "True", "False")
    return before.type == tokenize.STRING or before.string in (")", "]", "}")


def _render(tokens: Tokens, closers: dict[int, int], folded: set[int]) -> tuple[str, list[tuple[int, int]]]:
    """The tokens on one line, the brackets in `folded` as `(...)`; also the foldable groups
    still shown, as (index of the opening bracket, characters between the brackets)."""
    out: list[str] = []
    size = 0
    shown: list[tuple[int, int]] = []
    opened: dict[int, tuple[int, int]] = {}  # closing index -> (opening index, offset)
    i, previous = 0, None
    while i < len(tokens):
        token = tokens[i]
        if i in folded and i in closers:
            piece = _space(previous, token) + token.string + "..." + tokens[closers[i]].string
            previous, i = tokens[closers[i]], closers[i] + 1
        else:
            if i in opened:
                opener, offset = opened.pop(i)
                shown.append((opener, size - offset))
            if i in closers and closers[i] > i + 1 and _foldable(tokens, i):
                opened[closers[i]] = (i, size + len(_space(previous, token)) + 1)
            text = _one_line_string(token.string) if token.type == tokenize.STRING else token.string
            piece = _space(previous, token) + text
            previous, i = token, i + 1
        out.append(piece)
        size += len(piece)
    return "".join(out), shown


def _one_line_string(text: str) -> str:
    """A string literal that spans lines, as `'''...'''` (its own quotes)."""
    if "\n" not in text:
        return text
    prefix = len(text) - len(text.lstrip("rRbBuUfFtT"))
    quote = text[prefix:prefix + 3] if text[prefix:prefix + 3] in ('"""', "'''") else text[prefix]
    return text[:prefix] + quote + "..." + quote


def _space(previous: Optional[tokenize.TokenInfo], token: tokenize.TokenInfo) -> str:
    """Between two tokens: one space where the source had any, none around a line break
    that only continues a call chain or a bracket."""
    if previous is None:
        return ""
    if previous.end[0] == token.start[0]:
        return " " if token.start[1] > previous.end[1] else ""
    if token.string in (".", ")", "]", "}", ",", ":") or previous.string in ("(", "[", "{", "."):
        return ""
    return " "


def cut(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text`, or its start and `...` when it is longer than `limit`."""
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def a_kind(kind: str) -> str:
    """A kind of the QuerySet typing with its article: `a QuerySet`, `a model instance`."""
    if kind in (NOTHING, PENDING):
        return "a value of unknown type"
    if kind == OTHER:
        return "something else"
    return ("an " if kind[0].lower() in "aeiou" else "a ") + kind


def more_uses(count: int) -> str:
    """`1 more use`, `2 more uses`."""
    return f"{count} more use" + ("s" if count != 1 else "")
