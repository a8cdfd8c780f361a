"""The cache: re-runs only redo what changed.

Two tables, kept per project in `.qsfix_cache/` at the project root (like other linters'
caches, with a `.gitignore` of its own), each in a file of its own:

- summaries, keyed by the file's content hash and module name: the `ast` index pass is
  skipped for files that did not change;
- results, keyed by a *dependency key*: the file's content, the tool version, the options that
  change the analysis (only --keep-names: a result holds every finding of every pass, safe,
  unsafe and skipped, and the options choose among them; see engine.Analysed), the content of every project module the file imports (transitively, since
  typing follows imports: a model's bases, a function's returns), and digests of the few
  project-wide facts a pass reads (QS004's plan, the relation graph, the view hierarchy QS003
  checks). Editing a model file re-analyses the files that import it, and nothing else,
  unless it changes one of those project-wide facts.

Each running Python (major.minor) has cache files of its own: `ast` parses the grammar of the
Python it runs on, and the kept fixes hold code objects, so a run never reads what another
interpreter wrote, and two interpreters' runs do not undo each other's cache.

A cache that cannot be read is ignored; one that cannot be written is skipped. Neither is an
error: the cache only ever saves time.

The cache lives in the project folder, which may come from anyone (a cloned repository can
commit a `.qsfix_cache/`), and unpickling runs code. So every cache file is signed with a
key that never leaves this user's own cache folder (HMAC-SHA256), and a file whose
signature does not verify is never unpickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import importlib
import io
import marshal
import pickle
import sys
import types
from typing import Iterable, Optional

from . import __version__

CACHE_DIR = ".qsfix_cache"
FORMAT = 6  # 5: summaries carry QS007's call graph, QS008's page_cache, issue 14's typing facts
# 6: class summaries carry AppConfig's label and name; module summaries queryset_parameters


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]  # sha256: hardware-accelerated, 3x blake2b here


_TOOL_VERSION: list[str] = []


def tool_version() -> str:
    """The version and a digest of the tool's own code: a cache made by other code (a pass
    added or changed, a checkout of another commit) is never read, even if the version
    number was not raised. Reading the ~40 small source files costs about a millisecond."""
    if not _TOOL_VERSION:
        digest = hashlib.sha256()
        package = os.path.dirname(os.path.abspath(__file__))
        for folder, dirs, files in sorted(os.walk(package)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, package).encode() + b"\0")
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
        _TOOL_VERSION.append(f"{__version__}+{digest.hexdigest()[:16]}")
    return _TOOL_VERSION[0]


class Cache:
    """Two signed files: the results (with the dependency keys of the last run and the list
    of summaries held), read at every run, and the summaries, read only when the index has
    to be built: a re-run with nothing changed needs no index, and the summaries are most
    of the cache's bytes."""

    def __init__(self, root: Optional[str]):
        self.root = root
        python = "py{}.{}".format(*sys.version_info[:2])
        base = os.path.join(root, CACHE_DIR, f"v{FORMAT}-{__version__}-{python}") if root else None
        self.path = f"{base}.pickle" if base else None
        self.summaries_path = f"{base}-summaries.pickle" if base else None
        self._summaries: Optional[dict] = None  # read when first asked for
        self.known: dict = {}  # abspath -> (content digest, module) of every summary held
        self.results: dict = {}
        self.whole: tuple = ("", {})  # (digest of every input, the dependency keys then)
        self.dirty = False
        self.summaries_dirty = False
        data = _load(self.path)
        if data is not None:
            self.results = data["results"]
            self.whole = data["whole"]
            self.known = data["known"]

    # -- summaries -----------------------------------------------------------------------
    @property
    def summaries(self) -> dict:
        if self._summaries is None:
            data = _load(self.summaries_path) if self.known else None
            self._summaries = data["summaries"] if data is not None else {}
        return self._summaries

    def has_summary(self, abspath: str, digest: str, module: str) -> bool:
        """Whether the cache holds this file's summary, without reading the summaries."""
        return self.known.get(abspath) == (digest, module)

    def summary(self, abspath: str, digest: str, module: str):
        if not self.has_summary(abspath, digest, module):
            return None
        entry = self.summaries.get(abspath)
        if entry is not None and entry[0] == digest and entry[1] == module:
            return entry[2]
        return None  # the summaries file was lost or damaged since

    def put_summary(self, abspath: str, digest: str, module: str, summary) -> None:
        self.summaries[abspath] = (digest, module, summary)
        self.known[abspath] = (digest, module)
        self.dirty = self.summaries_dirty = True

    # -- results ---------------------------------------------------------------------------
    def result(self, abspath: str, key: Optional[str]):
        entry = self.results.get(abspath)
        if entry is not None and entry[0] == key:
            return entry[1]
        return None

    def put_result(self, abspath: str, key: str, result) -> None:
        self.results[abspath] = (key, result)
        self.dirty = True

    def keys(self, whole: str):
        return self.whole[1] if self.whole[0] == whole else None

    def put_keys(self, whole: str, keys: dict) -> None:
        self.whole = (whole, keys)
        self.dirty = True

    def prune(self, keep: Iterable[str]) -> None:
        """Forget files that are gone, so the cache does not grow without end."""
        keep = set(keep)
        tables = [self.known, self.results]
        if self._summaries is not None:
            tables.append(self._summaries)
        for table in tables:
            for path in [p for p in table if p not in keep]:
                del table[path]
                self.dirty = True
                if table is self._summaries:
                    self.summaries_dirty = True

    def save(self) -> None:
        if not self.path or not self.dirty:
            return
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            ignore = os.path.join(folder, ".gitignore")
            if not os.path.exists(ignore):
                with open(ignore, "w") as handle:
                    handle.write("# created by qsfix\n*\n")
            if self.summaries_dirty:  # first: `known` must not name summaries not written
                _store(self.summaries_path, {"summaries": self.summaries})
            _store(self.path, {"results": self.results, "whole": self.whole, "known": self.known})
        except OSError:
            pass  # a read-only checkout: run without saving


