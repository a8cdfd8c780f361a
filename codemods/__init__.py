"""qsfix: codemods that stop Django code from serving stale or needlessly expensive QuerySets.

`codemods` decides (analysis, passes, the file pipeline); `cli` only renders. Scripts use
`codemods.run(paths, ...)` (see `codemods.api`), which returns findings and changed files.
"""

__version__ = "0.1.0"

# The cyclic garbage collector's thresholds during a run, in the main process and in the
# workers alike: analysis makes many short-lived objects, and the default thresholds
# collected often enough to take a third of the time on large projects.
GC_THRESHOLDS = (100_000, 50, 100)

__all__ = ["run", "Result"]


def __getattr__(name: str):
    # `codemods.run` is the Python API (codemods/api.py), imported when first used: the
    # command line and the worker processes import this package without needing it.
    if name in ("run", "Result"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
