"""Finding files, reading them as bytes, and writing them back atomically.

Walking honours `.gitignore` files (from the walked folders and their parents up to the
repository root), skips folders no one wants rewritten (VCS, virtual environments,
`node_modules`, build output, `migrations/`), never follows a symlinked folder, and never
writes through a symlink. Writes go to a temporary file in the same folder, keep the
permissions, and replace the original only if it still holds the bytes that were read; files
that belong together are all replaced or none (write_all).
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import io
import os
import re
import signal
import threading
import stat
import sys
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator, Optional, Sequence

if TYPE_CHECKING:
    import pathspec


SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "_darcs",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".qsfix_cache",
        ".tox", ".nox", ".eggs", "node_modules", "site-packages",
        "build", "dist", "migrations",
        ".venv", "venv",
    }
)


class FileError(Exception):
    """A file that could not be read, parsed or written; str() is the one-line reason."""

    abspath: Optional[str] = None  # set by write_all: which of the files failed


@dataclass
class SourceFile:
    path: str  # as shown to the user (relative to the working folder when inside it)
    abspath: str
    data: bytes


def absolute_path(path: str, cwd: str) -> str:
    """os.path.abspath with the working folder given (abspath asks the OS for it every time)."""
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(cwd, path))


def display_path(path: str, cwd: Optional[str] = None) -> str:
    cwd = cwd or os.getcwd()
    absolute = absolute_path(path, cwd)
    if absolute.startswith(cwd + os.sep):
        return absolute[len(cwd) + 1 :]  # the common case, without relpath's cost
    try:
        rel = os.path.relpath(absolute, cwd)
    except ValueError:
        return absolute
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir:
        return absolute
    return rel


def _is_venv(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "pyvenv.cfg"))


def _git_root(folder: str) -> Optional[str]:
    current = os.path.abspath(folder)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _load_gitignore(folder: str) -> Optional["pathspec.PathSpec"]:
    path = os.path.join(folder, ".gitignore")
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    import pathspec  # imported when a .gitignore is found: it takes 40 ms to import

    return pathspec.GitIgnoreSpec.from_lines(lines)


class _Ignores:
    """The stack of `.gitignore` specs that apply below a folder."""

    def __init__(self, specs: Sequence[tuple[str, "pathspec.PathSpec"]] = ()):
        self.specs = list(specs)

    def below(self, folder: str) -> "_Ignores":
        spec = _load_gitignore(folder)
        return _Ignores(self.specs + [(folder, spec)]) if spec else self

    def ignored(self, path: str, is_dir: bool) -> bool:
        # As git does: the last pattern that matches decides, deeper files over shallower
        # ones, so `!keep.py` in a sub-folder re-includes what the root ignored.
        verdict = None
        for base, spec in self.specs:
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            if rel.startswith("../"):
                continue
            result = spec.check_file(rel + "/" if is_dir else rel)
            if result.include is not None:
                verdict = result.include
        return bool(verdict)


def _parent_ignores(folder: str) -> _Ignores:
    """`.gitignore` files from the repository root down to (not including) `folder`."""
    root = _git_root(folder)
    if root is None:
        return _Ignores()
    chain = []
    current = os.path.abspath(folder)
    while True:
        parent = os.path.dirname(current)
        if parent == current or not current.startswith(root) or current == root:
            break
        current = parent
        chain.append(current)
    ignores = _Ignores()
    for folder_ in reversed(chain):
        ignores = ignores.below(folder_)
    return ignores


def _excluded(full: str, rel: str, name: str, excludes: Sequence[str]) -> bool:
    """`--exclude` globs match the path as shown to the user, the path below the walked
    folder, or the bare name."""
    if not excludes:
        return False
    shown = display_path(full)
    return any(
        fnmatch.fnmatch(shown, g) or fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g)
        for g in excludes
    )


def discover(paths: Iterable[str], excludes: Sequence[str] = ()) -> Iterator[str]:
    """Python files under `paths`, each once, in a stable order.

    A file named explicitly is always taken (a symlink too: it is read, never written
    through); folders are walked without following symlinks.
    """
    seen: set[str] = set()
    for path in paths:
        absolute = os.path.abspath(path)
        if os.path.isfile(absolute) or not os.path.exists(absolute) or symlink_on_path(path):
            # a symlinked folder named explicitly is not walked: reading it reports why
            if absolute not in seen:
                seen.add(absolute)
                yield path
            continue
        yield from _walk(path, absolute, excludes, seen)


def _walk(path: str, absolute: str, excludes: Sequence[str], seen: set[str]) -> Iterator[str]:
    """Top-down, folders and files in name order (os.walk's order), symlinks never taken;
    with os.scandir, whose entries know their type, so no file costs a stat."""
    stack = [(absolute, _parent_ignores(absolute).below(absolute))]
    while stack:
        folder, ignores = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue  # an unreadable folder is skipped, as os.walk does
        folders, files = [], []
        for entry in entries:
            if entry.is_symlink():
                continue  # never followed: it may lead out of the tree
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_folder = False
            (folders if is_folder else files).append(entry.name)
        below = []
        for name in sorted(folders):
            full = os.path.join(folder, name)
            rel = full[len(absolute) + 1 :]
            if (
                name in SKIPPED_DIRS
                or name.endswith(".egg-info")
                or _is_venv(full)
                or ignores.ignored(full, True)
                or _excluded(full, rel, name, excludes)
            ):
                continue
            below.append((full, ignores.below(full)))
        stack.extend(reversed(below))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            full = os.path.join(folder, name)
            rel = full[len(absolute) + 1 :]
            if ignores.ignored(full, False) or _excluded(full, rel, name, excludes) or full in seen:
                continue
            seen.add(full)
            yield os.path.join(path, rel) if path != "." else rel


def symlink_on_path(path: str) -> Optional[str]:
    """The first symlinked folder on `path` (as given, from the working folder down), if
    any: a file reached through one may live outside the tree, so it is never followed for
    writing, and a symlinked folder is never walked."""
    parts = os.path.normpath(path).split(os.sep)
    current = "" if not os.path.isabs(path) else os.sep
    for i, part in enumerate(parts[:-1] if parts else []):
        current = os.path.join(current, part) if current else part
        if part in ("", ".", "..") or (os.path.isabs(path) and i == 0):
            continue
        if os.path.islink(current):
            return current
    if os.path.islink(path) and os.path.isdir(path):
        return path
    return None


@functools.lru_cache(maxsize=4096)
def _symlinked_folder(folder: str) -> Optional[str]:
    """The first symlinked folder on a relative folder path (memoised per folder)."""
    if not folder or folder in (".", os.pardir):
        return None
    parent = _symlinked_folder(os.path.dirname(folder))
    if parent:
        return parent
    if os.path.basename(folder) not in ("", ".", os.pardir) and os.path.islink(folder):
        return folder
    return None


def read_source(path: str, cwd: Optional[str] = None) -> SourceFile:
    cwd = cwd or os.getcwd()
    absolute = absolute_path(path, cwd)
    if not os.path.isabs(path):
        link = _symlinked_folder(os.path.dirname(os.path.normpath(path)))
        if link:
            raise FileError(f"{link} is a symlinked folder; not followed")
    try:
        with open(absolute, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise FileError("no such file") from None
    except IsADirectoryError:
        raise FileError("is a directory") from None
    except OSError as exc:
        raise FileError(f"cannot read: {exc.strerror or exc}") from None
    return SourceFile(path=display_path(absolute, cwd), abspath=absolute, data=data)


def atomic_write(abspath: str, data: bytes, expected: bytes) -> None:
    """Replace `abspath` with `data` unless it no longer holds `expected` (see write_all)."""
    write_all([(abspath, data, expected)])


def write_all(writes: Sequence[tuple[str, bytes, bytes]]) -> None:
    """Replace every `(abspath, data, expected)` file with `data`, or none of them.

    Each file must still hold `expected` (the bytes that were read) and not be reached
    through a symlink. Then the new contents go to temporary files beside their targets
    (same file system), flushed to disk, with the originals' permissions, and are renamed
    over the originals; each file is checked once more just before its rename. If a check
    or a rename fails, the files already replaced get their original bytes back: a reader
    (or a crash) sees each file old or new, never a mix. Raises FileError, whose `abspath`
    names the file that failed.
    """
    modes = [_writable_mode(abspath, expected) for abspath, _, expected in writes]
    temporaries: list[str] = []
    replaced: list[tuple[str, bytes, int]] = []  # (abspath, original bytes, mode)
    with _signals_held():
        try:
            for (abspath, data, _), mode in zip(writes, modes):
                temporaries.append(_attributed(abspath, _temporary, abspath, data, mode))
            for (abspath, _, expected), mode, tmp in zip(writes, modes, temporaries):
                _attributed(abspath, _still_holds, abspath, expected)
                _attributed(abspath, os.replace, tmp, abspath)
                replaced.append((abspath, expected, mode))
        except BaseException as exc:
            for tmp in temporaries:
                _remove(tmp)
            failures = _restore(replaced)
            if failures and isinstance(exc, FileError):
                raise _error(f"{exc}; and could not restore {', '.join(failures)}", exc.abspath) from None
            raise


def _error(message: str, abspath: Optional[str]) -> FileError:
    error = FileError(message)
    error.abspath = abspath
    return error


def _attributed(abspath: str, action, *args):
    """`action(*args)`; an OSError becomes a FileError naming `abspath`."""
    try:
        return action(*args)
    except FileError as exc:
        exc.abspath = abspath
        raise
    except OSError as exc:
        raise _error(f"cannot write: {exc.strerror or exc}", abspath) from None


def _writable_mode(abspath: str, expected: bytes) -> int:
    """The permission bits of a file that may be replaced: not a symlink, not behind a
    symlinked folder, and still holding `expected`."""
    if os.path.islink(abspath):
        raise _error("is a symlink; not written through", abspath)
    relative = os.path.relpath(abspath)
    if not relative.startswith(os.pardir) and symlink_on_path(relative):
        raise _error(f"{symlink_on_path(relative)} is a symlinked folder; not written through", abspath)
    _attributed(abspath, _still_holds, abspath, expected)
    try:
        return stat.S_IMODE(os.stat(abspath).st_mode)
    except OSError as exc:
        raise _error(f"cannot re-read before writing: {exc.strerror or exc}", abspath) from None


def _still_holds(abspath: str, expected: bytes) -> None:
    try:
        with open(abspath, "rb") as handle:
            current = handle.read()
    except OSError as exc:
        raise FileError(f"cannot re-read before writing: {exc.strerror or exc}") from None
    if current != expected:
        raise FileError("changed since it was read; not written")


def _temporary(abspath: str, data: bytes, mode: int) -> str:
    """A temporary file beside `abspath` holding `data` on disk, with `mode`."""
    tmp = None
    try:
        fd, tmp = _this.tempfile.mkstemp(dir=os.path.dirname(abspath), prefix=".qsfix-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        if tmp is not None:
            _remove(tmp)
        raise
    return tmp


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass  # already renamed, or never made


def _restore(replaced: list[tuple[str, bytes, int]]) -> list[str]:
    """Put the original bytes back into files already replaced; the ones that failed."""
    failures = []
    for abspath, original, mode in reversed(replaced):
        tmp = None
        try:
            tmp = _temporary(abspath, original, mode)
            os.replace(tmp, abspath)
        except OSError:
            if tmp is not None:
                _remove(tmp)
            failures.append(abspath)
    return failures


@contextlib.contextmanager
def _signals_held():
    """Ctrl-C and SIGTERM wait while one file is being replaced, then take effect: a file
    is old or new, and no temporary file is left behind, whenever they arrive."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg", "manage.py")


