"""The file pipeline: read, index, analyse, fix, verify. No output happens here.

1. Every file is read as bytes and summarised with `ast` (cheap) into the project index.
2. Each file is parsed once with libcst; one `FileAnalysis` (metadata, typing, reuse) serves
   every selected pass; the passes report findings with fixes as node replacements.
3. Suppressions and options decide which fixes apply; all applied edits go into one
   transform, so fixes from different passes compose; the result must parse again.

Bytes in, bytes out: libcst keeps the encoding cookie, BOM, line endings, tabs and comments,
so nothing outside the rewritten spans changes.
"""

from __future__ import annotations

import ast
import dataclasses
import gc
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

from . import __version__, registry
from . import cache as cache_mod
from .cache import Cache, content_hash
from .analysis import FileAnalysis
from .files import (
    FileError,
    SourceFile,
    atomic_write,
    decode,
    discover,
    display_path,
    project_root,
    read_source,
    split_lines,
)
from .findings import SAFE, Finding
from .files import _symlinked_folder
from .index import ModuleSummary, ProjectIndex, _package_of, module_name_for, summarise
from .querysets import ChainTyper
from .rewrite import apply_edits
from .suppression import suppressed, suppressions

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 40


@dataclass(frozen=True)
class Options:
    select: Optional[frozenset[str]] = None
    ignore: frozenset[str] = frozenset()
    unsafe: bool = False
    # Finding keys to apply (interactive review); None applies every eligible fix.
    accept: Optional[frozenset[str]] = None
    jobs: int = 1
    # QS003: move every view's class-level queryset, not only the stale ones
    all_views: bool = False
    # QS004: keep the old names importable through a module __getattr__ (for libraries)
    keep_names: bool = False
    use_cache: bool = False
    # False for `check`: decide which fixes would apply, but do not build the new text
    # (libcst is then never needed)
    build_fixes: bool = True

    @property
    def passes(self):
        return registry.selected(self.select, self.ignore)


@dataclass
class FileResult:
    path: str
    abspath: str
    original: bytes = b""
    new: Optional[bytes] = None
    findings: list[Finding] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def changed(self) -> bool:
        return self.new is not None and self.new != self.original

    @property
    def would_change(self) -> bool:
        """Changed, or (when fixes were not built, as in `check`) has a fix that applies."""
        return self.changed or any(f.fix and f.fix.applied for f in self.findings)


@dataclass
class RunResult:
    files: list[FileResult]
    index: Optional[ProjectIndex] = None
    # what was analysed, kept so a subset of fixes can be previewed or applied again
    sources: dict[str, tuple[SourceFile, ModuleSummary]] = field(default_factory=dict)
    analysed: list[str] = field(default_factory=list)  # files not answered from the cache

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings]

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.files if r.error]

    @property
    def changed(self) -> list[FileResult]:
        return [r for r in self.files if r.changed]

    @property
    def would_change(self) -> list[FileResult]:
        return [r for r in self.files if r.would_change]


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


# -- phase 1: read and index -----------------------------------------------------------------
@dataclass
class Indexed:
    source: Optional[SourceFile]
    summary: Optional[ModuleSummary]
    error: Optional[str]
    path: str


def index_one(path: str) -> Indexed:
    try:
        source = read_source(path)
    except FileError as exc:
        return Indexed(None, None, describe_error(path, exc), path)
    return index_source(source)


def index_source(source: SourceFile) -> Indexed:
    try:
        tree = ast.parse(source.data, filename=source.path)
        summary = summarise(source.abspath, source.data, tree)
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError) as exc:
        return Indexed(source, None, describe_error(source.path, exc), source.path)
    return Indexed(source, summary, None, source.path)


def _index_batch(sources: Sequence[SourceFile]) -> list[Indexed]:
    return [index_source(s) for s in sources]


# -- phase 2: analyse and fix ------------------------------------------------------------------
def _quiet_definitions(tree: ast.Module, text: str, pattern) -> frozenset:
    """Functions and methods whose source names nothing relevant: no finding can be inside
    (every typing rule starts from a relevant name, and a local variable's value is in the
    same function), so their bodies are bound but not analysed. Top-level functions and
    the methods of top-level classes are checked; a class body itself is always read."""
    if pattern is None:
        return frozenset()
    lines = split_lines(text)
    quiet = set()

    def is_quiet(node: ast.AST) -> bool:
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        return not pattern.search("".join(lines[start - 1 : node.end_lineno]))

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


def _handlers(passes) -> dict[type, list]:
    table: dict[type, list] = {}
    for visitor in passes:
        for attr in dir(visitor):
            if attr.startswith("visit_"):
                node_type = getattr(ast, attr[len("visit_"):], None)
                if node_type is not None:
                    table.setdefault(node_type, []).append(getattr(visitor, attr))
    return table


