"""What a run is asked to do (`Options`) and what a pass may declare to be asked (`PassOption`).

A pass option is declared once, in the pass's `PassInfo.options`; the `[tool.qsfix]` key (both
spellings, `all-views` and `all_views`), the `explain` "Options" section and the engine's
`Options.flag(name)` all come from that declaration. Nothing here imports a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional


@dataclass(frozen=True)
class PassOption:
    """One on/off option of a pass. `in_cache_key`: the option changes the analysis itself
    (as QS004's plan changes with keep-names), so analyses made with it on and off are
    cached apart; otherwise the analysis is made as if it were on and each finding says in
    `unless` how it reads with it off."""

    name: str  # as on the command line and in [tool.qsfix], e.g. "all-views"
    help: str
    default: bool = False
    in_cache_key: bool = False

    @property
    def attribute(self) -> str:
        return self.name.replace("-", "_")


def option_name(spelling: str) -> str:
    """`all_views` and `all-views` name the same option."""
    return spelling.replace("_", "-")


@dataclass(frozen=True, init=False)
class Options:
    select: Optional[frozenset[str]] = None
    ignore: frozenset[str] = frozenset()
    unsafe: bool = False
    # Finding keys to apply (interactive review); None applies every eligible fix.
    accept: Optional[frozenset[str]] = None
    jobs: int = 1
    use_cache: bool = False
    # False for `check`: decide which fixes would apply, but do not build the new text
    # (libcst is then never needed)
    build_fixes: bool = True
    # the passes' own options (`PassOption`) that were given, by name: {"all-views": True}
    flags: tuple[tuple[str, bool], ...] = ()

    def __init__(self, select=None, ignore=frozenset(), unsafe=False, accept=None, jobs=1,
                 use_cache=False, build_fixes=True, flags: Mapping[str, bool] | tuple = (),
                 **pass_options: bool):
        """`pass_options`: the passes' options by attribute name (`all_views=True`), as
        the Python API and the tests spell them."""
        given = dict(flags)
        given.update((option_name(k), v) for k, v in pass_options.items())
        values = dict(select=select, ignore=ignore, unsafe=unsafe, accept=accept, jobs=jobs,
                      use_cache=use_cache, build_fixes=build_fixes,
                      flags=tuple(sorted((k, bool(v)) for k, v in given.items())))
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def keyed_flags(self) -> tuple[tuple[str, bool], ...]:
        """The pass options given that change the analysis itself (`in_cache_key`), where
        they differ from their default; the passes are imported only when one was given."""
        given = dict(self.flags)
        if not given:
            return ()
        from . import registry

        keyed = {  # an option two passes share is one entry
            option.name: given[option.name] for _, option in registry.pass_options()
            if option.in_cache_key and given.get(option.name, option.default) != option.default
        }
        return tuple(sorted(keyed.items()))

    def for_analysis(self) -> "Options":
        """What an analysis may read (`Project.options`): the keyed options only, so that an
        analysis, which the cache keeps for every other option set, cannot depend on more."""
        return Options(flags=self.keyed_flags())

    def flag(self, name: str, default: bool = False) -> bool:
        """A pass option's value (`default` when it was not given)."""
        return dict(self.flags).get(option_name(name), default)

    def __getattr__(self, name: str) -> bool:
        # `options.all_views`, as the code before pass options spelled them
        if name.startswith("_"):
            raise AttributeError(name)
        flags = dict(object.__getattribute__(self, "flags"))
        if option_name(name) in flags:
            return flags[option_name(name)]
        from . import registry  # only for a name no option was given for

        if registry.pass_option(option_name(name)) is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return registry.pass_option(option_name(name)).default

    @property
    def passes(self):
        from . import registry

        return registry.selected(self.select, self.ignore)


def build_options(config, select: Optional[list[str]], ignore: Optional[list[str]],
                  unsafe: Optional[bool], flags: Mapping[str, Optional[bool]], use_cache: bool,
                  jobs: int) -> Options:
    """The engine's options from the config file and the arguments (codes already checked):
    an argument that is not None wins over the file. Used by the CLI and the Python API."""
    select_codes = select if select is not None else config.select
    ignore_codes = ignore if ignore is not None else config.ignore
    given = dict(config.flags)
    given.update((option_name(k), v) for k, v in flags.items() if v is not None)
    return Options(
        select=frozenset(select_codes) if select_codes is not None else None,
        ignore=frozenset(ignore_codes or ()),
        unsafe=config.unsafe if unsafe is None else unsafe,
        flags=given,
        use_cache=use_cache,
        jobs=jobs,
    )
