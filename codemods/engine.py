"""The file pipeline: read, index, analyse, fix, verify. No output happens here.

1. Every file is read as bytes; files the cache does not know are parsed with `ast` and
   summarised into the project index (with -j, in worker processes that keep the trees).
2. Each target that can hold a finding is analysed on its `ast` tree (the one the index
   made, where it was kept): one `FileAnalysis` (scopes, typing, reuse) serves every pass;
   the passes report findings whose fixes are node replacements. The analysis does not
   depend on the options (but --keep-names): every pass runs, unsafe fixes and --all-views
   candidates are kept, and a finding that needs an option says how it reads without it.
   That analysis (`Analysed`, with the edits kept by value) is what the cache holds, so
   `check`, `diff`, `--unsafe`, `--select` ... one after the other analyse a file once.
3. The options choose (`choose`): which findings show, which fixes apply; the chosen edits
   go into one libcst transform (`present`; libcst parses only the files that change, and
   `check` builds no text), so fixes from different passes compose; the result must parse
   again. A text built is kept with the analysis for the next run.

Bytes in, bytes out: libcst keeps the encoding cookie, BOM, line endings, tabs and comments,
so nothing outside the rewritten spans changes.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import gc
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional, Sequence

from . import GC_THRESHOLDS, registry
from . import cache as cache_mod
from .cache import Cache, content_hash
from .files import (
    FileError,
    absolute_path,
    SourceFile,
    decode,
    discover,
    display_path,
    project_root,
    read_source,
    split_lines,
)
from .errors import _first_line, describe_error
from .findings import SAFE, Finding
from .options import Options  # noqa: F401 - re-exported: `engine.Options` is public
from .results import FileResult, RunResult  # noqa: F401 - re-exported as well
from .files import _symlinked_folder
from .modules import _namespace_of, _package_of, module_name_for
from .quiet import quiet_definitions
from .rewrite import apply_edits
from .trees import Trees, frozen_afterwards, parse_frozen  # noqa: F401 - engine.Trees: tests tune its budget
from .writing import write_changes  # noqa: F401 - engine.write_changes, as cli and api use it

if TYPE_CHECKING:
    from .index import ModuleSummary, ProjectIndex
    from .querysets import ChainTyper

# The analysis machinery (analysis, querysets, scopes, suppression) is imported by the
# functions that use it: a run answered from the cache never does, and start-up is most of it.

# The cheap checks that decide what not to analyse: a file that names nothing relevant is
# skipped, and so is the body of a function that names nothing relevant. False analyses
# everything fully, to show that they never hide a finding (scripts/prefilter_check.py).
PREFILTER = True

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 40


# What the passes are given: one analysis serves every option set (see `Analysed`): a pass
# option that is not part of the cache key is read through a finding's `unless`
ANALYSIS_OPTIONS = Options(unsafe=True)


# -- phase 1: read and index -----------------------------------------------------------------
@dataclass
class Indexed:
    source: Optional[SourceFile]
    summary: Optional[ModuleSummary]
    error: Optional[str]
    path: str


def index_source(source: SourceFile, trees: Optional[Trees] = None) -> Indexed:
    from .index import summarise

    try:
        tree = ast.parse(source.data, filename=source.path)
        summary = summarise(source.abspath, source.data, tree)
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError) as exc:
        return Indexed(source, None, describe_error(source.path, exc), source.path)
    if trees is not None:
        trees.keep(source, tree)
    return Indexed(source, summary, None, source.path)


def build_index(summaries: Iterable[Optional[ModuleSummary]], targets: set[str],
                failed_sources: dict[str, bytes]) -> ProjectIndex:
    from .index import ProjectIndex

    index = ProjectIndex(s for s in summaries if s is not None)
    index.targets = targets
    index.failed_sources = failed_sources
    return index


# -- phase 2: analyse and fix ------------------------------------------------------------------
def _handlers(passes) -> dict[type, list]:
    table: dict[type, list] = {}
    for visitor in passes:
        if visitor.idle:
            continue
        for attr in dir(visitor):
            if attr.startswith("visit_"):
                node_type = getattr(ast, attr[len("visit_"):], None)
                if node_type is not None:
                    table.setdefault(node_type, []).append(getattr(visitor, attr))
    return table


@dataclass
class Analysed:
    """One file's analysis, which serves every option set (and is what the cache keeps):
    every pass's findings, as if QS004, --unsafe and --all-views were on (a finding says in
    `unless` how it reads when one is off), suppressions applied, in pass order. The fixes'
    edits are kept apart (`edits`, one list per finding), so that `choose` can pick fixes and
    `present` build the new text without analysing again."""

    findings: list[Finding]
    edits: Optional[list] = None  # per finding: its fix's edits, or None
    blob: Optional[bytes] = None  # `edits` pickled (b"": no edits; None: not picklable)
    texts: dict = field(default_factory=dict)  # indices of the chosen findings -> new text

    def __getstate__(self) -> dict:
        # an edit is a closure: pickled by value (cache.dump_edits), when this is sent
        # to the parent or cached, and unpickled only when a text has to be built
        state = dict(self.__dict__)
        if state["blob"] is None and state["edits"] is not None:
            edits = state["edits"]
            state["blob"] = cache_mod.dump_edits(edits) if any(edits) else b""
        state["edits"] = None
        return state

    def edit_lists(self) -> Optional[list]:
        """Each finding's edits, or None when they could not be kept (analyse again)."""
        if self.edits is None and self.blob is not None:
            self.edits = cache_mod.load_edits(self.blob) if self.blob else [None] * len(self.findings)
        return self.edits


