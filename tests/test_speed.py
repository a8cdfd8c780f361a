"""What makes a cold run fast (issue 6) never changes an answer.

- Worker processes keep the trees they parsed for the index and analyse those files; the
  scheduler gives every item to exactly one worker, its owner's first, and reports a worker's
  failure instead of hanging.
- A serial run keeps its trees too (up to a budget): a file is parsed once.
- Functions that name nothing relevant are not walked; the lines that name something are
  found with `str.find`, which must agree with a regular expression's `\\b...\\b`.
- Facts read on demand share the trees the engine keeps (never taking one), and QS008 reads
  the project's writes from the functions that can hold one: the same writes as a full reading.
- Trees are frozen away from the cyclic garbage collector, which is only sound while neither
  indexing nor analysis makes reference cycles: checked here on the samples project.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import time
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codemods import engine, quiet
from codemods.files import read_source, split_lines
from codemods.workers import WorkerError, Workers
from tests import helpers
from codemods.base import EXAMPLE_MODELS
from tests.helpers import REPO, write_project


# -- the scheduler ------------------------------------------------------------------------------
def tag_with_pid(batch):
    return [(os.getpid(), item) for item in batch]


def fail(batch):
    raise ValueError(f"boom in a batch of {len(batch)}")


def die(batch):
    os._exit(7)


def test_every_item_is_done_once_and_first_batches_go_to_their_owners():
    items = list(range(200))
    with Workers(2) as workers:
        pids = [p.pid for p in workers.processes]
        seen = []
        first_batch: dict[int, list] = {}
        for worker, batch, result in workers.schedule(
            tag_with_pid, items, weight=lambda i: 1 + i % 7, owner=lambda i: i % 2,
        ):
            assert [item for _, item in result] == batch
            assert {pid for pid, _ in result} == {pids[worker]}
            first_batch.setdefault(worker, batch)
            seen.extend(batch)
    assert sorted(seen) == items
    assert first_batch.keys() == {0, 1}
    for worker, batch in first_batch.items():
        assert all(item % 2 == worker for item in batch)


def slow_tag_with_pid(batch):
    time.sleep(0.01 * len(batch))  # long enough that an idle worker would take some
    return tag_with_pid(batch)


def test_without_sharing_a_worker_only_runs_its_own_items_and_those_of_nobody():
    items = list(range(40))
    with Workers(2) as workers:
        pids = [p.pid for p in workers.processes]
        ran = {
            item: pid
            for _, batch, result in workers.schedule(
                slow_tag_with_pid, items, weight=lambda i: 1, owner=lambda i: 0 if i < 30 else None, share=False,
            )
            for pid, item in result
        }
    assert sorted(ran) == items
    assert {ran[i] for i in range(30)} == {pids[0]}  # worker 1 had nothing of its own: it waited


def test_items_of_nobody_and_of_an_unknown_worker_are_shared_out():
    with Workers(2) as workers:
        done = [
            item
            for _, batch, _ in workers.schedule(
                tag_with_pid, list(range(30)), weight=lambda i: 1, owner=lambda i: None if i % 3 else 5,
            )
            for item in batch
        ]
    assert sorted(done) == list(range(30))


def test_a_failing_batch_raises_with_the_workers_traceback_and_stops_the_workers():
    workers = Workers(2)
    with pytest.raises(WorkerError, match=r"ValueError: boom in a batch of \d+"):
        with workers:
            list(workers.schedule(fail, list(range(10)), weight=lambda i: 1))
    assert workers.processes == []  # stopped and joined on the way out


def test_a_worker_that_dies_is_an_error_not_a_hang():
    workers = Workers(2)
    processes = list(workers.processes)
    with pytest.raises(WorkerError, match=r"stopped unexpectedly \(exit code 7\)"):
        with workers:
            list(workers.schedule(die, list(range(10)), weight=lambda i: 1))
    assert not any(p.is_alive() for p in processes)


def test_broadcast_reaches_every_worker():
    with Workers(3) as workers:
        workers.broadcast(set_marker, 41)
        results = [r for _, _, r in workers.schedule(read_marker, list(range(6)), weight=lambda i: 1)]
    assert {value for batch in results for value in batch} == {41}


def set_marker(value):
    engine._WORKER["marker"] = value


def read_marker(batch):
    return [engine._WORKER["marker"] for _ in batch]


# -- a file is parsed once ---------------------------------------------------------------------
def samples_copy(tmp_path: Path) -> Path:
    target = tmp_path / "samples"
    shutil.copytree(REPO / "samples", target)
    return target


def run_in(root: Path, **options) -> engine.RunResult:
    return helpers.run_in(root, unsafe=True, **options)


def test_a_serial_run_parses_each_file_once_and_within_the_budget_the_same(tmp_path, monkeypatch):
    root = samples_copy(tmp_path)
    parsed = []
    real = engine.parse_frozen
    monkeypatch.setattr(engine, "parse_frozen", lambda data, name: parsed.append(name) or real(data, name))
    kept = run_in(root, jobs=1)
    assert kept.analysed and parsed == []  # every analysed file had its tree from the index
    monkeypatch.setattr(engine.Trees, "BUDGET", 0)
    again = run_in(root, jobs=1)
    # nothing kept: each file that can hold a finding is parsed again
    assert len(parsed) >= 5 and set(parsed) <= set(again.analysed)
    assert [f.to_json() for f in again.findings] == [f.to_json() for f in kept.findings]
    assert [r.new for r in again.files] == [r.new for r in kept.files]


def test_facts_read_on_demand_share_the_kept_trees_and_the_run_keeps_none(tmp_path, monkeypatch):
    # QS008 reads the writes of every module when it meets a cached view: the modules not yet
    # analysed are read from the trees the index kept (peeked at, left for their analysis)
    files = {
        "shop/models.py": EXAMPLE_MODELS,
        "shop/a_views.py": """\
            from django.views.decorators.cache import cache_page

            from shop.models import Order


            @cache_page(60)
            def orders(request):
                return list(Order.objects.all())
            """,
        **{f"shop/writer{i}.py": f"from shop.models import Order\n\n\ndef close():\n    Order.objects.update(status='{i}')\n"
           for i in range(3)},
    }
    write_project(tmp_path, files)
    shared = []
    real = engine.Trees.peek
    monkeypatch.setattr(engine.Trees, "peek", lambda self, *a: shared.append(real(self, *a)) or shared[-1])
    kept = run_in(tmp_path, jobs=1)
    assert sum(tree is not None for tree in shared) >= 3 and kept.index.trees is None
    monkeypatch.setattr(engine.Trees, "BUDGET", 0)
    again = run_in(tmp_path, jobs=1)  # nothing kept: the facts parse again
    assert [f.to_json() for f in again.findings] == [f.to_json() for f in kept.findings]
    assert [f.line for f in kept.findings if f.code == "QS008"] == [6]


def test_parallel_and_serial_runs_agree_on_a_project_big_enough_for_workers(tmp_path):
    root = samples_copy(tmp_path)
    files = {
        f"shop/gen{i}.py": (
            "from shop.models import Order\n\n\n"
            f"def f{i}():\n    if Order.objects.filter(pk={i}):\n        return len(Order.objects.all())\n"
        )
        for i in range(engine.PARALLEL_THRESHOLD + 5)
    }
    write_project(root, files)
    serial = run_in(root, jobs=1)
    parallel = run_in(root, jobs=2)
    assert [f.to_json() for f in parallel.findings] == [f.to_json() for f in serial.findings]
    assert [r.new for r in parallel.files] == [r.new for r in serial.files]
    assert len(serial.findings) > 2 * len(files)


# -- quiet functions ---------------------------------------------------------------------------
WORDS = st.sampled_from(["Order", "obj", "objects", "é", "x", "_x", "Order2"])
PIECES = st.sampled_from(["Order", "obj", "objects", "_", "é", "1", " ", "\n", "\r\n", "\r", ".", "x", "²", "#"])


LINE_PIECES = st.sampled_from(["a", " ", "\n", "\r\n", "\r", "\x0c", "\x0b", "\x1c", "\x85", "\u2028", "é", "#"])


@settings(max_examples=400, derandomize=True, database=None)
@given(st.lists(LINE_PIECES, max_size=30).map("".join))
def test_split_lines_fast_path_gives_the_tokenizers_lines(text):
    from codemods.files import _LINE

    assert split_lines(text) == _LINE.findall(text)


RUN_PIECES = st.sampled_from(["a", "b", "_", "1", ".", ".filter(", ".all(", "(", ")", " ", "é", "\n", "x.y"])


@settings(max_examples=400, derandomize=True, database=None)
@given(st.lists(RUN_PIECES, max_size=25).map("".join))
def test_builder_runs_are_what_the_regex_finds(text):
    from codemods.index import _BUILDER_RUN, _builder_runs

    segment = text.encode()
    assert _builder_runs(segment) == _BUILDER_RUN.findall(segment)


SET_PIECES = st.sampled_from(["a", "_", "_set", "set", ".", " ", "é", "1", "²", "x_set.", "__set.", "\n"])


@settings(max_examples=500, derandomize=True, database=None)
@given(st.lists(SET_PIECES, max_size=25).map("".join))
def test_set_accessors_are_what_the_word_boundary_expression_finds(text):
    from codemods.querysets import set_accessors

    assert set_accessors(text) == set(re.findall(r"\b(\w+_set)\.", text))


# the one expression the stored-attribute scan was before it became two (and a lookahead)
STORED_IN_ONE = re.compile(
    rb"\n[ \t]*(?:[\w.]*\.(\w+)[ \t]*(?::[ \t]*[\w.\[\], |'\"]+)?[-+*/|&]?=(?!=)|(\w+)[ \t]*:[^=\n,()]*(?=\n))"
    rb"|setattr\([^,)\n]*,\s*['\"](\w+)['\"]"
)
STORED_PIECES = st.sampled_from([
    "\n", "  ", "\t", "x", "a.b", ".", "_", "1", " = ", "==", "+=", "|=", ":", ": int", "[str]", "'", '"',
    ",", "(", ")", "setattr(", "setattr(self, ", "'x'", "setattr(o, 'name'", "é", "\n    self.x = 1",
    "\nname: list",
])


@settings(max_examples=500, derandomize=True, database=None)
@given(st.lists(STORED_PIECES, max_size=30).map("".join))
def test_stored_names_are_what_the_single_expression_finds(text):
    from codemods.index import ModuleSummary, _Summariser

    source = text.encode()
    expected = {(m.group(1) or m.group(2) or m.group(3)).decode() for m in STORED_IN_ONE.finditer(source)}
    summary = ModuleSummary(module="m", path="m.py", is_package=False)
    _Summariser(summary, source).read_stored_names()
    assert summary.stored_names == expected


@settings(max_examples=400, derandomize=True, database=None)
@given(st.lists(PIECES, max_size=40).map("".join), st.sets(WORDS, min_size=1, max_size=4))
def test_lines_naming_agrees_with_a_word_boundary_regex(text, words):
    lines = split_lines(text)
    starts = list(accumulate(map(len, lines), initial=0))
    pattern = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, sorted(words, key=len, reverse=True))))
    expected = sorted({bisect_right(starts, m.start()) for m in pattern.finditer(text)})
    assert quiet.lines_naming(lines, words) == expected


# -- no reference cycles, so freezing trees loses nothing --------------------------------------
def test_indexing_and_analysis_make_no_reference_cycles(tmp_path):
    root = samples_copy(tmp_path)
    run_in(root, jobs=1)  # warm up module-level caches first
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = run_in(root, jobs=1)
        gc.collect()
        garbage = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert result.analysed and any(r.changed for r in result.files)
    assert garbage == []


def test_index_source_makes_no_reference_cycles_on_failing_files_either(tmp_path):
    (tmp_path / "bad.py").write_text("def f(:\n")
    (tmp_path / "good.py").write_text("from django.db import models\nclass A(models.Model):\n    pass\n")
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        items = [engine.index_source(read_source(str(p))) for p in sorted(tmp_path.glob("*.py"))]
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert [bool(i.error) for i in items] == [True, False]
    assert garbage == []


# -- the cheap checks are a superset ---------------------------------------------------------
def load_script(name: str):
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(f"qsfix_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("folder", ["samples", "tests/data/sweep"])
def test_the_cheap_checks_never_hide_a_finding(folder, tmp_path):
    # the corpus-wide run is scripts/prefilter_check.py; here a slice: the samples project
    # and the sweep's small library, which between them reach every pass
    root = tmp_path / "project"
    shutil.copytree(REPO / folder, root)
    row = load_script("prefilter_check").compare(str(root))
    assert row["missing"] == [] and row["extra"] == []
    assert row["full"] == row["cheap"] >= 20
    assert engine.PREFILTER is True  # restored


def test_a_function_saying_global_is_never_quiet(tmp_path):
    # `patch` names nothing relevant, but rebinds `count_rows`: a parameter is typed from the
    # callers only of a function bound once, so skipping `patch` made a fix the full reading
    # does not make
    write_project(tmp_path / "project", {"shop/models.py": EXAMPLE_MODELS, "shop/services.py": """\
        from shop.models import Order


        def count_rows(orders):
            if orders.filter(status="x"):
                return 1


        def caller():
            count_rows(Order.objects.all())


        def patch():
            global count_rows
            count_rows = print
        """})
    row = load_script("prefilter_check").compare(str(tmp_path / "project"))
    assert row["missing"] == [] and row["extra"] == [] and row["files"] == 3


def test_without_the_cheap_checks_quiet_functions_are_analysed_too(tmp_path, monkeypatch):
    # the switch the script uses really turns the checks off
    write_project(tmp_path, {"shop/a.py": "def f(x):\n    return len(x)\n"})
    calls = []
    real = quiet.quiet_definitions
    monkeypatch.setattr(engine, "quiet_definitions", lambda *a: calls.append(a[-1]) or real(*a))  # the word list
    monkeypatch.setattr(engine, "PREFILTER", False)
    run_in(tmp_path, jobs=1)
    assert None in calls  # no word list: nothing skipped


# QS008 reads the project's writes from the functions that name a write method only: typing a
# write's receiver never reads another function's body. Shapes where it might: a module name
# bound by `global` elsewhere, a closure, `self` of a model, a nested class, a decorator.
WRITE_SHAPES = {
    "shop/models.py": EXAMPLE_MODELS,
    "shop/writes.py": """\
        from django.contrib import admin

        from shop import models
        from shop.models import Order, OrderItem

        current = None


        def remember(pk):
            global current
            current = Order.objects.get(pk=pk)


        def close():
            current.save()


        def close_one(order):
            order.items.filter(quantity=0).delete()


        def close_first():
            close_one(Order.objects.get(pk=1))


        def patch():
            global close_one
            close_one = print


        def outer(pk):
            order = Order.objects.get(pk=pk)

            def inner():
                order.delete()
            return inner


        class Shop(models.Order):
            def touch(self):
                self.save()

            class Inner:
                def run(self):
                    OrderItem.objects.bulk_create([])


        @admin.register(OrderItem)
        class ItemAdmin(admin.ModelAdmin):
            pass


        def lookup(pk):
            return Order.objects.filter(pk=pk)


        def via_function(pk):
            lookup(pk).update(status="x")


        Order.objects.filter(status="old").delete()
        """,
}


def write_facts(root: Path) -> tuple[list, list, int]:
    """Every write call's typing, as QS008 reads it and with every body read; the bodies skipped."""
    from codemods import qs008_cache_page_without_invalidation as qs008
    from codemods.querysets import ChainTyper

    index = run_in(root, jobs=1).index
    rows, skipped = [], 0
    for words in (qs008.ModuleReader.words, lambda self, data: None):  # as run; every body read
        index.module_facts.clear()  # each module's writes are read again, with these words
        index._qs008_reader = reader = qs008.ModuleReader(index, ChainTyper(index))
        reader.words = words.__get__(reader)
        facts = qs008.ProjectFacts(index, reader.chains)
        found = []
        for summary in facts.project_modules():
            analysis = reader.analyse(summary)
            skipped += len(analysis.scopes.skip_bodies) if analysis is not None else 0
            for call in qs008.write_calls(analysis) if analysis is not None else ():
                receiver = analysis.type_of(call.func.value)
                found.append(("call", summary.module, call.lineno, call.func.attr, receiver.kind,
                              receiver.model, receiver.confidence, reader.written_model(analysis, call)))
            found.extend(("write", summary.module, *row) for row in facts.fact("writes", summary))
        rows.append(sorted(found, key=repr))
    return rows[0], rows[1], skipped