def project_root(path: str) -> Optional[str]:
    """The folder of the project `path` belongs to: the nearest one up that holds a VCS
    folder, a packaging file or `manage.py`. The index reads the whole project, so that a
    model defined elsewhere is known when only some files are rewritten."""
    current = os.path.abspath(path)
    if not os.path.isdir(current):
        current = os.path.dirname(current)
    while True:
        if any(os.path.exists(os.path.join(current, m)) for m in PROJECT_MARKERS):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def decode(data: bytes) -> str:
    """The text `ast` sees: encoding from the BOM or cookie, BOM dropped, newlines kept."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


# what str.splitlines() breaks at besides \n (looked for one by one: `in` is a fast scan; a
# character class searched for over the text cost more than the split itself)
_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def split_lines(text: str) -> list[str]:
    """Lines as Python's tokenizer counts them: ended by \\n, \\r\\n or \\r only (str.splitlines
    also breaks at form feeds and other separators, which would shift every line number)."""
    if not any(brk in text for brk in _OTHER_BREAKS):
        return text.splitlines(keepends=True)  # the same lines, a few times faster
    return _LINE.findall(text)


_this = sys.modules[__name__]


def __getattr__(name: str):
    """`tempfile`, imported when a file is first written (it takes 5 ms to import, and most
    runs write nothing); a module attribute, so tests can replace it."""
    if name == "tempfile":
        import tempfile

        globals()["tempfile"] = tempfile
        return tempfile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