def analyse_file(
    source: SourceFile,
    summary: ModuleSummary,
    index: ProjectIndex,
    chains: ChainTyper,
    tree: Optional[ast.Module] = None,
) -> tuple[Optional[Analysed], Optional[str]]:
    """Every pass on one file, for every option set: `(Analysed, None)` or `(None, error)`.
    `tree`: the file's tree when the index kept it (else it is parsed here)."""
    from .analysis import FileAnalysis
    from .suppression import suppressed, suppressions

    passes = registry.PASSES
    try:
        text = decode(source.data)
        names = chains.relevant_names(summary, text) if PREFILTER else {""}
        if "" not in names:
            names |= _pass_words(passes, chains, summary, text)
        if not names:
            return Analysed([], []), None  # nothing here can name a model, manager or QuerySet
        # None: names we cannot list (a `*` import), every definition may matter
        words = None if "" in names else names
        if tree is None:
            tree = parse_frozen(source.data, source.path)
        lines = split_lines(text)
        analysis = FileAnalysis(
            source.path, text, tree, summary, index, chains,
            factories_active=True,  # QS004 off is a skip reason of the findings (`unless`)
            skip_bodies=quiet_definitions(tree, text, lines, words),
            lines=lines,
        )
        visitors = [info.visitor(analysis, ANALYSIS_OPTIONS) for info in passes]
        handlers = _handlers(visitors)
        for node in analysis.parents:
            for handler in handlers.get(type(node), ()):
                handler(node)
        for visitor in visitors:
            visitor.finish()
        findings = [f for v in visitors for f in v.findings]  # in pass order
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError) as exc:
        return None, describe_error(source.path, exc)
    except Exception as exc:  # a bug in a pass must cost one file, not the run
        return None, f"{source.path}: internal error, file skipped: {type(exc).__name__}: {_first_line(exc)}"

    table = suppressions(text) if findings else {}
    at_definition = {info.code for info in passes if info.suppressed_at_definition}
    edits = []
    for finding in findings:
        if finding.skip_reason is None and finding.code not in at_definition:
            # a change that spans files counts only a comment at the definition (its plan
            # reads it), or one file would call a function another file never defined
            finding.skip_reason = suppressed(table, finding.line, finding.code)
        edits.append(finding.fix.edits if finding.fix else None)
        if finding.fix:
            finding.fix.edits = []  # closures: kept apart, pickled by value only when needed
    return Analysed(findings, edits), None


def _pass_words(passes, chains: ChainTyper, summary: ModuleSummary, text: str) -> set[str]:
    """The words of the passes' own (`PassInfo.words`, `more_words`) that this text holds."""
    words = {word for info in passes for word in info.words if word in text}
    for info in passes:
        if info.more_words is not None:
            words.update(info.more_words(chains, summary, text))
    return words


UNSAFE_SKIP = "unsafe fix: applied only with --unsafe"


def choose(findings: Sequence[Finding], options: Options,
           path: Optional[str] = None) -> tuple[list[Finding], list[int]]:
    """What `options` make of an analysis: the findings shown (copies, each fix marked
    applied or not, named by `path`: a cached analysis may come from a run made elsewhere
    in the project, which named the file another way), and the indices of the findings whose fixes apply, in the order their
    edits are applied (the analysis holds them in pass order). A unit that spans files is
    chosen alike in every file: the same code, unit key, safety and skip reason everywhere."""
    codes = {c for c in registry.MODULES
             if (options.select is None or c in options.select) and c not in options.ignore}
    ranked = [i for i, f in enumerate(findings) if f.code in codes]

    def switches(option: str) -> bool:  # an `unless` names a pass (selected?) or an option
        return option in codes if registry.known(option) else options.flag(option)
    shown: list[Finding] = []
    chosen: list[int] = []
    applied_units: set[str] = set()
    for position in ranked:
        finding = _as_shown(findings[position], switches, path or findings[position].path)
        shown.append(finding)
        fix = finding.fix
        if fix is None or finding.skip_reason is not None:
            continue
        if fix.applicability != SAFE and not options.unsafe:
            finding.skip_reason = UNSAFE_SKIP
            continue
        if options.accept is not None and finding.key not in options.accept:
            continue
        if finding.requires is not None and finding.requires not in applied_units:
            continue  # the unit it needs (QS004's factory) is not applied: the fix does not hold
        fix.applied = True
        applied_units.add(finding.key)
        chosen.append(position)
    shown.sort(key=lambda f: (f.line, f.column, f.code))
    return shown, chosen


