"""Issue 14's typing shapes on a real sqlite database: what qsfix makes of each, run before and
after, with the results and the number of queries compared.

The models are real: tests/reachapp (an AppConfig label that is not the package name, a models
package of star re-exports, a `Manager.from_queryset()` alias, QuerySet/manager/model/proxy/
abstract/classmethod code rooted at `self` or `cls`, a model on django-model-utils'
`TimeStampedModel`, a model with a library field and one on a library base the typing cannot
see, tests/reachlib) and tests/reachns (an app without `__init__.py`). qsfix is run over those
files at their real paths, with tests/djapp and one module per view-level shape beside them
(tests/reachlib is never handed to it: for the typing it is a library in site-packages). AFTER
is always the tool's output, never a hand-written text.

View-level shapes (a module with `f`) run as tests/semantic.py runs code. Shapes inside the app's
classes run the method the tool rewrote: its `def` is taken from the rewritten module, compiled
in the real module's globals and put on the real class for the call (the model classes cannot be
defined twice), the BEFORE method the same way from the file on disk.

Traps are shown to be right to be left alone: the tool leaves them, and the rewrite that it
would make with --unsafe (or a naive one where it makes none) changes the result, raises, adds a
query or gains nothing.

Data (the `reach` fixture, besides conftest's `db_rows`):
    boards: inbox (tickets open, open, closed; shop FR; stickers red, red), archive (ticket
            closed; shop DE; sticker blue), empty
    tags:   bug (2 tickets), idea (1 ticket), plain (none)
    reviews: alice's "good" (votes by users 1, 1, 2), carol's "" (a vote by user 3)
    shelves: sizes 1, 2, 2      users: ann, ben (active), cid (inactive)
"""

from __future__ import annotations

import ast
import importlib
import re
import textwrap
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.helpers import REPO, Outcome, new_project_folder, run_in
from tests.semantic import compare_semantics, normalise, run_code

# -- running the tool over the real files ------------------------------------------------------
# Handed to qsfix as they are on disk, at the same paths; only tests/reachns has no __init__.py.
REAL_FILES = [
    "tests/__init__.py",
    "tests/djapp/__init__.py",
    "tests/djapp/apps.py",
    "tests/djapp/models.py",
    "tests/reachapp/__init__.py",
    "tests/reachapp/apps.py",
    "tests/reachapp/loading.py",
    "tests/reachapp/managers.py",
    "tests/reachapp/models/__init__.py",
    "tests/reachapp/models/boards.py",
    "tests/reachapp/models/reviews.py",
    "tests/reachns/models.py",
]
REAL = {path: (REPO / path).read_text() for path in REAL_FILES}
MANAGERS, BOARDS, REVIEWS = (
    "tests/reachapp/managers.py",
    "tests/reachapp/models/boards.py",
    "tests/reachapp/models/reviews.py",
)

_SNIPPETS: list[str] = []  # every BEFORE made by module() at import time
_RUNS: dict[bool, dict[str, Outcome]] = {}


def module(body: str) -> str:
    """A view-level BEFORE module (it imports what it uses itself)."""
    source = textwrap.dedent(body).lstrip("\n")
    _SNIPPETS.append(source)
    return source


def _run(unsafe: bool) -> dict[str, Outcome]:
    """One engine run over the real files and every snippet; path (or snippet text) -> Outcome."""
    snippets = {f"tests/reachapp/snippet_{i}.py": s for i, s in enumerate(dict.fromkeys(_SNIPPETS))}
    files = {**REAL, **snippets}
    root = new_project_folder()
    for rel, text in files.items():  # exactly these files: no __init__.py is added
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    result = run_in(root, unsafe=unsafe)
    outcomes = {}
    for r in result.files:
        assert r.error is None, r.error
        source = files[r.path]
        outcome = Outcome(source, r.new.decode() if r.changed else source, r.findings, result)
        outcomes[r.path] = outcome
        if r.path in snippets:
            outcomes[source] = outcome
    return outcomes


