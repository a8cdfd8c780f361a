"""A tiny app for the semantic tests of issue 14's typing shapes (tests/test_semantic_reach.py).

Its layout is the shapes: an AppConfig label that is not the package name, a models package made
of star re-exports (one module with `__all__`, one without), a manager made with
`Manager.from_queryset()` in another module, QuerySet, manager, model, proxy-model, abstract-model
and classmethod code rooted at `self`/`cls`, a model on a library base (django-model-utils) and
models with a library field or on a library base the typing cannot see (tests/reachlib).
"""