def _as_shown(finding: Finding, switches: Callable[[str], bool], path: str) -> Finding:
    """A copy of `finding` as the options show it: skipped if an option it needs is off."""
    for option, message, reason in finding.unless:
        if not switches(option):
            return dataclasses.replace(finding, path=path, message=message, skip_reason=reason,
                                       fix=None, requires=None, unless=())
    fix = finding.fix and dataclasses.replace(finding.fix, applied=False, edits=[])
    return dataclasses.replace(finding, path=path, fix=fix, unless=())


def build_text(source: SourceFile, edits: list) -> tuple[Optional[bytes], Optional[str]]:
    """The new text (which must parse), or the error that discarded it."""
    try:
        new = apply_edits(source.data, edits)
        ast.parse(new, filename=source.path)
    except RecursionError:
        return None, f"{source.path}: too deeply nested to rewrite (recursion limit); nothing written"
    except Exception as exc:  # a rewrite that does not parse is a bug; never write it
        return None, (
            f"{source.path}: internal error, rewrite discarded: {type(exc).__name__}: {_first_line(exc)}"
        )
    return new, None


# texts kept per file in an analysis: a staged review builds one or two
TEXTS_KEPT = 4


def present(source: SourceFile, analysed: Analysed, options: Options) -> Optional[FileResult]:
    """The file's result under `options`; the new text is built (libcst) only when fixes
    apply and `options.build_fixes`. None when the edits are needed but were not kept."""
    result = FileResult(path=source.path, abspath=source.abspath, original=source.data)
    result.findings, chosen = choose(analysed.findings, options, source.path)
    if not chosen or not options.build_fixes:
        return result
    signature = tuple(chosen)
    new = analysed.texts.get(signature)
    if new is None:
        edit_lists = analysed.edit_lists()
        if edit_lists is None:
            return None
        new, error = build_text(source, [e for i in chosen for e in edit_lists[i]])
        if error is not None:
            result.error = error
            for finding in result.findings:
                if finding.fix:
                    finding.fix.applied = False
            return result
        kept = list(analysed.texts.items())[1 - TEXTS_KEPT:]
        analysed.texts = {**dict(kept), signature: new}  # a new dict: the cache sees it changed
    if new != source.data:
        result.new = new
    return result


def analyse_source(
    source: SourceFile,
    summary: ModuleSummary,
    index: ProjectIndex,
    options: Options,
    chains: Optional[ChainTyper] = None,
    tree: Optional[ast.Module] = None,
) -> FileResult:
    """One file analysed and presented under `options` (see `analyse_file`, `present`)."""
    from .querysets import ChainTyper

    chains = chains or ChainTyper(index, options)
    analysed, error = analyse_file(source, summary, index, chains, tree)
    if analysed is None:
        return FileResult(path=source.path, abspath=source.abspath, original=source.data, error=error)
    return present(source, analysed, options)


# -- the worker side of a parallel run (see codemods.workers) ----------------------------------
_WORKER: dict = {}


def _worker_index(batch: Sequence[tuple[int, SourceFile]]) -> list[tuple[Optional[ModuleSummary], Optional[str]]]:
    trees = _WORKER.setdefault("trees", Trees())
    out = []
    with frozen_afterwards():
        for _, source in batch:
            item = index_source(source, trees)
            out.append((item.summary, item.error))
    return out


def _worker_setup(payload) -> None:
    """The project index, rebuilt from the summaries every worker is sent (in the parent's
    order, so it is the parent's index) with the bytes the parent read of every file, and
    one typer whose caches serve every batch."""
    from .querysets import ChainTyper

    summaries, targets, failed_sources, sources, options = payload
    index = build_index(summaries, targets, failed_sources)
    index.sources = sources  # the bytes the parent read: no fact reads the disk again
    index.trees = _WORKER.get("trees")  # the trees this worker parsed (facts read on demand)
    _WORKER.update(
        summaries=summaries, index=index, options=options,
        chains=ChainTyper(index, options),
    )
    gc.freeze()