@pytest.mark.parametrize("folder", ["tests/data/sweep", "shapes"])
def test_qs008_reads_the_same_writes_without_the_bodies_that_name_no_write(folder, tmp_path):
    root = tmp_path / "project"
    if folder == "shapes":
        write_project(root, WRITE_SHAPES)
    else:
        shutil.copytree(REPO / folder, root)
    quick, full, skipped = write_facts(root)
    assert quick == full
    assert len([row for row in full if row[0] == "write"]) >= 4 and skipped >= 2  # writes found, bodies unread


QUERYSET_READS = '''\
from django.views.generic import ListView

from shop import views
from shop.models import Order


def helper():
    return views.OrderList.queryset.filter(pk=1)


@decorate(source=views.Archive.queryset)
class Orders(ListView):
    queryset = Order.objects.all()

    def get(self, request):
        return len(self.queryset)

    def other(self):
        return 1

    def get_queryset(self):
        return (self)  .queryset

    def post(self, request):
        self.queryset = self.queryset.filter(pk=2)
        return self.queryset.count()


class Form:
    def __init__(self):
        self.fields["x"].queryset = Order.objects.none()

    def unrelated(self):
        return self.get_queryset()


@decorate(source=views.Other.queryset)
class Plain:
    pass


urlpatterns = [views.Archive.as_view(queryset=Order.objects.none())]
'''


