"""Issue 14: `x.<rel>.all()` of an `x` the tool cannot type, typed by the relation name alone
(an unsafe fix at most), the loops over such QuerySets, and the prefetched relations a loop
variable reads (neither fixed nor worth fixing: count()/exists() read the prefetched rows too).

Each shape has its exact rewrite (with --unsafe), each trap a test that nothing is fixed, and
the shapes run on the real test database before and after (rows and query counts).
"""

import textwrap

import pytest

from tests.helpers import DJAPP_MODELS, rewrite
from tests.semantic import compare_semantics

MODELS = """\
from django.db import models


class Event(models.Model):
    name = models.CharField(max_length=10)


class Item(models.Model):
    event = models.ForeignKey(Event, related_name="items", on_delete=models.CASCADE)


class Variation(models.Model):
    item = models.ForeignKey(Item, related_name="variations", on_delete=models.CASCADE)


class Quota(models.Model):
    event = models.ForeignKey(Event, related_name="quotas", on_delete=models.CASCADE)
    items = models.ManyToManyField(Item, related_name="quotas")


class Blog(models.Model):
    pass


class Entry(models.Model):
    blog = models.ForeignKey(Blog, related_name="entries", on_delete=models.CASCADE)


class Feed(models.Model):
    pass


class Post(models.Model):
    feed = models.ForeignKey(Feed, related_name="entries", on_delete=models.CASCADE)


class Team(models.Model):
    members = models.ManyToManyField(Event, related_name="groups")


class Basket(models.Model):
    pass


class Line(models.Model):
    basket = models.ForeignKey(Basket, related_name="lines", on_delete=models.CASCADE)
"""
# a non-model class of the project with an attribute named like a relation
ELSEWHERE = """\
class Printout:
    def __init__(self, lines):
        self.lines = lines
"""
FILES = {"shop/models.py": MODELS, "shop/printing.py": ELSEWHERE}


def run(source: str, **options):
    return rewrite(source, path="shop/forms.py", files=FILES, unsafe=True, **options)


def fixed(source: str, after: str):
    """`source` becomes exactly `after` under --unsafe (every fix unsafe), and a second run
    changes nothing; returns the findings."""
    outcome = run(source)
    assert outcome.output == textwrap.dedent(after)
    assert [f.fix.applicability for f in outcome.findings if f.fix] == ["unsafe"] * len(outcome.findings)
    assert run(outcome.output).output == outcome.output, "not idempotent"
    return outcome.findings


def left(source: str):
    """Nothing is fixed, even with --unsafe; returns the findings (skipped ones included)."""
    outcome = run(source, show_skipped=True)
    assert outcome.output == textwrap.dedent(source)
    assert not [f for f in outcome.findings if f.fix]
    return outcome.findings


FORM = """\
class RuleForm:
    def __init__(self, event):
        self.event = event

    def choices(self):
        out = []
        for item in self.event.items.all():
            if len(item.variations.all()) > 0:
                out.append(item.pk)
        return out

    def quota_items(self):
        return [
            [i.pk for i in q.items.all() if len(i.variations.all()) == 0]
            for q in self.event.quotas.prefetch_related("items")
        ]

    def has_items(self):
        if self.event.items.filter(pk__gt=0):
            return True
        return False
"""
FORM_FIXED = """\
class RuleForm:
    def __init__(self, event):
        self.event = event

    def choices(self):
        out = []
        for item in self.event.items.all():
            if item.variations.all().exists():
                out.append(item.pk)
        return out

    def quota_items(self):
        return [
            [i.pk for i in q.items.all() if not i.variations.all().exists()]
            for q in self.event.quotas.prefetch_related("items")
        ]

    def has_items(self):
        if self.event.items.filter(pk__gt=0).exists():
            return True
        return False
"""


def test_relation_name_types_an_unknown_object_and_its_loop_variables_unsafe_only():
    findings = fixed(FORM, FORM_FIXED)
    assert len(findings) == 3
    messages = " ".join(f.message for f in findings)
    assert "typed by its relation name `items` only: the object it is read from (`self.event`) is unknown" in messages
    assert "its model is taken from the relation name `quotas`" in messages


