"""The Python API: qsfix for scripts, e.g. a bulk refactor across many repositories.

    import codemods

    result = codemods.run(["path/to/repo"], select="QS001,QS002", write=True)
    for finding in result.findings:
        print(finding.path, finding.line, finding.code, finding.message)
    for failure in result.failures:
        print(failure.path, failure.error)

`run()` does what `qsfix diff` (with `write=False`) or `qsfix apply --yes` (with `write=True`)
does, with the same options and the same `[tool.qsfix]` configuration, and returns what the
commands would print as plain data. It prints nothing, never exits, and does not import the
command line's libraries (click, rich). Files that cannot be read, parsed or written are
failures in the result, not exceptions; bad arguments and a bad configuration raise.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Union

from . import engine, registry
from .config import Config, ConfigError, find_pyproject, load_config
from .diffs import unified_diff
from .options import build_options

__all__ = ["ChangedFile", "ConfigError", "Failure", "Finding", "Result", "run"]

Codes = Union[str, Iterable[str], None]


@dataclass(frozen=True)
class Finding:
    """A site a pass looked at: a fix (safe or unsafe, applied or not) or a reason to leave it.

    `skip_reason is None` for the findings `qsfix check` reports; the others are the sites
    `--show-skipped` lists. `applicability` is None when the finding carries no fix.
    """

    code: str  # QS001 ... QS004
    name: str  # the pass's name, e.g. "count-for-len"
    path: str  # as qsfix shows it: relative to the current folder when below it
    line: int  # 1-based
    column: int  # 1-based, in characters
    message: str
    applicability: Optional[str]  # "safe", "unsafe" or None (no fix)
    applied: bool  # the fix is in the file's new text (written: see ChangedFile.written)
    skip_reason: Optional[str]
    fix_title: Optional[str]
    unit: str  # findings applied together (a QS004 constant across files) share one


@dataclass(frozen=True)
class ChangedFile:
    """A file the fixes change: its bytes as read and as rewritten."""

    path: str  # as qsfix shows it
    abspath: str
    old: bytes
    new: bytes
    written: bool  # with write=True: written to disk (False: see the result's failures)

    @property
    def diff(self) -> str:
        """The unified diff `qsfix diff` prints for this file (`git apply` takes it)."""
        return unified_diff(self.path, self.old, self.new).decode("utf-8", "replace")


@dataclass(frozen=True)
class Failure:
    """A file that could not be read, parsed or written; `error` is qsfix's one-line message."""

    path: str
    error: str


@dataclass(frozen=True)
class Result:
    """What one `run()` found, would change, changed, and could not process."""

    scanned: int  # files looked at (targets, not the rest of the project read for the index)
    findings: tuple[Finding, ...]
    changed: tuple[ChangedFile, ...]
    failures: tuple[Failure, ...]
    written: tuple[str, ...]  # paths written (write=True); empty otherwise

    @property
    def ok(self) -> bool:
        """No file failed (the exit status 3 of the commands)."""
        return not self.failures