def _worker_analyse(batch: Sequence[tuple[int, SourceFile]]) -> list[tuple[FileResult, Optional[Analysed]]]:
    summaries, index, options, chains = (
        _WORKER["summaries"], _WORKER["index"], _WORKER["options"], _WORKER["chains"]
    )
    trees = _WORKER.get("trees") or Trees()
    out = []
    for position, source in batch:
        result, analysed = _analyse_target(
            source, summaries[position], index, options, chains, trees.take(source.abspath),
        )
        out.append((dataclasses.replace(result, original=b""), analysed))  # the parent has the bytes
    return out


def _worker_analyse_asking(batch: Sequence[tuple[int, SourceFile]]) -> list[tuple[Optional[tuple], set]]:
    """`_worker_analyse`, noting the facts of other modules each file asks for and does not
    have yet (`ProjectIndex.module_fact`): `(its outcome, set())`, or `(None, what it asked
    for)`, its outcome dropped (it is analysed again once they are known)."""
    index = _WORKER["index"]
    out = []
    for item in batch:
        index.asking = set()
        try:
            outcome = _worker_analyse([item])[0]
        finally:
            asked, index.asking = index.asking, None
        out.append((None, asked) if asked else (outcome, asked))
    return out


def _worker_module_facts(keys: Sequence[tuple[str, str, str]]) -> list[tuple[bool, object]]:
    """The facts `(pass code, what, module)`, made here (the worker holding the module's tree):
    `(True, fact)`, or `(False, None)` when making one failed. A bug in a pass costs a file,
    not the run: the file that asked makes the fact itself, and fails alone."""
    index, chains = _WORKER["index"], _WORKER["chains"]
    out: list[tuple[bool, object]] = []
    for code, what, module in keys:
        compute = registry.get_pass(code).module_facts.compute
        try:
            out.append((True, index.module_fact((code, what, module), lambda: compute(index, chains, what, module))))
        except Exception:  # noqa: BLE001 - made again, and reported, where the file is analysed
            out.append((False, None))
    return out


def _worker_know_facts(facts: dict) -> None:
    _WORKER["index"].module_facts.update(facts)


def _asks_for_facts(summary: Optional[ModuleSummary]) -> bool:
    return summary is not None and any(
        info.module_facts is not None and info.module_facts.asked_by(summary) for info in registry.PASSES
    )


def _analyse_target(source: SourceFile, summary: ModuleSummary, index: ProjectIndex, options: Options,
                    chains: ChainTyper, tree: Optional[ast.Module]) -> tuple[FileResult, Optional[Analysed]]:
    """A target of a run: analysed for every option set, presented under `options` (the text
    built here, so that a cold run with -j builds it in the workers)."""
    analysed, error = analyse_file(source, summary, index, chains, tree)
    if analysed is None:
        return FileResult(path=source.path, abspath=source.abspath, original=source.data, error=error), None
    return present(source, analysed, options), analysed


Progress = Callable[[str, int, int], None]  # (phase, done, total)


def _workers(jobs: int):
    from .workers import Workers  # imported when used: most runs (warm, small) need none

    # What the workers run, imported before they start: a forked worker has it at once,
    # instead of each importing the index, the typing and every pass again
    from . import analysis, index  # noqa: F401

    registry.load_passes()
    return Workers(jobs)


def _size(item: tuple[int, SourceFile]) -> int:
    return len(item[1].data) + 1


def _options_key(options: Options) -> tuple:
    """What changes a file's analysis (part of every cache key). One analysis serves every
    selection, --unsafe, most pass options and whether text is built (`choose`,
    `present`); a pass option declared `in_cache_key` (--keep-names changes QS004's plan)
    is analysed apart. The grammar `ast` parses is the running Python's."""
    return (options.keyed_flags(), sys.version_info[:2])


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
    project = cache_mod.digest(
        cache_mod.tool_version(),
        sorted(
            (c.qualname, r.field, r.kind, r.target, r.related_name)
            for c in index.classes.values() for r in c.relations
        ),
        # what typing reads of models in modules a file need not import: the models each
        # Manager/QuerySet class serves (`self` in its methods) and every Meta.ordering
        sorted(chains.manager_users().items()),
        sorted((c.qualname, c.ordering) for c in index.classes.values() if c.ordering),
        # typing by relation names: which accessors qualify (names defined or stored anywhere)
        chains.relation_name_facts(),
        # what each pass says its results depend on (every pass: one cache serves them all)
        [(info.code, info.dependency_facts(index, chains))
         for info in registry.PASSES if info.dependency_facts is not None],
        _options_key(options),
    )
    whole: set[str] = set().union(*(
        info.reads_whole_project(index) for info in registry.PASSES if info.reads_whole_project is not None
    ))
    # the shared typing reads the callers of a function with a QuerySet parameter, anywhere
    whole |= {name for name, summary in modules.items() if summary.queryset_parameters}
    everything = cache_mod.digest(sorted(digests.items())) if whole else ""
    return {
        name: cache_mod.digest(project, closure[name], everything if name in whole else "")
        for name in modules
    }