def analyse_source(
    source: SourceFile,
    summary: ModuleSummary,
    index: ProjectIndex,
    options: Options,
    chains: Optional[ChainTyper] = None,
) -> FileResult:
    result = FileResult(path=source.path, abspath=source.abspath, original=source.data)
    passes = options.passes
    chains = chains or ChainTyper(index, keep_names=options.keep_names)
    if not passes:
        return result
    try:
        text = decode(source.data)
        names = chains.relevant_names(summary, text)
        if not names:
            return result  # nothing in this file can name a model, manager or QuerySet
        factory_names = [f.name for f in chains.factories.values()]
        pattern = re.compile(
            r"\b(?:%s)\b" % "|".join(re.escape(n) for n in sorted(names | set(factory_names)) if n)
        ) if "" not in names else None
        tree = ast.parse(source.data, filename=source.path)
        analysis = FileAnalysis(
            source.path, text, tree, summary, index, chains,
            factories_active=any(p.code == "QS004" for p in passes),
            skip_bodies=_quiet_definitions(tree, text, pattern),
        )
        visitors = [info.visitor(analysis, options) for info in passes]
        handlers = _handlers(visitors)
        for node in analysis.parents:
            for handler in handlers.get(type(node), ()):
                handler(node)
        for visitor in visitors:
            visitor.finish()
        findings = [f for v in visitors for f in v.findings]
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError) as exc:
        result.error = describe_error(source.path, exc)
        return result
    except Exception as exc:  # a bug in a pass must cost one file, not the run
        result.error = f"{source.path}: internal error, file skipped: {type(exc).__name__}: {_first_line(exc)}"
        return result

    table = suppressions(text) if findings else {}
    order = [p.code for p in passes]
    edits = []
    applied_units: set[str] = set()
    for finding in sorted(findings, key=lambda f: order.index(f.code)):
        if finding.skip_reason is None and finding.code != "QS004":
            # QS004 spans files: only a comment at the definition counts (the plan reads it),
            # or one file would call a function another file never defined
            finding.skip_reason = suppressed(table, finding.line, finding.code)
        fix = finding.fix
        if fix is None or finding.skip_reason is not None:
            continue
        if fix.applicability != SAFE and not options.unsafe:
            finding.skip_reason = "unsafe fix: applied only with --unsafe"
            continue
        if options.accept is not None and finding.key not in options.accept:
            continue
        if finding.requires is not None and finding.requires not in applied_units:
            continue  # QS004 did not make this name a call here, so the fix does not hold
        fix.applied = True
        applied_units.add(finding.key)
        edits.extend(fix.edits)
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    result.findings = findings
    if edits and options.build_fixes:
        try:
            new = apply_edits(source.data, edits)
            ast.parse(new, filename=source.path)
        except RecursionError:
            result.error = f"{source.path}: too deeply nested to rewrite (recursion limit); nothing written"
            for finding in findings:
                if finding.fix:
                    finding.fix.applied = False
            return result
        except Exception as exc:  # a rewrite that does not parse is a bug; never write it
            result.error = (
                f"{source.path}: internal error, rewrite discarded: "
                f"{type(exc).__name__}: {_first_line(exc)}"
            )
            for finding in findings:
                if finding.fix:
                    finding.fix.applied = False
            return result
        if new != source.data:
            result.new = new
    for finding in findings:  # edits hold closures: not needed past here, not picklable
        if finding.fix:
            finding.fix.edits = []
    return result


_WORKER: dict = {}


def _init_worker(index: ProjectIndex, options: Options) -> None:
    # one typer per worker process: its caches (and QS004's plan) serve every batch; a
    # forked worker already holds them
    if _WORKER.get("index") is not index:
        _WORKER.update(index=index, options=options, chains=ChainTyper(index, keep_names=options.keep_names))


def _analyse_batch(batch: Sequence[tuple[SourceFile, ModuleSummary]]) -> list[FileResult]:
    index, options, chains = _WORKER["index"], _WORKER["options"], _WORKER["chains"]
    # the parent has the source bytes: do not send them back
    return [dataclasses.replace(analyse_source(s, m, index, options, chains), original=b"") for s, m in batch]


def _batches(items: Sequence, jobs: int) -> list[Sequence]:
    count = max(1, min(len(items), jobs * 4))
    size = -(-len(items) // count)
    return [items[i : i + size] for i in range(0, len(items), size)]


Progress = Callable[[str, int, int], None]  # (phase, done, total)


def _pool(jobs: int, **kwargs):
    """Workers forked after the index exists share it without pickling where fork is
    available; elsewhere the initializer hands it over once per worker."""
    import multiprocessing  # imported when a pool is needed: most runs need none
    from concurrent.futures import ProcessPoolExecutor

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        context = None
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, **kwargs)


