"""The passes, in the order they run.

Order matters: a later pass sees the earlier passes' edits when its own edit on the same node
(or an enclosing one) is applied. QS004 turns module-level querysets into factory calls first;
QS003 then moves class-level querysets (including those calls) into `get_queryset()`; QS001
and QS002 rewrite truth tests and `len()` last.

The codes are known here without importing the passes: a run answered from the cache (or a
usage error) never loads them. `PASSES` and `BY_CODE` import them when first read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import PassInfo

# code -> module, in the order the passes run
MODULES: dict[str, str] = {
    "QS004": "qs004_module_queryset_to_factory",
    "QS003": "qs003_class_queryset_to_get_queryset",
    "QS001": "qs001_exists_for_truthiness",
    "QS002": "qs002_count_for_len",
    "QS005": "qs005_refresh_after_update",
    "QS006": "qs006_lost_update",
    "QS007": "qs007_select_for_update_outside_transaction",
    "QS008": "qs008_cache_page_without_invalidation",
    "QS009": "qs009_reuse_after_write",
}
CODES: tuple[str, ...] = tuple(MODULES)


def __getattr__(name: str):
    if name in ("PASSES", "BY_CODE"):
        passes = tuple(importlib.import_module(f"{__package__}.{m}").INFO for m in MODULES.values())
        globals().update(PASSES=passes, BY_CODE={info.code: info for info in passes})
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def known(code: str) -> bool:
    return code.strip().upper() in MODULES


def get_pass(code: str) -> PassInfo | None:
    code = code.strip().upper()
    return __getattr__("BY_CODE")[code] if code in MODULES else None


def selected(select: frozenset[str] | None, ignore: frozenset[str]) -> tuple[PassInfo, ...]:
    return tuple(
        info
        for info in __getattr__("PASSES")
        if (select is None or info.code in select) and info.code not in ignore
    )