@contextlib.contextmanager
def _collector_tuned():
    """The cyclic garbage collector, tuned for a run: what lives to the end (the index, the
    sources, the trees) is frozen, so collections skip it, and analysis makes many
    short-lived objects (a higher threshold: the default collected often enough to take a
    third of the time on large projects). Everything is unfrozen afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def run(*args, **kwargs) -> RunResult:
    """Analyse `paths` (see `_run`)."""
    # per-folder memos (packages, symlinks) describe the file system as it is now
    _package_of.cache_clear()
    _namespace_of.cache_clear()
    _symlinked_folder.cache_clear()
    with _collector_tuned():
        return _run(*args, **kwargs)


@dataclass
class _RunState:
    """What one run knows, phase by phase (see `_run`)."""

    options: Options
    report: Progress
    stdin: Optional[tuple[str, bytes]]
    cwd: str
    targets: list[str]  # what is analysed and reported
    files: list[str]  # the targets, then the rest of their projects (read for the index)
    cache: Optional[Cache] = None
    indexed: list[Indexed] = field(default_factory=list)  # per file, in `files` order
    digests: dict[str, str] = field(default_factory=dict)  # with the cache: abspath -> digest
    modules: list[str] = field(default_factory=list)  # with the cache: each file's module name
    misses: list[tuple[int, SourceFile]] = field(default_factory=list)  # to parse
    known: list[int] = field(default_factory=list)  # summaries the cache holds (read when needed)
    failed_sources: dict[str, bytes] = field(default_factory=dict)
    whole: str = ""  # with the cache: a digest of everything a run's keys depend on
    keys: Optional[dict[str, str]] = None  # module -> the key of its cached analysis
    summaries: list = field(default_factory=list)
    index: Optional[ProjectIndex] = None
    chains: Optional[ChainTyper] = None
    results: dict[str, FileResult] = field(default_factory=dict)
    analyses: dict[str, tuple[SourceFile, Analysed]] = field(default_factory=dict)
    work: list[tuple[int, SourceFile]] = field(default_factory=list)  # targets to analyse

    @property
    def target_items(self) -> list[Indexed]:
        return self.indexed[: len(self.targets)]  # context files only feed the index


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
    state = _collect(list(paths), options, excludes, progress, stdin)
    _read(state)
    # With -j, the workers that parse for the index keep the trees and analyse those files
    # too (codemods.workers); a serial run keeps them in this process.
    with contextlib.ExitStack() as stack:
        executors = _Executors(max(1, options.jobs), stack)
        _index(state, executors.for_phase(len(state.misses)))
        answered = _answer_from_cache(state)
        if answered is not None:
            return answered
        _plan(state)
        _fix_from_cache(state)
        if state.work:
            _analyse(state, executors.for_phase(len(state.work)))
        del executors  # the trees kept for the analysis
    _save_results(state)
    return RunResult(
        files=[state.results[i.path] for i in state.target_items],
        index=state.index,
        sources=_sources(state.target_items),
        analysed=[source.path for _, source in state.work],
        analyses=state.analyses,
    )


def _collect(paths: list[str], options: Options, excludes: Sequence[str], progress: Optional[Progress],
             stdin: Optional[tuple[str, bytes]]) -> _RunState:
    """The targets, and the other files of their projects; the cache, if one is used."""
    if stdin is not None:
        paths = [stdin[0]]
        targets = [stdin[0]]
    else:
        targets = list(discover(paths, excludes))
    # The index sees the whole project of each path, so a model defined in a file that is
    # not being rewritten is still known; only the targets are analysed and reported.
    roots = sorted({r for r in (project_root(p) for p in paths) if r is not None})
    if stdin is not None and not roots:  # no project marker: the file's folder, as a run on it
        roots = [os.path.dirname(os.path.abspath(stdin[0]))]
    cwd = os.getcwd()
    target_set = {absolute_path(p, cwd) for p in targets}
    walked = {os.path.abspath(p) for p in paths if os.path.isdir(p)}
    outside = [r for r in roots if r not in walked]  # roots the targets' walk did not cover
    context = [f for f in discover(outside, excludes) if absolute_path(f, cwd) not in target_set]
    state = _RunState(
        options=options, report=progress or (lambda phase, done, total: None), stdin=stdin,
        cwd=cwd, targets=targets, files=targets + context,
    )
    if options.use_cache and stdin is None:  # stdin text is not the file on disk
        with frozen_afterwards():  # what the cache holds lives to the end of the run
            state.cache = Cache(roots[0] if roots else os.getcwd())
    return state


def _read(state: _RunState) -> None:
    """Read every file; list those to parse: the ones the cache does not already know."""
    stdin, cache = state.stdin, state.cache
    for path in state.files:
        try:
            if stdin is not None and path == stdin[0]:
                source = SourceFile(path=display_path(path), abspath=os.path.abspath(path), data=stdin[1])
            else:
                source = read_source(path, state.cwd)
        except FileError as exc:
            state.indexed.append(Indexed(None, None, describe_error(path, exc), path))
            state.modules.append("")
            continue
        state.indexed.append(Indexed(source, None, None, source.path))
        position = len(state.indexed) - 1
        if cache is None:
            state.modules.append("")
            state.misses.append((position, source))
            continue
        digest = state.digests[source.abspath] = content_hash(source.data)
        module = module_name_for(source.abspath)[0]
        state.modules.append(module)
        if cache.has_summary(source.abspath, digest, module):
            state.known.append(position)
        else:
            state.misses.append((position, source))


def _index(state: _RunState, executor: Executor) -> None:
    """Parse and summarise the files the cache does not know (and cache their summaries)."""
    done = 0
    # indexing makes no cyclic garbage, and the summaries live to the end (see frozen_afterwards)
    with frozen_afterwards():
        for batch, items in executor.index(state.misses):
            for (position, _), item in zip(batch, items):
                state.indexed[position] = item
            done += len(batch)
            state.report("index", done, len(state.misses))
    cache = state.cache
    if cache:
        for position, source in state.misses:
            item = state.indexed[position]
            if item.summary is not None:
                cache.put_summary(source.abspath, state.digests[source.abspath], item.summary.module, item.summary)
    state.failed_sources = {i.path: i.source.data for i in state.indexed if i.error and i.source is not None}


def _answer_from_cache(state: _RunState) -> Optional[RunResult]:
    """The whole run from the cache, when nothing changed since the last one (same files,
    same contents, same options and targets): the dependency keys are the ones computed
    then, and when every target's result is in the cache under its key, neither the
    summaries nor the index are needed (`RunResult.complete` builds them when asked)."""
    cache = state.cache
    if not cache:
        return None
    targets = state.target_items
    state.whole = cache_mod.digest(
        sorted(state.digests.items()),
        sorted({state.modules[p] for p, i in enumerate(targets) if i.source and not i.error}),
        sorted(state.failed_sources),
        _options_key(state.options),
    )
    state.keys = cache.keys(state.whole)
    answered = _answered(targets, state.modules, state.keys, cache, state.options) if state.keys is not None else None
    if answered is None:
        _read_summaries(state.indexed, state.known, state.digests, state.modules, cache)
        return None

    def complete(run_result: RunResult) -> None:
        _read_summaries(state.indexed, state.known, state.digests, state.modules, cache)
        run_result.index = _project_index(state.indexed, len(state.targets), state.failed_sources)
        run_result.sources = _sources(state.indexed[: len(state.targets)])

    _save(cache, state.indexed)
    return RunResult(files=answered[0], analyses=answered[1], complete=complete)


def _plan(state: _RunState) -> None:
    """The project index and the typer over it; with the cache, each module's key."""
    state.summaries = [i.summary for i in state.indexed]
    state.index = _project_index(state.indexed, len(state.targets), state.failed_sources)
    gc.freeze()  # the index and the sources stay to the end: keep them out of collections
    from .querysets import ChainTyper

    state.chains = ChainTyper(state.index, state.options)
    if state.cache and state.keys is None:
        module_digests = {i.summary.module: state.digests[i.source.abspath] for i in state.indexed if i.summary}
        state.keys = _dependency_keys(state.index, state.chains, state.options, module_digests)
        state.cache.put_keys(state.whole, state.keys)