def run_tool(before: str, *, unsafe: bool = False) -> Outcome:
    """What the tool made of a snippet (its text) or of a real file (its path)."""
    if unsafe not in _RUNS:
        _RUNS[unsafe] = _run(unsafe)
    return _RUNS[unsafe][before]


def fixes(outcome: Outcome, *, applied: bool = True) -> list[tuple[int, str, str]]:
    """(line, code, applicability) of every fix, applied (default) or left."""
    return sorted(
        (f.line, f.code, f.fix.applicability)
        for f in outcome.findings
        if f.fix and bool(f.fix.applied) == applied
    )


def tool_rewrites(before: str, expected: list[tuple[str, str]], *, unsafe: bool = False) -> str:
    """The tool changes the snippet by applying exactly `expected` (code, applicability)."""
    outcome = run_tool(before, unsafe=unsafe)
    assert outcome.output != before, "the tool left the shape alone"
    assert sorted((code, how) for _, code, how in fixes(outcome)) == sorted(expected), outcome.output
    return outcome.output


def tool_leaves(before: str, expected: list[tuple[str, str]]) -> Outcome:
    """By default the tool leaves the snippet alone, reporting exactly `expected` unapplied fixes."""
    outcome = run_tool(before)
    assert outcome.output == before
    assert sorted((code, how) for _, code, how in fixes(outcome, applied=False)) == sorted(expected)
    return outcome


# -- running code ------------------------------------------------------------------------------
def fetches_rows(sql: str) -> bool:
    """A query that transfers rows: not `COUNT(...)`, not an `exists()` (`LIMIT 1`)."""
    return "COUNT(" not in sql and not re.search(r"\bLIMIT 1\b", sql)


def row_fetches(outcome) -> int:
    return sum(fetches_rows(sql) for sql in outcome.sql)


def check(before, after, *, better: bool = True):
    """Same result, never more queries; `better`: fewer queries, or as many fetching fewer rows.
    Returns the (before, after) query counts."""
    assert after.result == before.result, (before, after)
    assert after.queries <= before.queries, (before, after)
    if better:
        assert after.queries < before.queries or row_fetches(after) < row_fetches(before), (before, after)
    return before.queries, after.queries


def each(before_src: str, after_src: str, args_list, *, better: bool = True):
    """`f(*args)` before and after for every args; returns BEFORE's results and the counts."""
    results, counts = [], []
    for args in args_list:
        before, after = compare_semantics(before_src, after_src, "f", *args)
        counts.append(check(before, after, better=better))
        results.append(before.result)
    return results, counts


def method_node(source: str, where: str) -> ast.FunctionDef:
    """The `def` of `where` ("module:Class.method") in `source`."""
    class_name, method_name = where.partition(":")[2].split(".")
    (cls,) = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == class_name]
    (func,) = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == method_name]
    return func


def method_from(source: str, where: str):
    """The method `where` of `source`, compiled in the real module's globals."""
    func = method_node(source, where)
    assert "super" not in {n.id for n in ast.walk(func) if isinstance(n, ast.Name)}  # no __class__ cell
    module_name = where.partition(":")[0]
    namespace = dict(vars(importlib.import_module(module_name)))
    exec(compile(ast.Module(body=[func], type_ignores=[]), f"<{module_name}>", "exec"), namespace)
    return namespace[func.name]