def _options_key(options: Options) -> tuple:
    """The options that change a file's results (part of every cache key)."""
    return (
        options.select and sorted(options.select), sorted(options.ignore), options.unsafe,
        options.all_views, options.keep_names, options.build_fixes,
    )


def _dependency_keys(index: ProjectIndex, chains: ChainTyper, options: Options,
                     digests: dict[str, str]) -> dict[str, str]:
    """Per module: a digest of everything its analysis can read (see codemods.cache)."""
    graph: dict[str, set[str]] = {}
    modules = index.modules
    for name, summary in modules.items():
        deps = set()
        for target in [*summary.imports.values(), *summary.star_imports]:
            resolved = index.resolve(target)
            while resolved and resolved not in modules:
                resolved = resolved.rpartition(".")[0]
            if resolved and resolved != name:
                deps.add(resolved)
        graph[name] = deps
    closure = cache_mod.merkle(graph, digests)
    plan = chains.factories
    project = cache_mod.digest(
        __version__,
        sorted((q, f.new_name, f.skip, sorted(f.users)) for q, f in plan.items()),
        sorted(
            (c.qualname, r.field, r.kind, r.target, r.related_name)
            for c in index.classes.values() for r in c.relations
        ),
        sorted(
            (c.qualname, tuple(c.bases), "queryset" in c.attrs, "ordering" in c.attrs,
             sorted(m for m in c.methods if m in ("get_queryset", "get_ordering")),
             c.queryset_reads, c.queryset_assigned, c.get_queryset_returns_attr)
            for c in index.classes.values()
            if "queryset" in c.attrs or "ordering" in c.attrs or c.queryset_reads
            or c.queryset_assigned or "get_queryset" in c.methods or "get_ordering" in c.methods
        ),
        sorted(
            (m.module, sorted(m.as_view_querysets), sorted(m.class_queryset_reads))
            for m in modules.values() if m.as_view_querysets or m.class_queryset_reads
        ),
        _options_key(options),
    )
    return {name: cache_mod.digest(project, closure[name]) for name in modules}