def _fix_from_cache(state: _RunState) -> None:
    """Each target's result: failed, or presented from its cached analysis; the others are
    the work of the analysis (which presents them where it analyses them)."""
    cache = state.cache
    for position, item in enumerate(state.target_items):
        if item.error or item.source is None or item.summary is None:
            state.results[item.path] = _failed(item)
            continue
        cached = _from_cache(item, state.keys.get(item.summary.module), cache, state.options) if cache else None
        if cached is not None:
            state.results[item.path], state.analyses[item.path] = cached
        else:
            state.work.append((position, item.source))


def _analyse(state: _RunState, executor: Executor) -> None:
    """Analyse the work (every option set) and present it under the run's options."""
    done = 0
    for batch, out in executor.analyse(state, state.work):
        for (_, source), (result, analysed) in zip(batch, out):
            state.results[result.path] = result
            if analysed is not None:
                state.analyses[result.path] = (source, analysed)
        done += len(batch)
        state.report("analyse", done, len(state.work))


def _save_results(state: _RunState) -> None:
    cache = state.cache
    if not cache:
        return
    for position, source in state.work:
        if source.path in state.analyses:
            cache.put_result(source.abspath, state.keys[state.summaries[position].module],
                             state.analyses[source.path][1])
    _save(cache, state.indexed)