def run_method(source, where: str, prepare, call) -> SimpleNamespace:
    """Put `where` ("module:Class.method") from `source` on the real class, then count the
    queries of `call(prepare())`; `prepare` (fetching the receiver) is not counted. Rolled back."""
    module_name, _, qualname = where.partition(":")
    class_name, method_name = qualname.split(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    original = cls.__dict__[method_name]
    setattr(cls, method_name, method_from(source, where))
    try:
        with transaction.atomic():
            receiver = prepare()
            with CaptureQueriesContext(connection) as captured:
                result = call(receiver)
            sql = [query["sql"] for query in captured.captured_queries]
            transaction.set_rollback(True)
    finally:
        setattr(cls, method_name, original)
    return SimpleNamespace(result=normalise(result), queries=len(sql), sql=sql)


def compare_method(path: str, where: str, prepare, call, *, unsafe: bool = False):
    """The method before (the file on disk) and after (the tool's output for that file)."""
    before = run_method(REAL[path], where, prepare, call)
    after = run_method(run_tool(path, unsafe=unsafe).output, where, prepare, call)
    return before, after


def method_changed(path: str, where: str, *, unsafe: bool = False) -> bool:
    """Did the tool rewrite that method of the real file?"""
    before = ast.unparse(method_node(REAL[path], where))
    return before != ast.unparse(method_node(run_tool(path, unsafe=unsafe).output, where))


def method_findings(path: str, where: str, *, unsafe: bool = False):
    """The tool's findings on lines of that method of the real file."""
    func = method_node(REAL[path], where)
    return [f for f in run_tool(path, unsafe=unsafe).findings if func.lineno <= f.line <= func.end_lineno]


def method_fixes(path: str, where: str, *, applied: bool = True):
    """(code, applicability) of the fixes the tool applied (or left) in that method."""
    return sorted((f.code, f.fix.applicability) for f in method_findings(path, where)
                  if f.fix and bool(f.fix.applied) == applied)


# -- data --------------------------------------------------------------------------------------
@pytest.fixture
def reach(db_rows):
    from django.contrib.auth.models import User

    from tests.reachapp.models import Board, Review, Shop, Sticker, Tag, Ticket, Vote
    from tests.reachns.models import Shelf

    inbox, archive, empty = (Board.objects.create(name=n) for n in ("inbox", "archive", "empty"))
    tickets = [Ticket.objects.create(board=b, status=s) for b, s in
               [(inbox, "open"), (inbox, "open"), (inbox, "closed"), (archive, "closed")]]
    for name, tagged in [("bug", tickets[:2]), ("idea", tickets[:1]), ("plain", [])]:
        Tag.objects.create(name=name).tickets.set(tagged)
    good = Review.objects.create(owner=db_rows.customers["alice"], text="good")
    blank = Review.objects.create(owner=db_rows.customers["carol"], text="")
    votes = [Vote.objects.create(review=r, user=u) for r, u in [(good, 1), (good, 1), (good, 2), (blank, 3)]]
    Shop.objects.create(board=inbox, country="FR")
    Shop.objects.create(board=archive, country="DE")
    for board, color in [(inbox, "red"), (inbox, "red"), (archive, "blue")]:
        Sticker.objects.create(board=board, color=color)
    for size in (1, 2, 2):
        Shelf.objects.create(name=f"s{size}", size=size)
    for name, active in [("ann", True), ("ben", True), ("cid", False)]:
        User.objects.create(username=name, is_active=active)
    return SimpleNamespace(
        boards=[inbox.pk, archive.pk, empty.pk],
        tickets=[t.pk for t in tickets],
        reviews=[good.pk, blank.pk],
        votes=[v.pk for v in votes],
        customers=[c.pk for c in db_rows.customers.values()],  # alice, bob, carol
    )


def model(label: str):
    """"reachapp:Ticket" -> the real model class (imported when a test runs, not at collection)."""
    package, _, name = label.partition(":")
    return getattr(importlib.import_module(f"tests.{package}.models"), name)


def instances(label: str, key: str, call):
    """Cases calling `call(instance)` on a fresh instance of every pk in `reach.<key>`."""
    return lambda reach: [((lambda pk=pk: model(label).objects.get(pk=pk)), call) for pk in getattr(reach, key)]


def votes_of_each_review(reach, call):
    """Cases calling `call(votes, user)` on Vote.objects (user 1), then on the votes of each
    review (users 1 and 3: alice's review has votes by 1 and 2, carol's by 3 only)."""
    votes = lambda: model("reachapp:Vote").objects  # noqa: E731
    cases = [(votes, lambda qs: call(qs, 1))]
    for pk, user in zip(reach.reviews, (1, 3)):
        cases.append(((lambda pk=pk: votes().filter(review_id=pk)), (lambda qs, user=user: call(qs, user))))
    return cases


# -- `self` in model, proxy-model, abstract-model, QuerySet and manager methods; `cls` ---------
MODEL_METHODS = "tests.reachapp.models.boards"
REVIEW_MODELS = "tests.reachapp.models.reviews"
MANAGER_CLASSES = "tests.reachapp.managers"
# shape -> (file, "module:Class.method", the fixes applied in it, cases(reach) -> [(prepare, call)])
SELF_SHAPES = {
    "model_method_truth": (
        BOARDS, f"{MODEL_METHODS}:Ticket.has_siblings", [("QS001", "safe")],
        instances("reachapp:Ticket", "tickets", lambda t: t.has_siblings()),
    ),
    "model_method_len": (
        BOARDS, f"{MODEL_METHODS}:Ticket.sibling_count", [("QS002", "safe")],
        instances("reachapp:Ticket", "tickets", lambda t: t.sibling_count()),
    ),
    "model_method_len_of_local_compared": (
        REVIEWS, f"{REVIEW_MODELS}:Vote.already_voted", [("QS002", "safe")],
        instances("reachapp:Vote", "votes", lambda v: v.already_voted()),
    ),
    "model_method_reverse_relation_len": (
        REVIEWS, f"{REVIEW_MODELS}:Vote.review_votes", [("QS002", "safe")],
        instances("reachapp:Vote", "votes", lambda v: v.review_votes()),
    ),
    "proxy_model_method": (
        BOARDS, f"{MODEL_METHODS}:OpenTicket.open_siblings", [("QS001", "safe"), ("QS002", "safe")],
        instances("reachapp:OpenTicket", "tickets", lambda t: t.open_siblings()),
    ),
    "abstract_model_method_relation_on_the_abstract_class": (
        REVIEWS, f"{REVIEW_MODELS}:Owned.owner_buys", [("QS001", "safe")],
        instances("reachapp:Review", "reviews", lambda r: r.owner_buys()),
    ),
    "queryset_method_new_chain_truth": (
        MANAGERS, f"{MANAGER_CLASSES}:VoteQuerySet.others_voted", [("QS001", "safe")],
        lambda reach: votes_of_each_review(reach, lambda qs, user: qs.others_voted(user)),
    ),
    "queryset_method_new_chain_len": (
        MANAGERS, f"{MANAGER_CLASSES}:VoteQuerySet.votes_by", [("QS002", "safe")],
        lambda reach: votes_of_each_review(reach, lambda qs, user: qs.votes_by(user)),
    ),
    "manager_method_truth": (
        MANAGERS, f"{MANAGER_CLASSES}:BoardManager.any_named", [("QS001", "safe")],
        lambda reach: [(lambda: model("reachapp:Board").objects, lambda m, n=n: m.any_named(n))
                       for n in ("inbox", "nowhere")],
    ),
    "manager_method_len": (
        MANAGERS, f"{MANAGER_CLASSES}:BoardManager.how_many", [("QS002", "safe")],
        lambda reach: [(lambda: model("reachapp:Board").objects, lambda m: m.how_many())],
    ),
    "cls_in_a_model_classmethod": (
        BOARDS, f"{MODEL_METHODS}:Board.named", [("QS002", "safe")],
        lambda reach: [(lambda: model("reachapp:Board"), lambda b, n=n: b.named(n)) for n in ("inbox", "nowhere")],
    ),
}


@pytest.mark.parametrize("shape", list(SELF_SHAPES))
def test_self_and_cls_rooted_fix_keeps_results_and_gets_cheaper(shape, reach):
    path, where, expected, cases = SELF_SHAPES[shape]
    assert method_changed(path, where)
    assert method_fixes(path, where) == sorted(expected)
    results, counts = [], []
    for prepare, call in cases(reach):
        before, after = compare_method(path, where, prepare, call)
        counts.append(check(before, after))
        results.append(before.result)
    assert len(set(map(repr, results))) > 1 or len(results) == 1  # the cases tell cases apart
    assert all(b == a for b, a in counts)  # as many queries, none of them fetching the rows


def test_truth_of_self_in_a_queryset_method_is_left_for_the_caller_may_reuse_it(reach):
    where = f"{MANAGER_CLASSES}:VoteQuerySet.any_left"
    assert not method_changed(MANAGERS, where)
    assert method_fixes(MANAGERS, where, applied=False) == [("QS001", "unsafe")]
    assert method_changed(MANAGERS, where, unsafe=True)

    def tested_then_listed(qs):
        return qs.any_left(), [v.pk for v in qs]

    before, after = compare_method(
        MANAGERS, where, lambda: model("reachapp:Vote").objects.all(), tested_then_listed, unsafe=True
    )
    assert after.result == before.result == (True, reach.votes)
    # bool(self) filled the caller's result cache; exists() does not, so the loop queries again
    assert (before.queries, after.queries) == (1, 2)


def test_self_of_a_queryset_a_proxy_orders_through_a_to_many_relation_is_not_safe(reach):
    # ReviewQuerySet serves Review, and RankedReview, a proxy inheriting the manager whose
    # Meta.ordering joins the votes: through it len() counts (review, vote) rows, count() reviews
    where = f"{MANAGER_CLASSES}:ReviewQuerySet.with_text"
    assert not method_changed(MANAGERS, where)
    assert method_fixes(MANAGERS, where, applied=False) == [("QS002", "unsafe")]
    before, forced = compare_method(
        MANAGERS, where, lambda: model("reachapp:RankedReview").objects, lambda m: m.with_text(), unsafe=True
    )
    assert (before.result, forced.result) == (3, 1)
    before, forced = compare_method(
        MANAGERS, where, lambda: model("reachapp:Review").objects, lambda m: m.with_text(), unsafe=True
    )
    assert (before.result, forced.result) == (1, 1)  # Review itself has no ordering


def test_self_of_a_from_queryset_alias_queryset_is_only_likely(reach):
    # `objects = TicketManager()` names the alias `TicketManager = Manager.from_queryset(
    # TicketQuerySet)`; the index follows it to TicketQuerySet, which serves Ticket and
    # OpenTicket (a proxy, which may order its rows otherwise), so no one model is known and
    # the fix is unsafe. Here the unsafe fix is right: a missed safe fix, not a wrong one (with
    # one model the fix is safe: test_reach_safe.py).
    where = f"{MANAGER_CLASSES}:TicketQuerySet.has_open"
    assert not method_changed(MANAGERS, where)
    assert method_fixes(MANAGERS, where, applied=False) == [("QS001", "unsafe")]
    assert "whose model is not known here" in method_findings(MANAGERS, where)[0].message
    for pk in reach.boards:
        before, after = compare_method(
            MANAGERS, where, lambda pk=pk: model("reachapp:Ticket").objects.filter(board_id=pk),
            lambda qs: qs.has_open(), unsafe=True,
        )
        check(before, after)


# -- view-level shapes the tool now types: each safe fix keeps the results, costs less ---------
# shape -> (BEFORE module defining f, fixes applied, args of each call: reach -> [args])
SAFE = {
    "manager_alias_custom_method_and_after_a_builtin": (
        module(
            """
            from tests.reachapp.models import Ticket


            def f(pk):
                return bool(Ticket.objects.open()), len(Ticket.objects.filter(board_id=pk).open())
            """
        ),
        [("QS001", "safe"), ("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "star_reexport_with_all": (
        module(
            """
            from tests.reachapp.models import Board, Ticket


            def f(pk):
                return bool(Board.objects.filter(pk=pk)), len(Ticket.objects.filter(board_id=pk))
            """
        ),
        [("QS001", "safe"), ("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "star_reexport_without_all": (
        module(
            """
            from tests.reachapp.models import Vote


            def f(pk):
                return bool(Vote.objects.filter(review_id=pk, user=1)), len(Vote.objects.filter(review_id=pk))
            """
        ),
        [("QS001", "safe"), ("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.reviews],
    ),
    "model_on_a_library_base": (  # django-model-utils' TimeStampedModel
        module(
            """
            from tests.reachapp.models import Board


            def f(pk):
                return bool(Board.objects.exclude(pk=pk)), len(Board.objects.filter(pk__gte=pk))
            """
        ),
        [("QS001", "safe"), ("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "model_with_a_library_field": (
        module(
            """
            from tests.reachapp.models import Shop


            def f(pk):
                return bool(Shop.objects.filter(board_id=pk)), len(Shop.objects.filter(country="FR"))
            """
        ),
        [("QS001", "safe"), ("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "get_model_app_label_and_model_name": (  # the AppConfig's label, not the package name
        module(
            """
            from django.apps import apps


            def f(pk):
                Ticket = apps.get_model("reach", "Ticket")
                return bool(Ticket.objects.filter(board_id=pk))
            """
        ),
        [("QS001", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "get_model_dotted": (
        module(
            """
            from django.apps import apps


            def f(pk):
                return len(apps.get_model("reach.ticket").objects.filter(board_id=pk))
            """
        ),
        [("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "get_model_of_the_registry_under_another_name": (
        module(
            """
            from django.apps.registry import apps as registry


            def f(pk):
                return bool(registry.get_model("reach", "Board").objects.filter(pk=pk, name="inbox"))
            """
        ),
        [("QS001", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "namespace_package_app": (
        module(
            """
            from tests.reachns.models import Shelf


            def f(size):
                return bool(Shelf.objects.filter(size=size)), len(Shelf.objects.filter(size__gte=size))
            """
        ),
        [("QS001", "safe"), ("QS002", "safe")],
        lambda reach: [(0,), (1,), (2,), (3,)],
    ),
    "parameter_annotated_with_the_model_class": (
        module(
            """
            from tests.reachapp.models import Board


            def crowded(board: Board):
                return bool(board.tickets.filter(status="open")), len(board.stickers.all())


            def f(pk):
                return crowded(Board.objects.get(pk=pk))
            """
        ),
        [("QS001", "safe"), ("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "parameter_annotated_with_a_string_imported_under_type_checking": (
        module(
            """
            from typing import TYPE_CHECKING

            from tests.reachapp.models import Review

            if TYPE_CHECKING:
                from tests.reachapp.models import Vote


            def same_voter(vote: "Vote"):
                return bool(vote.review.votes.filter(user=vote.user).exclude(pk=vote.pk))


            def f(pk):
                review = Review.objects.get(pk=pk)
                return [same_voter(vote) for vote in review.votes.all()], len(review.votes.all())
            """
        ),
        [("QS001", "safe"), ("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.reviews],
    ),
    "queryset_parameter_every_caller_passes_a_fresh_chain": (
        module(
            """
            from django.db.models import QuerySet

            from tests.reachapp.models import Ticket


            def how_many(tickets: QuerySet) -> int:
                return len(tickets)


            def f(pk):
                return how_many(Ticket.objects.filter(board_id=pk)), how_many(tickets=Ticket.objects.open())
            """
        ),
        [("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "straight_line_rebinding": (
        module(
            """
            from tests.reachapp.models import Ticket


            def f(pk):
                rows = [status for status in ("open", "closed")]
                if len(rows) > 1:
                    rows = Ticket.objects.filter(board_id=pk, status__in=rows)
                    if rows:
                        return "some"
                return "none"
            """
        ),
        [("QS001", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "get_user_model": (
        module(
            """
            from django.contrib.auth import get_user_model


            def f(active):
                User = get_user_model()
                return bool(User.objects.filter(is_active=active)), len(get_user_model().objects.filter(is_active=active))
            """
        ),
        [("QS001", "safe"), ("QS002", "safe")],
        lambda reach: [(True,), (False,)],
    ),
    "values_distinct_without_any_ordering": (  # Ticket has no Meta.ordering
        module(
            """
            from tests.reachapp.models import Ticket


            def f(pk):
                return len(Ticket.objects.filter(board_id__gte=pk).values("status").distinct())
            """
        ),
        [("QS002", "safe")],
        lambda reach: [(pk,) for pk in reach.boards],
    ),
    "row_use_after_the_truth_test_reads_no_cached_row": (
        module(
            """
            from django.db.models import Exists, OuterRef, Subquery

            from tests.djapp.models import Customer, Order


            def f(pk):
                orders = Order.objects.filter(customer_id=pk)
                if orders:
                    renamed = Customer.objects.filter(orders__in=orders).distinct().update(name="x")
                    owners = Customer.objects.filter(Exists(orders.filter(customer=OuterRef("pk")))).count()
                    listed = list(Customer.objects.filter(pk__in=Subquery(orders.values("customer_id"))))
                    big = orders.filter(total__gt=50).count()
                    updated = orders.update(status="closed")
                    deleted = orders.delete()[0]
                    return renamed, owners, len(listed), big, updated, deleted
                return None
            """
        ),
        [("QS001", "safe")],
        lambda reach: [(pk,) for pk in reach.customers],
    ),
}


@pytest.mark.parametrize("shape", list(SAFE))
def test_newly_typed_shape_keeps_results_and_gets_cheaper(shape, reach):
    before, expected, args = SAFE[shape]
    after = tool_rewrites(before, expected)
    results, counts = each(before, after, args(reach))
    assert len(set(map(repr, results))) > 1  # the calls tell cases apart
    assert all(b == a for b, a in counts)  # as many queries, fewer of them fetching rows


# -- shapes the tool types but fixes only with --unsafe: the unsafe fix, run ----------------------
UNSEEN_LIBRARY_BASE = module(
    """
    from tests.reachapp.models import Sticker


    def f(pk):
        return bool(Sticker.objects.filter(board_id=pk)), len(Sticker.objects.filter(color="red"))
    """
)
FORWARDING_WRAPPER = module(
    """
    from tests.reachapp.loading import get_model

    Ticket = get_model("reach", "Ticket")


    def f(pk):
        return len(Ticket.objects.filter(board_id=pk))
    """
)


@pytest.mark.parametrize(
    "before, reason",
    [
        # the base may bring a manager or a Meta.ordering the typing cannot see
        (UNSEEN_LIBRARY_BASE, "the model inherits from a class the project does not define"),
        # another app may provide the model the wrapper returns
        (FORWARDING_WRAPPER, "only likely a QuerySet"),
    ],
    ids=["model_on_a_library_base_the_typing_cannot_see", "get_model_forwarding_wrapper"],
)
def test_only_likely_model_gets_an_unsafe_fix_that_is_right_here(before, reason, reach):
    codes = [{"bool": "QS001", "len": "QS002"}[call] for call in re.findall(r"\b(bool|len)\(", before)]
    outcome = tool_leaves(before, [(code, "unsafe") for code in codes])
    assert all(reason in f.message for f in outcome.findings)
    after = run_tool(before, unsafe=True).output
    results, _ = each(before, after, [(pk,) for pk in reach.boards])
    assert len(set(map(repr, results))) > 1


PACKAGE_NAME_AS_LABEL = module(
    """
    from django.apps import apps


    def f(pk):
        return bool(apps.get_model("reachapp", "Ticket").objects.filter(board_id=pk))
    """
)


def test_get_model_with_the_package_name_of_a_relabelled_app_is_not_typed(reach):
    outcome = run_tool(PACKAGE_NAME_AS_LABEL, unsafe=True)
    assert outcome.output == PACKAGE_NAME_AS_LABEL and outcome.findings == []
    with pytest.raises(LookupError):  # Django knows the app as `reach` only
        run_code(PACKAGE_NAME_AS_LABEL, "f", reach.boards[0])


QUERYSET_PARAMETER_REUSED = module(
    """
    from django.db.models import QuerySet

    from tests.reachapp.models import Ticket


    def is_empty(tickets: QuerySet[Ticket]) -> bool:
        return not tickets


    def f(pk):
        tickets = Ticket.objects.filter(board_id=pk)
        empty = is_empty(tickets)
        return empty, [t.status for t in tickets]
    """
)


def test_queryset_parameter_a_caller_reuses_stays_unsafe(reach):
    tool_leaves(QUERYSET_PARAMETER_REUSED, [("QS001", "unsafe")])
    after = run_tool(QUERYSET_PARAMETER_REUSED, unsafe=True).output
    assert "return not tickets.exists()" in after
    for pk in reach.boards:
        before, forced = compare_semantics(QUERYSET_PARAMETER_REUSED, after, "f", pk)
        assert forced.result == before.result
        # `not tickets` filled the caller's cache; after exists() the caller's loop queries again
        assert (before.queries, forced.queries) == (1, 2)


STEPPED_SLICE = module(
    """
    from tests.reachapp.models import Ticket


    def f(pk):
        return len(Ticket.objects.filter(board_id=pk).order_by("pk")[::2])
    """
)


def test_stepped_slice_is_a_list_so_count_would_raise(reach):
    outcome = run_tool(STEPPED_SLICE, unsafe=True)
    assert outcome.output == STEPPED_SLICE and outcome.findings == []
    naive = STEPPED_SLICE.replace('len(Ticket.objects.filter(board_id=pk).order_by("pk")[::2])',
                                  'Ticket.objects.filter(board_id=pk).order_by("pk")[::2].count()')
    assert naive != STEPPED_SLICE
    assert run_code(STEPPED_SLICE, "f", reach.boards[0]).result == 2  # 3 tickets, every other one
    with pytest.raises(TypeError):  # list.count() wants the item to count
        run_code(naive, "f", reach.boards[0])


TO_MANY_META_ORDERING = module(
    """
    from tests.reachapp.models import PinnedTag, Tag


    def f():
        return len(Tag.objects.all()), len(PinnedTag.objects.filter(pk__gt=0))
    """
)


def test_meta_ordering_through_a_to_many_relation_count_would_change_the_result(reach):
    # Tag.Meta.ordering = ["tickets__status"] (PinnedTag, a proxy, inherits it): fetching joins
    # the tickets, one row per (tag, ticket); count() drops the ordering and counts tags
    outcome = tool_leaves(TO_MANY_META_ORDERING, [("QS002", "unsafe"), ("QS002", "unsafe")])
    assert all("to-many relation" in f.message for f in outcome.findings)
    before, forced = compare_semantics(TO_MANY_META_ORDERING, run_tool(TO_MANY_META_ORDERING, unsafe=True).output)
    assert before.result == (4, 4)
    assert forced.result == (3, 3)


DISTINCT_REBOUND = module(
    """
    from tests.djapp.models import Order


    def f():
        statuses = Order.objects.values("status")
        statuses = statuses.distinct()
        return len(statuses)
    """
)


def test_distinct_reached_through_rebinding_count_would_change_the_result(reach):
    # Order.Meta.ordering = ["id"]: SELECT DISTINCT status, id gives 5 rows; count() 4 statuses
    outcome = tool_leaves(DISTINCT_REBOUND, [("QS002", "unsafe")])
    assert "distinct" in outcome.findings[0].message
    before, forced = compare_semantics(DISTINCT_REBOUND, run_tool(DISTINCT_REBOUND, unsafe=True).output)
    assert (before.result, forced.result) == (5, 4)


ROWS_ALREADY_FETCHED = module(
    """
    from tests.djapp.models import Order


    def f(pk):
        orders = Order.objects.filter(customer_id=pk)
        totals = [o.total for o in orders]
        if orders:
            return len(orders), sum(totals)
        return 0, 0
    """
)


def test_rows_already_fetched_exists_and_count_gain_nothing(reach):
    outcome = tool_leaves(ROWS_ALREADY_FETCHED, [("QS001", "unsafe"), ("QS002", "unsafe")])
    assert all("rows already fetched" in f.message for f in outcome.findings)
    after = run_tool(ROWS_ALREADY_FETCHED, unsafe=True).output
    assert "if orders.exists():" in after and "orders.count()" in after
    for pk in reach.customers:
        before, forced = compare_semantics(ROWS_ALREADY_FETCHED, after, "f", pk)
        assert forced.result == before.result
        # exists() and count() answer from the result cache the loop filled: no query saved
        assert (before.queries, forced.queries, row_fetches(forced)) == (1, 1, 1)