def _load(path: Optional[str]) -> Optional[dict]:
    """The data of a cache file, or None: missing, damaged, another version, or not signed
    with this user's key (then never unpickled)."""
    if not path or not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            signature, payload = handle.read(32), handle.read()
        if not hmac.compare_digest(signature, _sign(payload)):
            return None  # unsigned or foreign: never unpickle it
        data = pickle.loads(payload)
        if data.get("format") == FORMAT and data.get("version") == tool_version():
            return data
    except Exception:  # a damaged cache is no reason to fail
        pass
    return None


def _store(path: str, data: dict) -> None:
    payload = pickle.dumps(
        {"format": FORMAT, "version": tool_version(), **data}, protocol=pickle.HIGHEST_PROTOCOL,
    )
    import tempfile  # imported when the cache is written

    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_sign(payload) + payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _key() -> bytes:
    """This user's signing key, kept outside every project (created on first use)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "qsfix", "cache-key")
    try:
        with open(path, "rb") as handle:
            key = handle.read()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    import secrets  # imported when a key is made, once per user

    key = secrets.token_bytes(32)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
    except FileExistsError:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        pass  # nowhere to keep it: this run's cache will not verify next time, which is safe
    return key


_KEY: list = []


def _sign(payload: bytes) -> bytes:
    if not _KEY:
        _KEY.append(_key())
    return hmac.new(_KEY[0], payload, hashlib.sha256).digest()


def digest(*parts) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(repr(part).encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    return h.hexdigest()


def merkle(graph: dict[str, set[str]], digests: dict[str, str]) -> dict[str, str]:
    """Per node: a digest of the contents of every node it reaches (itself included).
    Cycles (modules importing each other) are collapsed first (Tarjan's SCC)."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    components: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index_of:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index_of[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph:
                    continue
                if child not in index_of:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index_of[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = len(components)
                    members.append(member)
                    if member == node:
                        break
                components.append(members)
    # Tarjan emits components in reverse topological order: children before parents
    done: dict[int, str] = {}
    for number, members in enumerate(components):
        children = sorted(
            {done[component[c]] for m in members for c in graph.get(m, ()) if c in component
             and component[c] != number}
        )
        done[number] = digest(sorted((m, digests.get(m, "")) for m in members), children)
    return {node: done[component[node]] for node in graph}


# -- fixes kept by value -------------------------------------------------------------------------
# A fix's edits are closures the passes make (a lambda that calls `method_call(updated,
# "exists")`, a function `_move` returns). Pickle saves functions by name, which a closure has
# none of; these are saved by value instead: the code object (marshal, hence the cache files
# per Python version), the module whose globals it reads, and the values it closed over.
class _EditPickler(pickle.Pickler):
    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.codes: dict = {}  # code object -> its marshalled bytes, shared in the pickle

    def reducer_override(self, obj):
        if type(obj) is not types.FunctionType or not _local(obj):
            return NotImplemented
        code = self.codes.get(obj.__code__)
        if code is None:
            code = self.codes[obj.__code__] = marshal.dumps(obj.__code__)
        cells = tuple(cell.cell_contents for cell in obj.__closure__ or ())
        return _function, (obj.__module__, code, obj.__name__, obj.__defaults__, obj.__kwdefaults__, cells)


def _local(func) -> bool:
    return "<locals>" in func.__qualname__ or "<lambda>" in func.__qualname__


def _function(module, code, name, defaults, kwdefaults, cells):
    func = types.FunctionType(
        marshal.loads(code), importlib.import_module(module).__dict__, name, defaults,
        tuple(types.CellType(value) for value in cells) or None,
    )
    func.__kwdefaults__ = kwdefaults
    return func


def dump_edits(edits) -> Optional[bytes]:
    """`edits` pickled, closures by value; None when something in them cannot be pickled
    (the file is then analysed again when its text is needed)."""
    buffer = io.BytesIO()
    try:
        _EditPickler(buffer).dump(edits)
    except Exception:  # noqa: BLE001 - e.g. a closure over something unpicklable
        return None
    return buffer.getvalue()


def load_edits(blob: bytes):
    """What dump_edits saved, or None if it cannot be loaded (analysed again then)."""
    try:
        return pickle.loads(blob)
    except Exception:  # noqa: BLE001 - e.g. a pass renamed since: analyse again
        return None
