"""The passes: found by walking this package, in the order they declare.

A pass is one module `qsNNN_<name>.py` in `codemods/` holding `INFO = PassInfo(...)`. Its code
is read from the file name, so a run answered from the cache (or a usage error) knows every
code without importing a pass; `PASSES` and `BY_CODE` import them when first read and check
that each module's `INFO.code` is the one its name says.

Order matters: a later pass sees the earlier passes' edits when its own edit on the same node
(or an enclosing one) is applied. Each pass says which passes it runs after
(`PassInfo.runs_after`); the order is those constraints, ties broken by code. QS004 turns
module-level querysets into factory calls first; QS003 then moves class-level querysets
(including those calls) into `get_queryset()`; QS001 and QS002 rewrite truth tests and
`len()` after both.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .base import PassInfo
    from .options import PassOption

PASS_MODULE = re.compile(r"qs(\d{3})_\w+")


def discover(path=None, package: str = __package__) -> dict[str, str]:
    """code -> module name, for every `qsNNN_*` module of the package (by code)."""
    found = {}
    for module in pkgutil.iter_modules(path if path is not None else importlib.import_module(package).__path__):
        match = PASS_MODULE.fullmatch(module.name)
        if match and not module.ispkg:
            found[f"QS{match.group(1)}"] = module.name
    return dict(sorted(found.items()))


# code -> module, by code (not in run order: that needs the declarations)
MODULES: dict[str, str] = discover()


def ordered(infos: "list[PassInfo]") -> "tuple[PassInfo, ...]":
    """`infos` in an order where every pass comes after those it `runs_after` (a pass it
    names that is not there is ignored); ties go by code. A cycle is an error."""
    by_code = {info.code: info for info in infos}
    waiting = {info.code: {c for c in info.runs_after if c in by_code} for info in infos}
    order: list[PassInfo] = []
    while waiting:
        ready = sorted(code for code, after in waiting.items() if not after)
        if not ready:
            raise RuntimeError(f"passes that run after each other: {', '.join(sorted(waiting))}")
        code = ready[0]
        order.append(by_code[code])
        del waiting[code]
        for after in waiting.values():
            after.discard(code)
    return tuple(order)


def load(modules: dict[str, str], package: str = __package__) -> "tuple[PassInfo, ...]":
    infos = []
    for code, name in modules.items():
        info = importlib.import_module(f"{package}.{name}").INFO
        if info.code != code:
            raise RuntimeError(f"{package}.{name} declares {info.code}, but its file name says {code}")
        infos.append(info)
    return ordered(infos)


def __getattr__(name: str):
    if name in ("PASSES", "BY_CODE"):
        if name in globals():  # called by name below, after the first read
            return globals()[name]
        passes = load(MODULES)
        globals().update(PASSES=passes, BY_CODE={info.code: info for info in passes})
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_passes() -> "tuple[PassInfo, ...]":
    """Every pass, imported now (otherwise when `PASSES` is first read)."""
    return __getattr__("PASSES")


def reset() -> None:
    """Walk the package again (after a module was added to it: tests)."""
    globals().pop("PASSES", None)
    globals().pop("BY_CODE", None)
    MODULES.clear()
    MODULES.update(discover())


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


def pass_options() -> "list[tuple[PassInfo, PassOption]]":
    """Every pass's options, by code (imports the passes)."""
    return [(info, option) for info in sorted(__getattr__("PASSES"), key=lambda i: i.code)
            for option in info.options]


def pass_option(name: str) -> "Optional[PassOption]":
    return next((option for _, option in pass_options() if option.name == name), None)


def provider(capability: str) -> "Optional[PassInfo]":
    """The pass whose `plan` provides `capability` (e.g. "factories")."""
    return next((info for info in __getattr__("PASSES") if info.provides == capability), None)
