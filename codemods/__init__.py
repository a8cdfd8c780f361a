"""qsfix: codemods that stop Django code from serving stale or needlessly expensive QuerySets.

`codemods` decides (analysis, passes, the file pipeline); `cli` only renders.
"""

__version__ = "0.1.0"
