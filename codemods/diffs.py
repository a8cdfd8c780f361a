"""Unified diffs over bytes, exactly as `git apply` and `patch -p1` take them.

Working on bytes keeps a latin-1 or CRLF file's context lines byte-identical to the file, so
the patch applies; lines are split after `\n` only, as git does.
"""

from __future__ import annotations

import os
import re

_LINES = re.compile(rb"[^\n]*\n|[^\n]+\Z")
NO_EOL = b"\\ No newline at end of file\n"


def split_lines(data: bytes) -> list[bytes]:
    return _LINES.findall(data)


_ESCAPES = {b'"': b'\\"', b"\\": b"\\\\", b"\n": b"\\n", b"\t": b"\\t", b"\r": b"\\r"}


def _header(prefix: str, path: str) -> bytes:
    name = (prefix + path.replace("\\", "/") if os.sep == "\\" else prefix + path)
    data = name.encode("utf-8", "surrogateescape")
    if any(b < 0x20 or b in b'"\\' for b in data):
        # git's C-style quoting: "a/line\nbreak.py" (git apply and GNU patch read it)
        quoted = b"".join(
            _ESCAPES.get(bytes([b]), bytes([b]) if b >= 0x20 else b"\\%03o" % b) for b in data
        )
        return b'"' + quoted + b'"'
    # GNU patch reads a name up to a TAB; git ends names holding a space with one too
    return data + b"\t" if b" " in data else data


def unified_diff(path: str, old: bytes, new: bytes, context: int = 3) -> bytes:
    """`--- a/path` / `+++ b/path` diff of one file; empty when nothing changed."""
    if old == new:
        return b""
    out = []
    import difflib  # imported when a diff is made

    lines = difflib.diff_bytes(
        difflib.unified_diff,
        split_lines(old),
        split_lines(new),
        fromfile=_header("a/", path),
        tofile=_header("b/", path),
        n=context,
        lineterm=b"\n",
    )
    for line in lines:
        if line.endswith(b"\n"):
            out.append(line)
        else:  # the file's last line has no newline: say so, as diff(1) does
            out.append(line + b"\n" + NO_EOL)
    return b"".join(out)