# -- executors: how a phase's items are run, in this process or in the workers ----------------
Batches = Iterator[tuple[list[tuple[int, SourceFile]], list]]  # (items, their outcomes)


class Executor:
    """Runs the index and the analysis over items `(position, source)`; yields each batch
    done with its outcomes, in the order they finish. The caller tunes the collector (an
    executor holds no `with` across a `yield`, so an error in the caller leaves none open)."""

    def index(self, items: Sequence[tuple[int, SourceFile]]) -> Batches:
        raise NotImplementedError  # outcomes: `Indexed`

    def analyse(self, state: _RunState, items: Sequence[tuple[int, SourceFile]]) -> Batches:
        raise NotImplementedError  # outcomes: `(FileResult, Optional[Analysed])`


class SerialExecutor(Executor):
    """In this process, one file at a time; the index's trees are kept for the analysis."""

    def __init__(self) -> None:
        self.trees = Trees()

    def index(self, items: Sequence[tuple[int, SourceFile]]) -> Batches:
        for item in items:
            yield [item], [index_source(item[1], self.trees)]

    def analyse(self, state: _RunState, items: Sequence[tuple[int, SourceFile]]) -> Batches:
        state.index.trees = self.trees  # facts read on demand use the trees not yet analysed
        try:
            for item in items:
                position, source = item
                yield [item], [_analyse_target(
                    source, state.summaries[position], state.index, state.options, state.chains,
                    self.trees.take(source.abspath),
                )]
        finally:
            state.index.trees = None  # the run's result keeps the index, not the trees


class PoolExecutor(Executor):
    """In the worker processes (codemods.workers), in batches; a file's analysis goes to
    the worker that parsed it for the index, which kept its tree."""

    def __init__(self, workers) -> None:
        self.workers = workers
        self.owners: dict[str, int] = {}  # abspath -> the worker that holds its tree

    def index(self, items: Sequence[tuple[int, SourceFile]]) -> Batches:
        for worker, batch, out in self.workers.schedule(_worker_index, items, _size):
            indexed = []
            for (_, source), (summary, error) in zip(batch, out):
                indexed.append(Indexed(source, summary, error, source.path))
                self.owners[source.abspath] = worker
            yield batch, indexed

    def analyse(self, state: _RunState, items: Sequence[tuple[int, SourceFile]]) -> Batches:
        index = state.index
        self.workers.broadcast(
            _worker_setup, (state.summaries, index.targets, index.failed_sources, index.sources, state.options)
        )
        # Files that may ask for facts of other modules go first; what they ask for is made
        # by the workers holding those modules' trees, then they are analysed again with the
        # rest (else one worker would parse half the project again for one file, while the
        # other ran out of work and parsed the first one's files to help).
        asking = {position for position, _ in items if _asks_for_facts(state.summaries[position])}
        if asking:
            again: set[int] = set()
            yield from self._gather(state, [item for item in items if item[0] in asking], again)
            items = [item for item in items if item[0] not in asking or item[0] in again]
        for _, batch, out in self._schedule(_worker_analyse, items):
            yield batch, _received(batch, out)

    def _gather(self, state: _RunState, items: list, again: set[int]) -> Batches:
        """Analyse `items`, noting what each asks for; the facts asked for are made, sent to
        every worker, and the positions of the files that asked are added to `again`."""
        asked: set[tuple[str, str, str]] = set()
        for _, batch, out in self._schedule(_worker_analyse_asking, items):
            done = [(item, outcome) for item, (outcome, _) in zip(batch, out) if outcome is not None]
            for item, (_, wants) in zip(batch, out):
                if wants:
                    asked |= wants
                    again.add(item[0])
            if done:
                finished = [item for item, _ in done]
                yield finished, _received(finished, [outcome for _, outcome in done])
        if not asked:
            return
        index = state.index
        path_of = {key: index.modules[key[2]].path for key in asked}
        facts: dict = {}
        for _, batch, out in self.workers.schedule(
            _worker_module_facts, sorted(asked), lambda key: len(index.sources.get(path_of[key], b"")) + 1,
            owner=lambda key: self.owners.get(path_of[key]), share=False,
        ):
            facts.update((key, fact) for key, (made, fact) in zip(batch, out) if made)
        self.workers.broadcast(_worker_know_facts, facts)

    def _schedule(self, func: Callable, items: list):
        """Batches of `items` through `func`, each to the worker that holds its tree if it can."""
        return self.workers.schedule(func, items, _size, owner=lambda item: self.owners.get(item[1].abspath))


