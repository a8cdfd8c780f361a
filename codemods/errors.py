"""Errors as the user reads them: one line each, saying where and why."""

from __future__ import annotations

from . import syntax_versions
from .files import FileError


def describe_error(path: str, exc: BaseException) -> str:
    """One line: where, and why."""
    if isinstance(exc, SyntaxError) and not isinstance(exc, UnicodeError):
        if "null bytes" in str(exc.msg):
            return f"{path}: contains NUL bytes; not Python source"
        if "encoding" in str(exc.msg) and not exc.lineno:
            return f"{path}: cannot decode: {exc.msg}"
        if not exc.lineno or exc.lineno < 1:
            return f"{path}: syntax error: {exc.msg}"
        col = exc.offset if exc.offset and exc.offset > 0 else 1
        newer = syntax_versions.describe(exc)  # valid for a newer Python than this one
        if newer is not None:
            return f"{path}:{exc.lineno}:{col}: {newer}"
        return f"{path}:{exc.lineno}:{col}: syntax error: {exc.msg}"
    if type(exc).__name__ == "ParserSyntaxError":  # libcst's, without importing it
        message = str(exc.message).splitlines()[0] if exc.message else "invalid syntax"
        return f"{path}:{exc.raw_line}:{exc.raw_column + 1}: syntax error: {message}"
    if isinstance(exc, UnicodeError):
        return f"{path}: cannot decode: {exc}"
    if isinstance(exc, RecursionError):
        return f"{path}: too deeply nested to analyse (recursion limit)"
    if isinstance(exc, FileError):
        return f"{path}: {exc}"
    if isinstance(exc, ValueError) and "null bytes" in _first_line(exc):
        return f"{path}: contains NUL bytes; not Python source"
    return f"{path}: {type(exc).__name__}: {_first_line(exc)}".rstrip(": ")


def _first_line(exc: BaseException) -> str:
    """An exception's first line, never raising itself (a libcst KeyError can hold a node
    so deep that str() overflows the recursion limit)."""
    try:
        text = str(exc)
    except RecursionError:
        return "(too deeply nested to describe)"
    return text.splitlines()[0][:200] if text else ""
