"""Which module-level QuerySets become factory functions: decided once, for the whole project.

QS004 changes several files at once (the definition, every import, every reference), so the
decision cannot be made file by file: a constant is converted only if every file that could
name it is scanned, parsed and among the paths being rewritten, and no use of it would make a
call wrong (a default argument value, `global`, mutation, a `*` import). The other passes ask
the plan too: a name that becomes `factory()` is a fresh QuerySet at each use.
"""

from __future__ import annotations

import builtins
import keyword
from dataclasses import dataclass, field
from typing import Optional

from .index import ModuleSummary, ProjectIndex
from .querysets import QUERYSET, UNKNOWN, ChainTyper, QsType
from .suppression import SUPPRESSED

# every builtin name, including what `site` adds (`exit`, `help`): a factory must shadow none
BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))


@dataclass
class Factory:
    qualname: str  # module.NAME
    module: str
    name: str
    new_name: str = ""
    qstype: Optional[QsType] = None
    skip: Optional[str] = None
    # modules that name it (by import or `module.NAME`), besides the defining one
    users: set[str] = field(default_factory=set)
    keep_name: bool = False  # a module __getattr__ keeps the old name importable

    @property
    def unit(self) -> str:
        # with --keep-names one __getattr__ serves a module's constants: they go together
        return f"QS004:{self.module}" if self.keep_name else f"QS004:{self.qualname}"


def _module_names(summary: ModuleSummary) -> set[str]:
    return _module_level_names(summary) | summary.local_names


def _module_level_names(summary: ModuleSummary) -> set[str]:
    return set(summary.imports) | summary.functions | set(summary.classes) | summary.assigned


def _binds(summary: ModuleSummary, name: str) -> bool:
    """Does the module bind `name` at module level? (`_module_level_names`, without the sets)"""
    return (
        name in summary.imports or name in summary.functions or name in summary.classes
        or name in summary.assigned
    )


def plan_factories(index: ProjectIndex, chains: ChainTyper, keep_names: bool = False) -> dict[str, Factory]:
    plan = _module_querysets(index, chains, keep_names)
    if not plan:
        return plan
    # who names each constant, and how
    defining = {f.module for f in plan.values()}
    for summary in index.modules.values():
        _note_users(plan, index, summary, defining)
    for factory in plan.values():
        _skip_if_unreachable(factory, index)
    _name_factories(plan, index)
    return plan


def _module_querysets(index: ProjectIndex, chains: ChainTyper, keep_names: bool) -> dict[str, Factory]:
    """A factory for every module-level constant typed as a QuerySet; skipped (saying why)
    where its own module makes a function of it unsafe."""
    plan: dict[str, Factory] = {}
    for summary in index.modules.values():
        for name in summary.constants:
            qualname = f"{summary.module}.{name}"
            t = chains.type_global(qualname)
            if t.kind != QUERYSET or t.confidence == UNKNOWN:
                continue
            factory = Factory(qualname, summary.module, name, qstype=t, keep_name=keep_names)
            plan[qualname] = factory
            summary = index.name_usage(summary.module)
            if name not in summary.top_level:
                factory.skip = "assigned inside an `if`/`try` block at module level"
            elif "*" in summary.global_decls:
                factory.skip = "its module could not be read again"
            elif name in summary.global_decls:
                factory.skip = f"declared `global {name}` in a function, so it may be reassigned"
            elif name in summary.mutated:
                factory.skip = f"`{name}` is mutated or deleted in its module"
            elif name.startswith("__") or name == "__all__":
                factory.skip = "a dunder name"
            elif keep_names and "__getattr__" in summary.functions | summary.assigned:
                factory.skip = "the module defines __getattr__ already, so --keep-names cannot add one"
    return plan


def _note_users(plan: dict[str, Factory], index: ProjectIndex, summary: ModuleSummary, defining: set[str]) -> None:
    """The factories `summary`'s module names (its users), and the ways of naming one there
    that a call cannot replace (skipped, saying why)."""
    module_aliases = {
        local: target for local, target in summary.imports.items()
        if index.is_module(target)
        and any(m == target or m.startswith(target + ".") for m in defining)
    }
    imports_factory = any(index.resolve(t) in plan for t in summary.imports.values())
    if not (module_aliases or imports_factory or summary.star_imports or summary.module in defining):
        return
    summary = index.name_usage(summary.module)
    for star in summary.star_imports:
        for factory in plan.values():
            if factory.module == star or index.resolve(f"{star}.{factory.name}") == factory.qualname:
                factory.skip = factory.skip or f"imported with `*` in {summary.module}"
    for local, target in summary.imports.items():
        factory = plan.get(index.resolve(target))
        if factory is None:
            continue
        factory.users.add(summary.module)
        if local in summary.global_decls or local in summary.mutated or local in summary.assigned:
            factory.skip = factory.skip or f"imported as `{local}` and reassigned or mutated in {summary.module}"
        if local in summary.default_refs:
            factory.skip = factory.skip or f"a default argument value in {summary.module}: a call there would still run once, at import"
    for ref in summary.default_refs | summary.mutated:
        head, _, rest = ref.partition(".")
        if head in module_aliases and rest:
            factory = plan.get(index.resolve(f"{module_aliases[head]}.{rest}"))
            if factory is not None:
                what = "a default argument value" if ref in summary.default_refs else "mutated"
                factory.skip = factory.skip or f"`{ref}` is {what} in {summary.module}"
    for local, target in module_aliases.items():
        for factory in plan.values():
            if factory.module == target or factory.module.startswith(target + "."):
                factory.users.add(summary.module)  # may use `module.NAME`
                if "*" in summary.global_decls:
                    factory.skip = factory.skip or f"{summary.module} could not be read again"
    own = index.modules.get(summary.module)
    for name in summary.default_refs:
        factory = plan.get(f"{summary.module}.{name}")
        if factory is not None and own is summary:
            factory.skip = factory.skip or "a default argument value: a call there would still run once, at import"