def test_without_unsafe_nothing_changes():
    outcome = rewrite(FORM, path="shop/forms.py", files=FILES)
    assert outcome.output == FORM


def test_non_model_class_with_an_attribute_of_that_name_is_not_typed():
    left("""\
        def f(printout):
            if printout.lines.all():
                return 1
            return len(printout.lines.all())
        """)


def test_two_models_with_the_related_name_to_different_models_are_not_typed():
    left("""\
        def f(source):
            return len(source.entries.all())
        """)


def test_related_name_of_djangos_own_models_is_not_typed():
    # `user.groups` is Django's User.groups as well as the project's Team.members accessor
    left("""\
        def f(user):
            return len(user.groups.all())
        """)


def test_dict_items_and_other_calls_of_the_name_are_not_typed():
    left("""\
        def f(data, event):
            if data.items():
                return len(data.items())
            return len(event.items()), len(event.items.get_all())
        """)


def test_object_typed_as_a_model_without_that_relation_is_not_retyped():
    left("""\
        from shop.models import Quota


        def f(quota: Quota):
            return len(quota.variations.all())
        """)


@pytest.mark.parametrize("prefetch, reason", [
    ('self.event.items.prefetch_related("variations")', "`item.variations` was prefetched"),
    ('self.event.items.prefetch_related("variations__quotas")', "`item.variations` was prefetched"),
    ("self.event.items.prefetch_related(Prefetch('variations'))", "a prefetch the tool cannot read"),
    ("self.event.items.prefetch_related(*self.lookups)", "a prefetch the tool cannot read"),
])
def test_prefetched_relation_of_a_loop_variable_is_left(prefetch, reason):
    findings = left(f"""\
        class RuleForm:
            def choices(self):
                return [item.pk for item in {prefetch} if len(item.variations.all()) > 0]
        """)
    assert len(findings) == 1 and reason in findings[0].skip_reason
    assert "reads them as well and gains nothing" in findings[0].skip_reason


def test_prefetch_one_loop_out_is_followed_through_the_relation():
    findings = left("""\
        from shop.models import Event


        def f(event: Event):
            items = []
            for quota in event.quotas.prefetch_related("items__variations"):
                for item in quota.items.all():
                    if not item.variations.all():
                        items.append(item)
            return items
        """)
    assert [f.skip_reason.split(":")[0] for f in findings] == ["`item.variations` was prefetched by `prefetch_related()`"]


def test_prefetches_through_a_path_an_or_a_function_call_and_a_comment_are_seen():
    findings = left("""\
        from django.db.models import prefetch_related_objects

        from shop.models import Event


        def through_a_path(event: Event):
            lines = list(event.quotas.prefetch_related("event__items"))
            return [q for q in lines if q.event.items.all()]


        def through_an_or(event: Event, given=None):
            items = given or event.items.prefetch_related("variations")
            return [item for item in items if len(item.variations.all()) > 0]


        def through_a_call(items):
            prefetch_related_objects(items, "quotas__items")
            return [i for i in items if not i.quotas.all()]


        def through_a_name(items):
            prefetch_related_objects(items, "quotas")
            for i in items:
                quotas = i.quotas.all()
                if quotas:
                    yield [q.pk for q in quotas]


        def said_in_a_comment(event: Event):
            return [q for q in event.quotas.all() if q.items.all()]  # reads the prefetch cache
        """)
    assert [f.skip_reason.split(":")[0] for f in findings] == [
        "`q.event.items` was prefetched by `prefetch_related()`",
        "`item.variations` was prefetched by `prefetch_related()`",
        "`i.quotas` was prefetched by `prefetch_related()`",
        "`i.quotas` was prefetched by `prefetch_related()`",
        "a comment on the line says `q.items` reads prefetched rows",
    ]


def test_prefetch_reached_through_a_local_name_and_a_rebinding():
    left("""\
        from shop.models import Event


        def f(event: Event):
            items = event.items.prefetch_related("variations")
            items = list(items.filter(pk__gt=0))
            return [item for item in items if item.variations.all()]
        """)


