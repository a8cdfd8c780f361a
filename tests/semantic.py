"""Run code before and after a rewrite on the real test database and compare what it does.

    before, after = compare_semantics(BEFORE, AFTER, "f", customer_pk)
    assert after.result == before.result
    assert after.queries <= before.queries

The source is executed in a fresh namespace that already holds the test models, `models`,
`timezone`, `timedelta`, `Q`, `F`, `Count` and `Prefetch`. Only the queries run by the call
`func(*args, **kwargs)` are counted: module-level code of the source runs before (like an import)
and the result is normalised after (an unevaluated QuerySet that is returned is fetched then,
uncounted). Each run sits in a savepoint that is rolled back, so writes in one run are not seen by
the next. Needs the `db_rows` (or `django_db_schema`) fixture.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, models, transaction
from django.db.models import Count, F, Prefetch, Q
from django.db.models.manager import BaseManager
from django.db.models.query import QuerySet, RawQuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.djapp import models as djapp_models


@dataclass(frozen=True)
class Outcome:
    result: object
    queries: int
    sql: list = field(default_factory=list)


def fresh_namespace():
    namespace = {"__name__": "qsfix_semantic_source"}
    namespace.update({name: getattr(djapp_models, name) for name in djapp_models.__all__})
    namespace.update(
        models=models,
        timezone=timezone,
        timedelta=timedelta,
        Q=Q,
        F=F,
        Count=Count,
        Prefetch=Prefetch,
    )
    return namespace


def normalise(value):
    """Plain comparable data: instances become their pk, QuerySets/managers lists of those."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, BaseManager):
        value = value.all()
    if isinstance(value, (QuerySet, RawQuerySet)):
        return [normalise(item) for item in value]
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, tuple):
        return tuple(normalise(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return {normalise(item) for item in value}
    if isinstance(value, dict):
        return {normalise(key): normalise(item) for key, item in value.items()}
    return value


def run_code(source, func="f", *args, **kwargs):
    """exec `source`, call `func(*args, **kwargs)` and return its normalised Outcome."""
    namespace = fresh_namespace()
    with transaction.atomic():
        exec(compile(source, "<qsfix semantic source>", "exec"), namespace)
        with CaptureQueriesContext(connection) as captured:
            result = namespace[func](*args, **kwargs)
        outcome = Outcome(
            result=normalise(result),
            queries=len(captured.captured_queries),
            sql=[query["sql"] for query in captured.captured_queries],
        )
        transaction.set_rollback(True)
    return outcome


def compare_semantics(before_src, after_src, func="f", *args, **kwargs):
    """Run both sources the same way; returns (before_outcome, after_outcome)."""
    before = run_code(before_src, func, *args, **kwargs)
    after = run_code(after_src, func, *args, **kwargs)
    return before, after


def assert_same_semantics(before_src, after_src, func="f", *args, **kwargs):
    """Same result, and the rewrite runs no more queries; returns both outcomes."""
    before, after = compare_semantics(before_src, after_src, func, *args, **kwargs)
    assert after.result == before.result, (before, after)
    assert after.queries <= before.queries, (before, after)
    return before, after
