"""Syntax errors that only say the file is newer than the running Python.

`ast.parse(feature_version=...)` cannot help: an interpreter parses its own grammar and no
newer one. So when parsing fails, the offending line is checked for the token pattern of a
feature added to Python after the running version; if it has one, the error names the
feature, the Python it needs, and what to do, instead of a bare `invalid syntax`.
"""

from __future__ import annotations

import re
import sys
from typing import NamedTuple, Optional


class NewerSyntax(NamedTuple):
    feature: str
    version: tuple[int, int]


_TYPE_ALIAS = re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(\[[^\]]*\])?\s*=")
_GENERIC_DEF = re.compile(r"^\s*(async\s+)?def\s+[A-Za-z_]\w*\s*\[(?P<params>[^\]]*)")
_GENERIC_CLASS = re.compile(r"^\s*class\s+[A-Za-z_]\w*\s*\[(?P<params>[^\]]*)")
_EXCEPT_STAR = re.compile(r"^\s*except\s*\*")
_EXCEPT_LIST = re.compile(r"^\s*except\s+(?P<types>[^(\s][^:]*,[^:]*):")
# `Error`, `module.Error`: a class by the naming convention, unlike the `e` of Python 2's
# `except Exception, e:` (which Python 3.14 would read as two types to catch)
_CLASS_NAME = re.compile(r"^([A-Za-z_]\w*\.)*_*[A-Z]\w*$")
_FSTRING = re.compile(r"(?<![\w'\"])([rR]?[fF]|[fF][rR])['\"]")
_TSTRING = re.compile(r"(?<![\w'\"])([rR]?[tT]|[tT][rR])['\"]")
# What Python 3.11's f-string parser says about what PEP 701 allows
_OLD_FSTRING_ERRORS = ("f-string: expecting '}'", "f-string expression part cannot include",
                       "f-string: unmatched", "f-string: single '}' is not allowed")


def newer_syntax(exc: SyntaxError, running: tuple[int, int]) -> Optional[NewerSyntax]:
    """The feature newer than Python `running` that the failing line uses, or None (a plain
    syntax error)."""
    found = _feature(str(exc.msg or ""), (exc.text or "").rstrip("\r\n"))
    if found is None or running >= found.version:
        return None
    return found


def _feature(message: str, line: str) -> Optional[NewerSyntax]:
    for pattern in (_GENERIC_DEF, _GENERIC_CLASS):
        match = pattern.match(line)
        if match:
            if "=" in match.group("params"):
                return NewerSyntax("a type parameter default (PEP 696)", (3, 13))
            return NewerSyntax("type parameters (PEP 695)", (3, 12))
    if _TYPE_ALIAS.match(line):
        return NewerSyntax("a `type` alias statement (PEP 695)", (3, 12))
    if _EXCEPT_STAR.match(line):
        return NewerSyntax("`except*` (PEP 654)", (3, 11))
    if "must be parenthesized" in message and _several_classes(line):
        return NewerSyntax("`except` with several exception types without parentheses (PEP 758)", (3, 14))
    if _FSTRING.search(line) and (message.startswith(_OLD_FSTRING_ERRORS) or _open_field(message, line)):
        return NewerSyntax("an f-string with its own quotes, a backslash, a comment or a line "
                           "break inside `{...}` (PEP 701)", (3, 12))
    if message == "invalid syntax" and _TSTRING.search(line):
        return NewerSyntax("a template string `t\"...\"` (PEP 750)", (3, 14))
    return None


def _several_classes(line: str) -> bool:
    """`except A, B:` naming classes only, without `as` (still refused by PEP 758)."""
    match = _EXCEPT_LIST.match(line)
    if match is None or " as " in line:
        return False
    return all(_CLASS_NAME.match(name.strip()) for name in match.group("types").split(","))


def _open_field(message: str, line: str) -> bool:
    """`f"{x` + line break: an f-string whose replacement field goes on on the next line."""
    if not message.startswith("unterminated string literal"):
        return False
    start = _FSTRING.search(line)
    rest = line[start.end():] if start else ""
    return rest.count("{") - rest.count("{{") * 2 > rest.count("}") - rest.count("}}") * 2


def describe(exc: SyntaxError, running: Optional[tuple[int, int]] = None) -> Optional[str]:
    """`uses <feature>, which needs Python X.Y; this is Python A.B: run qsfix under Python
    X.Y or newer`, or None. `running` defaults to this interpreter's version."""
    version = running or (sys.version_info[0], sys.version_info[1])
    found = newer_syntax(exc, version)
    if found is None:
        return None
    needed = "%d.%d" % found.version
    return (f"uses {found.feature}, which needs Python {needed}; this is Python {'%d.%d' % version}: "
            f"run qsfix under Python {needed} or newer")
