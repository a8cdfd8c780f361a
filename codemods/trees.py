"""The trees of a run: kept from the index for the analysis, and parsed so the cyclic garbage
collector never scans them."""

from __future__ import annotations

import ast
import contextlib
import gc
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .files import SourceFile


class Trees:
    """Trees parsed for the index, kept for the analysis so no file is parsed twice; up to a
    budget, as a tree takes about 35 times its source's bytes (6 MB of source: ~210 MB).
    The project index may read a kept tree for a fact it reads on demand (`peek`, through
    `ProjectIndex.tree_of`), as the file's analysis does."""

    BUDGET = 6_000_000

    def __init__(self) -> None:
        self.kept: dict[str, tuple[bytes, ast.Module]] = {}  # abspath -> (the bytes parsed, tree)
        self.size = 0

    def keep(self, source: SourceFile, tree: ast.Module) -> None:
        self.keep_read(source.abspath, source.data, tree)

    def keep_read(self, abspath: str, data: bytes, tree: ast.Module) -> None:
        """Also a tree parsed again for a fact read on demand (the file's own was not kept)."""
        if abspath not in self.kept and self.size + len(data) <= self.BUDGET:
            self.kept[abspath] = (data, tree)
            self.size += len(data)

    def take(self, abspath: str) -> Optional[ast.Module]:
        """The tree for the file's analysis. It stays kept (to the end of the run): facts read
        on demand from another file's analysis may still ask for it, and parsing it again
        costs more than keeping it (the trees were all alive at the end of the index anyway)."""
        kept = self.kept.get(abspath)
        return kept[1] if kept is not None else None

    def peek(self, abspath: str, data: bytes) -> Optional[ast.Module]:
        """The tree kept for `abspath` when it was parsed from `data`, left for the analysis."""
        kept = self.kept.get(abspath)
        if kept is None or not (kept[0] is data or kept[0] == data):
            return None
        return kept[1]


# The cyclic garbage collector and trees. `ast` nodes never form reference cycles (nothing
# here links a node back to its parent), so reference counting frees every tree; yet each new
# node is tracked, and young-generation collections scanned every tree once or more (a sixth
# of a run). Trees are therefore made with collections off and then frozen (moved where
# collections never look): indexing freezes everything it made (it makes no cyclic garbage),
# a tree parsed for the analysis is frozen alone.
@contextlib.contextmanager
def frozen_afterwards():
    """Collections off inside; everything made inside is frozen on the way out."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def parse_frozen(data: bytes, filename: str) -> ast.Module:
    """`ast.parse` for the analysis: the garbage of earlier files is collected first, so
    that freezing the new tree freezes nothing that could still be garbage."""
    gc.collect(1)
    with frozen_afterwards():
        return ast.parse(data, filename=filename)
