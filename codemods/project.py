"""Project-wide state of one run (LibCST's `CodemodContext` is the model): the index, the
typer every file shares, the options, and the passes' project-wide plans. Built once per
run (and once per worker) and reached by the passes through their analysis
(`analysis.project`).

A plan is asked for by what it provides, never by the pass that makes it: the pass that
declares `provides="factories"` (QS004) computes it with its `plan(project)` the first time
`project.provided("factories")` (or `project.factories`) is read.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Optional

from .options import Options

if TYPE_CHECKING:
    from .index import ProjectIndex
    from .querysets import ChainTyper


class Project:
    def __init__(self, index: ProjectIndex, options: Optional[Options] = None, typer: Optional[ChainTyper] = None):
        self.index = index
        # the options the analysis may depend on: those in the cache key (`PassOption`)
        self.options = options if options is not None else Options()
        self._typer = weakref.ref(typer) if typer is not None else None
        self.plans: dict[str, Any] = {}  # capability -> the plan that provides it

    @property
    def typer(self) -> ChainTyper:
        """The typer every file shares (it holds this project; held back weakly, so that a
        run leaves no reference cycle for the collector)."""
        return self._typer()

    @typer.setter
    def typer(self, typer: ChainTyper) -> None:
        self._typer = weakref.ref(typer)

    def provided(self, capability: str, default: Any = None) -> Any:
        """The plan of the pass that provides `capability` (`default` when none does:
        that pass is not installed)."""
        if capability not in self.plans:
            from . import registry

            info = registry.provider(capability)
            self.plans[capability] = info.plan(self) if info is not None else default
        return self.plans[capability]

    @property
    def factories(self) -> dict:
        """Module-level QuerySets that become factory functions: qualname -> Factory."""
        return self.provided("factories", {})