def _received(batch: list[tuple[int, SourceFile]], out: list) -> list:
    """A worker's outcomes, with the bytes of each file (the workers do not send them back)."""
    for (_, source), (result, _analysed) in zip(batch, out):
        result.original = source.data
    return out


class _Executors:
    """The executor of each phase: the worker pool, from the first phase big enough to be
    worth one (a pool made for the index serves the analysis too), else this process."""

    def __init__(self, jobs: int, stack: contextlib.ExitStack) -> None:
        self.jobs = jobs
        self.stack = stack
        self.serial = SerialExecutor()
        self.pool: Optional[PoolExecutor] = None

    def for_phase(self, count: int) -> Executor:
        if self.pool is None and self.jobs > 1 and count >= PARALLEL_THRESHOLD:
            self.pool = PoolExecutor(self.stack.enter_context(_workers(self.jobs)))
        return self.pool or self.serial


def _answered(targets: Sequence[Indexed], modules: list[str], keys: dict[str, str], cache: Cache,
              options: Options) -> Optional[tuple[list[FileResult], dict[str, tuple[SourceFile, Analysed]]]]:
    """Every target's result from the cache (and the analyses), or None if one is missing."""
    answered = []
    analyses = {}
    for position, item in enumerate(targets):
        if item.error or item.source is None:
            answered.append(_failed(item))
            continue
        cached = _from_cache(item, keys.get(modules[position]), cache, options)
        if cached is None:
            return None
        answered.append(cached[0])
        analyses[item.path] = cached[1]
    return answered, analyses


def _failed(item: Indexed) -> FileResult:
    abspath = item.source.abspath if item.source else os.path.abspath(item.path)
    return FileResult(path=item.path, abspath=abspath, error=item.error)


def _from_cache(item: Indexed, key: Optional[str], cache: Cache,
                options: Options) -> Optional[tuple[FileResult, tuple[SourceFile, Analysed]]]:
    """The file's result under `options` from its cached analysis; None when the cache has
    none, or a text must be built from edits the cache could not keep."""
    analysed = cache.result(item.source.abspath, key)
    if not isinstance(analysed, Analysed):
        return None
    texts = analysed.texts
    result = present(item.source, analysed, options)
    if analysed.texts is not texts:
        cache.dirty = True  # a new text was built: kept for the next run
    return None if result is None else (result, (item.source, analysed))


def _project_index(indexed: list[Indexed], target_count: int, failed_sources: dict[str, bytes]) -> ProjectIndex:
    index = build_index(
        [i.summary for i in indexed],
        {i.summary.module for i in indexed[:target_count] if i.summary is not None},
        failed_sources,
    )
    index.sources = {i.source.abspath: i.source.data for i in indexed if i.source is not None}
    return index


def _sources(targets: Sequence[Indexed]) -> dict[str, tuple[SourceFile, ModuleSummary]]:
    return {i.source.path: (i.source, i.summary) for i in targets if i.summary}


def _save(cache: Cache, indexed: list[Indexed]) -> None:
    cache.prune(i.source.abspath for i in indexed if i.source is not None)
    cache.save()


def _read_summaries(indexed: list[Indexed], known: list[int], digests: dict[str, str],
                    modules: list[str], cache: Cache) -> None:
    """The cached summaries of `known` files; a file whose summary cannot be read after all
    (the summaries file was lost or damaged) is parsed again."""
    with frozen_afterwards():
        for position in known:
            item = indexed[position]
            abspath = item.source.abspath
            summary = cache.summary(abspath, digests[abspath], modules[position])
            if summary is None:
                indexed[position] = item = index_source(item.source)
                if item.summary is not None:
                    cache.put_summary(abspath, digests[abspath], item.summary.module, item.summary)
            else:
                item.summary = summary
    known.clear()


def rerun(run_result: RunResult, options: Options, paths: Iterable[str]) -> list[FileResult]:
    """Some files of a finished run under other options (e.g. the fixes a user accepted one
    by one): their analyses are presented again, nothing is analysed again (unless a file's
    edits could not be kept)."""
    out = []
    with _collector_tuned():
        for path in paths:
            source, analysed = run_result.analyses.get(path, (None, None))
            result = present(source, analysed, options) if analysed is not None else None
            out.append(result if result is not None else _analyse_again(run_result, options, path))
    return out


def _analyse_again(run_result: RunResult, options: Options, path: str) -> FileResult:
    from .querysets import ChainTyper

    if run_result.index is None and run_result.complete is not None:
        run_result.complete(run_result)  # answered from the cache: the index is built now
    assert run_result.index is not None
    chains = ChainTyper(run_result.index, options)
    source, summary = run_result.sources[path]
    return analyse_source(source, summary, run_result.index, options, chains)
