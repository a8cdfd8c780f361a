"""Module names from the file system: which dotted module a file is (no parsing needed)."""

from __future__ import annotations

import functools
import os
from typing import Optional

from .files import project_root


def module_name_for(path: str) -> tuple[str, bool]:
    """Dotted module name from the package folders (`__init__.py`) around a file."""
    if not os.path.isabs(path):
        path = os.path.abspath(path)
    folder, filename = os.path.split(path)
    stem = filename[:-3] if filename.endswith(".py") else filename
    is_package = stem == "__init__"
    package = _package_of(folder) or _namespace_of(folder)
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


@functools.lru_cache(maxsize=4096)
def _namespace_of(folder: str) -> str:
    """`a.b` for namespace folders (PEP 420, no `__init__.py`) `.../a/b` below the source
    root. A regular package keeps the name its `__init__.py` folders give it, even inside a
    namespace folder: Django's own `tests/` holds packages imported as top-level ones."""
    parent, name = os.path.split(folder)
    if not name or os.path.isfile(os.path.join(folder, "__init__.py")):
        return ""
    outer = _package_of(parent)  # a namespace folder inside a regular package is its subpackage
    if outer:
        return f"{outer}.{name}"
    if not _inside_source_root(folder):
        return ""
    outer = _namespace_of(parent)
    return f"{outer}.{name}" if outer else name


def _inside_source_root(folder: str) -> bool:
    """Whether a namespace folder is named as a package: it lies strictly below the source root
    (the nearest folder up holding `manage.py`, else the project's root) and is no `src` folder
    (a src layout's packages are named without it)."""
    if os.path.basename(folder) == "src":
        return False
    root = _source_root(folder)
    return root is not None and root != folder


def _source_root(folder: str) -> Optional[str]:
    """The folder imports start from: the nearest one up (from `folder` itself) holding
    `manage.py`, else the project's root (asked once per namespace folder: `_namespace_of`
    memoises the answer)."""
    current = folder
    while True:
        if os.path.isfile(os.path.join(current, "manage.py")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return project_root(folder)
        current = parent