def test_prefetch_of_another_relation_does_not_hide_a_fresh_query():
    # the subevents shape of pretix: the quota's items are prefetched, not their variations
    source = """\
        from shop.models import Event


        def f(event: Event):
            return [
                [i.pk for i in q.items.all() if len(i.variations.all()) == 0]
                for q in event.quotas.prefetch_related("items", "variations__item")
            ]
        """
    outcome = rewrite(source, path="shop/forms.py", files=FILES)
    assert "if not i.variations.exists()]" in outcome.output or "if not i.variations.all().exists()]" in outcome.output


# `items` is also a plain attribute of a form here: the relation name alone does not decide
STORED = """\
class OrderPositionAddForm:
    def __init__(self, items):
        self.items = items
"""


def test_stored_name_is_typed_through_a_receiver_named_like_a_model_only():
    source = """\
        class AutoCheckinForm:
            def __init__(self, event, source):
                self.event = event
                self.source = source

            def choices(self):
                return [item.pk for item in self.event.items.all() if len(item.variations.all()) > 0]

            def others(self):
                return len(self.source.items.all()), len(self.basket.items.all())
        """
    outcome = rewrite(source, path="shop/forms.py", files={**FILES, "shop/orders.py": STORED}, unsafe=True)
    assert outcome.output == textwrap.dedent(source).replace(
        "if len(item.variations.all()) > 0]", "if item.variations.all().exists()]"
    )
    (finding,) = outcome.findings
    assert finding.fix.applicability == "unsafe"
    assert "`self.event` is taken for an instance of `Event`, whose relation `items` it reads" in finding.message


# -- on the real database ----------------------------------------------------------------------
DB_MODELS = {"shop/models.py": "", "tests/djapp/models.py": DJAPP_MODELS}
SEMANTIC_BEFORE = """\
def f(holder):
    counts = []
    for order in holder.customer.orders.all():
        counts.append(len(order.items.all()) > 0)
    if holder.customer.orders.filter(total__gt=50):
        counts.append("big")
    return counts
"""
PREFETCHED_BEFORE = """\
def f(holder):
    return [order.pk for order in holder.customer.orders.prefetch_related("items") if len(order.items.all()) > 0]
"""


class Holder:
    """An object the tool cannot type, as a form with `self.customer` set in `__init__`."""

    def __init__(self, name):
        from tests.djapp.models import Customer

        self.customer = Customer.objects.get(name=name)


def test_relation_name_rewrite_keeps_rows_and_queries_less(db_rows):
    outcome = rewrite(SEMANTIC_BEFORE, path="shop/snippet.py", files=DB_MODELS, unsafe=True)
    assert outcome.output == SEMANTIC_BEFORE.replace(
        "len(order.items.all()) > 0", "order.items.all().exists()"
    ).replace("filter(total__gt=50):", "filter(total__gt=50).exists():")
    for name, expected in [("alice", [True, True, False, "big"]), ("bob", [True, False, "big"]), ("carol", [])]:
        before, after = compare_semantics(SEMANTIC_BEFORE, outcome.output, "f", Holder(name))
        assert before.result == after.result == expected
        assert after.queries == before.queries
        assert not any("COUNT" in sql or "LIMIT 1" in sql for sql in before.sql)
        # every `len()`/truth test that fetched rows now asks for one row at most
        assert sum("LIMIT 1" in sql for sql in after.sql) == len(before.sql) - 1


def test_prefetched_relation_is_left_and_count_would_gain_nothing(db_rows):
    outcome = rewrite(PREFETCHED_BEFORE, path="shop/snippet.py", files=DB_MODELS, unsafe=True, show_skipped=True)
    assert outcome.output == PREFETCHED_BEFORE
    assert "was prefetched" in outcome.findings[0].skip_reason
    naive = PREFETCHED_BEFORE.replace("len(order.items.all()) > 0", "order.items.all().exists()")
    before, after = compare_semantics(PREFETCHED_BEFORE, naive, "f", Holder("alice"))
    assert before.result == after.result and before.queries == after.queries == 2  # orders, items