def _queryset_facts(summary):
    classes = {
        name: (cls.queryset_reads, cls.queryset_assigned, cls.get_queryset_returns_attr)
        for name, cls in summary.classes.items()
    }
    return summary.class_queryset_reads, summary.as_view_querysets, classes


@pytest.mark.parametrize("folder", ["samples", "reads"])
def test_the_index_reads_queryset_uses_only_where_the_text_names_them_and_misses_none(folder, tmp_path):
    # the summariser looks for `.queryset` reads only in statements (and methods) whose text
    # names them; without the text (`source=b""`) it walks everything: the facts are the same
    import ast

    from codemods.index import summarise

    if folder == "reads":
        paths = [tmp_path / "shop" / "urls.py"]
        write_project(tmp_path, {"shop/__init__.py": "", "shop/urls.py": QUERYSET_READS})
    else:
        paths = sorted((REPO / folder).rglob("*.py"))
    compared = 0
    for path in paths:
        data = path.read_bytes()
        tree = ast.parse(data)
        gated, walked = summarise(str(path), data, tree), summarise(str(path), b"", tree)
        assert _queryset_facts(gated) == _queryset_facts(walked), path
        compared += bool(gated.class_queryset_reads or gated.as_view_querysets
                         or any(c.queryset_reads or c.queryset_assigned for c in gated.classes.values()))
    assert compared >= 1
    if folder == "reads":
        reads, as_view, classes = _queryset_facts(gated)
        assert reads == {"shop.views.OrderList", "shop.views.Archive", "shop.views.Other"} and as_view == {"shop.views.Archive"}
        assert classes["Orders"] == ([("get", 16), ("get_queryset", 22)], ["post"], True)