def run(
    paths: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]],
    *,
    select: Codes = None,
    ignore: Codes = None,
    unsafe: Optional[bool] = None,
    all_views: Optional[bool] = None,
    keep_names: Optional[bool] = None,
    exclude: Union[str, Iterable[str]] = (),
    write: bool = False,
    config: Union[bool, str, os.PathLike] = True,
    jobs: int = 1,
    cache: bool = False,
    progress: Optional[Callable[[str, int, int], None]] = None,
    **pass_options: Optional[bool],
) -> Result:
    """Analyse `paths` (files and folders, walked as `qsfix` walks them; one path or a list)
    and fix what applies.

    - `select`, `ignore`: codes, as a list or a comma-separated string ("QS001,QS002").
      `unsafe`, `all_views`, `keep_names`: as the flags. None (the default) takes the value
      from `[tool.qsfix]`; a value given here wins over the file, as a flag does. Any other
      pass option (`PassInfo.options`) is given the same way, by its name with `_` for `-`.
    - `exclude`: a glob or a list of globs, added to the configuration's `exclude`.
    - `write`: write the changed files, exactly as `qsfix apply --yes` does (atomically, only
      if unchanged since read). False writes nothing, like `qsfix diff`.
    - `config`: True reads `[tool.qsfix]` from the nearest `pyproject.toml` above the paths
      (paths whose files say different things raise ValueError: run each project on its
      own); a path names a `pyproject.toml` (or a folder to search up from); False ignores
      configuration.
    - `jobs`: worker processes (capped at the CPU count); 1, the default, starts none.
    - `cache`: read and write `.qsfix_cache/` at the project root, as the command does.
    - `progress`: called with (phase, done, total) as files are indexed and analysed.

    Paths in the result are shown relative to the current folder, as the command shows them.
    Raises ValueError for an unknown code and `ConfigError` for a bad `[tool.qsfix]`.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # one path, not its characters
    paths = [os.fspath(p) for p in paths] or ["."]
    settings = _configuration(paths, config)
    flags = {"all-views": all_views, "keep-names": keep_names, **pass_options}
    options = _options(settings, select, ignore, unsafe, flags, jobs, cache)
    excludes = [*settings.exclude, *([exclude] if isinstance(exclude, str) else exclude)]
    outcome = engine.run(paths, options, excludes, progress)
    written: set[str] = set()
    if write:
        written = {r.abspath for r in engine.write_changes(outcome.changed, outcome.files)}
    return _result(outcome, written)


def _configuration(paths: list[str], config: Union[bool, str, os.PathLike]) -> Config:
    """The `[tool.qsfix]` that applies to all of `paths`."""
    if config is False:
        return Config()
    if config is not True:
        given = os.fspath(config)
        # load_config searches up from a folder: a file of another name would be passed over
        if not os.path.isdir(given) and os.path.basename(given) != "pyproject.toml":
            raise ValueError(f"config: {given} is neither a pyproject.toml nor a folder")
        if not os.path.exists(given):
            raise ValueError(f"config: {given} does not exist")
        return load_config(given)
    by_file = {}
    for path in paths:
        found = find_pyproject(path)
        if found not in by_file:
            by_file[found] = load_config(path)
    # what the files say, whatever file says it: unconfigured projects may be run together
    settings = {repr(dataclasses.replace(c, path=None)) for c in by_file.values()}
    if len(settings) > 1:
        files = ", ".join(sorted(str(f) for f in by_file))
        raise ValueError(
            f"the paths are in projects configured differently ({files}); run each on its own"
        )
    return next(iter(by_file.values()))


def _codes(value: Codes, what: str) -> Optional[list[str]]:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = [c.strip().upper() for c in items if c.strip()]
    unknown = [c for c in codes if not registry.known(c)]
    if unknown:
        raise ValueError(f"{what}: unknown code(s): {', '.join(unknown)}")
    return codes


def _options(
    config: Config, select: Codes, ignore: Codes, unsafe: Optional[bool],
    flags: dict[str, Optional[bool]], jobs: int, cache: bool,
) -> engine.Options:
    """The engine's options as `cli.prepare` builds them: an argument wins over the file."""
    # as the command: the file's `select` is checked only when no argument replaces it
    from_file = [*((config.select or ()) if select is None else ()), *config.ignore]
    unknown = [c for c in from_file if not registry.known(c)]
    if unknown:
        raise ConfigError(f"{config.path}: [tool.qsfix] unknown code(s): {', '.join(unknown)}")
    return build_options(
        config, _codes(select, "select"), _codes(ignore, "ignore"), unsafe,
        _known_options(flags), cache, max(1, min(jobs, os.cpu_count() or 1)),
    )


def _known_options(flags: dict[str, Optional[bool]]) -> dict[str, Optional[bool]]:
    """`flags`, checked: each names a pass option (the passes are imported only for one
    given that is not `all_views` or `keep_names`)."""
    from .options import option_name

    unknown = [name for name, value in flags.items() if value is not None
               and option_name(name) not in ("all-views", "keep-names") and registry.pass_option(option_name(name)) is None]
    if unknown:
        raise TypeError(f"run() got an unexpected keyword argument {unknown[0]!r}")
    return flags


def _result(outcome: engine.RunResult, written: set[str]) -> Result:
    findings = tuple(
        Finding(
            code=f.code, name=f.name, path=f.path, line=f.line, column=f.column,
            message=f.message,
            applicability=f.fix.applicability if f.fix else None,
            applied=bool(f.fix and f.fix.applied),
            skip_reason=f.skip_reason,
            fix_title=f.fix.title if f.fix else None,
            unit=f.key,
        )
        for f in outcome.findings
    )
    changed = tuple(
        ChangedFile(r.path, r.abspath, r.original, r.new, r.abspath in written)
        for r in outcome.changed
    )
    failures = tuple(Failure(r.path, r.error) for r in outcome.failed)
    return Result(
        scanned=len(outcome.files),
        findings=findings,
        changed=changed,
        failures=failures,
        written=tuple(r.path for r in outcome.changed if r.abspath in written),
    )
