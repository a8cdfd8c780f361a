"""Module names from the file system: which dotted module a file is (no parsing needed)."""

from __future__ import annotations

import functools
import os


def module_name_for(path: str) -> tuple[str, bool]:
    """Dotted module name from the package folders (`__init__.py`) around a file."""
    if not os.path.isabs(path):
        path = os.path.abspath(path)
    folder, filename = os.path.split(path)
    stem = filename[:-3] if filename.endswith(".py") else filename
    is_package = stem == "__init__"
    package = _package_of(folder)
    parts = [package] if package else []
    if not is_package:
        parts.append(stem)
    return ".".join(parts) or stem, is_package


@functools.lru_cache(maxsize=4096)
def _package_of(folder: str) -> str:
    """`a.b` for a folder `.../a/b` where both hold `__init__.py` (memoised per folder: a
    project has far fewer folders than files)."""
    if not os.path.isfile(os.path.join(folder, "__init__.py")):
        return ""
    parent, name = os.path.split(folder)
    if not name:
        return ""
    outer = _package_of(parent)
    return f"{outer}.{name}" if outer else name