def run(*args, **kwargs) -> RunResult:
    """Analyse `paths` (see `_run`). The cyclic garbage collector is tuned for the run:
    the index is built once and lives to the end (frozen, so collections skip it), and
    analysis makes many short-lived objects (a higher threshold: the default collected
    often enough to take a third of the time on large projects)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    # per-folder memos (packages, symlinks) describe the file system as it is now
    _package_of.cache_clear()
    _symlinked_folder.cache_clear()
    try:
        return _run(*args, **kwargs)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _run(
    paths: Iterable[str],
    options: Options,
    excludes: Sequence[str] = (),
    progress: Optional[Progress] = None,
    stdin: Optional[tuple[str, bytes]] = None,
) -> RunResult:
    """Analyse `paths` (files and folders) in the light of their whole project.

    `stdin=(filename, data)`: the only target is `data`, as if it were the file `filename`
    (which need not exist); the rest of the project is read from disk for the index."""
    paths = list(paths)
    if stdin is not None:
        paths = [stdin[0]]
        targets = [stdin[0]]
    else:
        targets = list(discover(paths, excludes))
    # The index sees the whole project of each path, so a model defined in a file that is
    # not being rewritten is still known; only the targets are analysed and reported.
    roots = sorted({r for r in (project_root(p) for p in paths) if r is not None})
    target_set = {os.path.abspath(p) for p in targets}
    walked = {os.path.abspath(p) for p in paths if os.path.isdir(p)}
    outside = [r for r in roots if r not in walked]  # roots the targets' walk did not cover
    context = [f for f in discover(outside, excludes) if os.path.abspath(f) not in target_set]
    files = targets + context
    jobs = max(1, options.jobs)
    report = progress or (lambda phase, done, total: None)
    use_cache = options.use_cache and stdin is None  # stdin text is not the file on disk
    cache = Cache(roots[0] if roots else os.getcwd()) if use_cache else None

    # read everything; parse only what the cache does not already know
    indexed: list[Optional[Indexed]] = []
    digests: dict[str, str] = {}
    misses: list[tuple[int, SourceFile]] = []
    for path in files:
        try:
            if stdin is not None and path == stdin[0]:
                source = SourceFile(path=display_path(path), abspath=os.path.abspath(path), data=stdin[1])
            else:
                source = read_source(path)
        except FileError as exc:
            indexed.append(Indexed(None, None, describe_error(path, exc), path))
            continue
        digest = content_hash(source.data) if cache else ""
        digests[source.abspath] = digest
        summary = cache.summary(source.abspath, digest, module_name_for(source.abspath)[0]) if cache else None
        if summary is not None:
            indexed.append(Indexed(source, summary, None, source.path))
        else:
            indexed.append(None)
            misses.append((len(indexed) - 1, source))
    parallel = jobs > 1 and len(misses) >= PARALLEL_THRESHOLD
    done = 0
    if parallel:
        with _pool(jobs) as pool:
            batches = _batches(misses, jobs)
            for batch, out in zip(batches, pool.map(_index_batch, [[s for _, s in b] for b in batches])):
                for (position, _), item in zip(batch, out):
                    indexed[position] = item
                done += len(batch)
                report("index", done, len(misses))
    else:
        for position, source in misses:
            indexed[position] = index_source(source)
            done += 1
            report("index", done, len(misses))
    if cache:
        for position, source in misses:
            item = indexed[position]
            if item.summary is not None:
                cache.put_summary(source.abspath, digests[source.abspath], item.summary.module, item.summary)

    index = ProjectIndex(i.summary for i in indexed if i.summary is not None)
    index.targets = {i.summary.module for i in indexed[: len(targets)] if i.summary is not None}
    index.failed_sources = {
        i.path: i.source.data for i in indexed if i.error and i.source is not None
    }
    gc.freeze()  # the index and the sources stay to the end: keep them out of collections
    chains = ChainTyper(index, keep_names=options.keep_names)
    keys: dict[str, str] = {}
    if cache:
        module_digests = {i.summary.module: digests[i.source.abspath] for i in indexed if i.summary}
        # Nothing changed since the last run (same files, same contents, same options and
        # targets): the keys are the ones computed then, so the project-wide digests need not
        # be computed again.
        whole = cache_mod.digest(
            sorted(digests.items()), sorted(index.targets), sorted(index.failed_sources),
            _options_key(options),
        )
        keys = cache.keys(whole)
        if keys is None:
            keys = _dependency_keys(index, chains, options, module_digests)
            cache.put_keys(whole, keys)
    results: dict[str, FileResult] = {}
    work: list[tuple[SourceFile, ModuleSummary]] = []
    analysed: list[str] = []
    for item in indexed[: len(targets)]:  # context files only feed the index
        if item.error or item.source is None or item.summary is None:
            abspath = item.source.abspath if item.source else os.path.abspath(item.path)
            results[item.path] = FileResult(path=item.path, abspath=abspath, error=item.error)
            continue
        cached = cache.result(item.source.abspath, keys[item.summary.module]) if cache else None
        if cached is not None:
            results[item.path] = dataclasses.replace(cached, path=item.path, original=item.source.data)
        else:
            work.append((item.source, item.summary))

    done = 0
    if jobs > 1 and len(work) >= PARALLEL_THRESHOLD:
        _WORKER.update(index=index, options=options, chains=chains)
        with _pool(jobs, initializer=_init_worker, initargs=(index, options)) as pool:
            originals = {source.path: source.data for source, _ in work}
            for batch in pool.map(_analyse_batch, _batches(work, jobs)):
                for result in batch:
                    result.original = originals[result.path]
                    results[result.path] = result
                done += len(batch)
                report("analyse", done, len(work))
    else:
        for source, summary in work:
            result = analyse_source(source, summary, index, options, chains)
            results[result.path] = result
            done += 1
            report("analyse", done, len(work))
    for source, summary in work:
        result = results[source.path]
        analysed.append(source.path)
        if cache and result.error is None:
            cache.put_result(source.abspath, keys[summary.module], dataclasses.replace(result, original=b""))
    if cache:
        cache.prune(i.source.abspath for i in indexed if i.source is not None)
        cache.save()
    return RunResult(
        files=[results[i.path] for i in indexed[: len(targets)]],
        index=index,
        sources={i.source.path: (i.source, i.summary) for i in indexed[: len(targets)] if i.summary},
        analysed=analysed,
    )


def rerun(run_result: RunResult, options: Options, paths: Iterable[str]) -> list[FileResult]:
    """Analyse some files of a finished run again with other options (e.g. the fixes a user
    accepted one by one); the index is reused."""
    assert run_result.index is not None
    chains = ChainTyper(run_result.index, keep_names=options.keep_names)
    out = []
    for path in paths:
        source, summary = run_result.sources[path]
        out.append(analyse_source(source, summary, run_result.index, options, chains))
    return out


def write_changes(results: Iterable[FileResult]) -> list[FileResult]:
    """Write every changed file; a file that fails gets its error set. Returns the written."""
    written = []
    for result in results:
        if not result.changed:
            continue
        try:
            atomic_write(result.abspath, result.new, result.original)
        except FileError as exc:
            result.error = describe_error(result.path, exc)
            continue
        written.append(result)
    return written