def _skip_if_unreachable(factory: Factory, index: ProjectIndex) -> None:
    """Skip a factory a run cannot change everywhere: a user outside the paths being
    rewritten, a file naming it that could not be parsed, a suppression at its definition."""
    for user in factory.users | {factory.module}:
        if factory.keep_name and user != factory.module:
            continue  # the old name still works there, through the module __getattr__
        if user not in index.targets:
            factory.skip = factory.skip or f"{user} uses it but is not among the paths being rewritten"
            break
    for path, data in index.failed_sources.items():
        if factory.name.encode() in data:
            factory.skip = factory.skip or f"{path} mentions it but could not be parsed"
    suppressed = index.modules[factory.module].suppressed_lines.get(
        index.modules[factory.module].constant_lines.get(factory.name, 0)
    )
    if suppressed is not None and ("*" in suppressed or "QS004" in suppressed):
        factory.skip = factory.skip or SUPPRESSED


def _name_factories(plan: dict[str, Factory], index: ProjectIndex) -> None:
    """Give each factory not skipped its function name, or skip it saying why none is free."""
    chosen: dict[str, set[str]] = {}  # module -> factory names given so far
    for factory in plan.values():
        if factory.skip is None:
            factory.new_name, why = _free_name(factory, index, chosen)
            if not factory.new_name:
                factory.skip = f"no free function name: {why}"
                continue
            for module in factory.users | {factory.module}:
                chosen.setdefault(module, set()).add(factory.new_name)


def _free_name(factory: Factory, index: ProjectIndex, chosen: dict[str, set[str]]) -> tuple[str, str]:
    """`name` (lower-cased), else `get_name`, that shadows nothing: no builtin (`OPEN` ->
    `open()` would take over the module's `open(path)`), no keyword, and no name that the
    defining module or a module naming the constant binds or reads anywhere, nor another
    factory's. Returns (the name, "") or ("", why each candidate is taken)."""
    lower = factory.name.lower()
    candidates = [lower] if lower != factory.name else []
    candidates.append(f"get_{lower}")
    modules = sorted(m for m in factory.users | {factory.module} if m in index.modules)
    reasons = []
    for candidate in candidates:
        why = _taken_by(candidate, modules, index, chosen)
        if why is None:
            return candidate, ""
        reasons.append(f"`{candidate}` {why}")
    return "", "; ".join(reasons)


def _taken_by(candidate: str, modules: list[str], index: ProjectIndex,
              chosen: dict[str, set[str]]) -> Optional[str]:
    """Why `candidate` cannot name a factory, or None when it is free."""
    if not candidate.isidentifier() or keyword.iskeyword(candidate):
        return "is not a usable function name"
    if candidate in BUILTINS:
        return "is a builtin"
    for module in modules:
        summary = index.name_usage(module)
        if candidate in chosen.get(module, ()):
            return f"is another factory's name in {module}"
        if candidate in _module_names(summary) or candidate in summary.used_names:
            return f"is bound or used in {module}"
        if candidate in (summary.dunder_all or ()):
            return f"is listed in {module}'s `__all__`"
    return None


def dangling_import(index: ProjectIndex, target: str) -> Optional[str]:
    """For `from module import NAME` (`target` = "module.NAME"): the factory function that
    NAME would have become, when the project module no longer defines NAME but defines that
    function (a QS004 change left half-done, by another tool or a partial checkout);
    else None. Anything that could still provide NAME at import (a `*` import, a module
    `__getattr__`, a submodule) means it is not dangling. Read from the summaries alone, so
    a worker process answers as the main one does."""
    module, _, name = target.rpartition(".")
    summary = index.modules.get(module)
    # cheapest first: this runs for every import of every file analysed
    if summary is None or not name or _binds(summary, name) or _binds(summary, "__getattr__"):
        return None
    if summary.star_imports or index.is_module(target):
        return None
    lower = name.lower()
    for candidate in ([lower] if lower != name else []) + [f"get_{lower}"]:
        returns = summary.function_returns.get(candidate, ())
        if candidate in summary.functions and any(chain is not None for chain in returns):
            return candidate
    return None




def dangling_imports(index: ProjectIndex, summary: ModuleSummary) -> dict[str, tuple[str, str]]:
    """This module's dangling imports (see dangling_import): {local name: (target, factory)}."""
    found = {}
    for local, target in summary.imports.items():
        factory = dangling_import(index, target)
        if factory is not None:
            found[local] = (target, factory)
    return found
