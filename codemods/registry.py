"""The passes, in the order they run.

Order matters: a later pass sees the earlier passes' edits when its own edit on the same node
(or an enclosing one) is applied. QS004 turns module-level querysets into factory calls first;
QS003 then moves class-level querysets (including those calls) into `get_queryset()`; QS001
and QS002 rewrite truth tests and `len()` last.
"""

from __future__ import annotations

from .base import PassInfo
from .qs001_exists_for_truthiness import INFO as QS001
from .qs002_count_for_len import INFO as QS002
from .qs003_class_queryset_to_get_queryset import INFO as QS003
from .qs004_module_queryset_to_factory import INFO as QS004

PASSES: tuple[PassInfo, ...] = (QS004, QS003, QS001, QS002)

BY_CODE: dict[str, PassInfo] = {info.code: info for info in PASSES}


def get_pass(code: str) -> PassInfo | None:
    return BY_CODE.get(code.strip().upper())


def selected(select: frozenset[str] | None, ignore: frozenset[str]) -> tuple[PassInfo, ...]:
    return tuple(
        info
        for info in PASSES
        if (select is None or info.code in select) and info.code not in ignore
    )
