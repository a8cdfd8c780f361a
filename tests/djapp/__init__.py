"""A tiny Django app used only by the semantic tests (never by qsfix itself)."""
