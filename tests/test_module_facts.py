"""Facts a pass reads in other modules (`ProjectIndex.module_fact`; QS008's writes).

A serial run makes each when first asked, once. A parallel run analyses the files that may ask
(`ModuleFacts.asked_by`) first, has what they asked for made by the worker holding each
module's tree, sends the facts to every worker and analyses those files again: the same
findings as a serial run, each fact made once, in its owner when that worker is free.
"""

from __future__ import annotations

import os
from pathlib import Path

from codemods import engine, registry
from codemods.base import EXAMPLE_MODELS
from codemods.index import ProjectIndex
from tests.helpers import run_in, write_project

WRITERS = 2 * engine.PARALLEL_THRESHOLD


def cached_project(root: Path) -> None:
    files = {
        "shop/models.py": EXAMPLE_MODELS,
        "shop/views.py": """\
            from django.views.decorators.cache import cache_page

            from shop.models import Customer, Order


            @cache_page(60)
            def orders(request):
                return list(Order.objects.all())


            @cache_page(60)
            def customers(request):
                return list(Customer.objects.all())
            """,
        **{
            f"shop/writer{i}.py": (
                "from shop.models import Customer, Order\n\n\n"
                f"def close():\n    Order.objects.filter(pk={i}).update(status='closed')\n"
                + (f"\n\ndef rename():\n    Customer.objects.filter(pk={i}).update(name='x')\n" if i % 2 else "")
            )
            for i in range(WRITERS)
        },
    }
    write_project(root, files)


def test_a_fact_is_made_once_and_while_gathering_only_noted():
    index = ProjectIndex()
    made = []
    a, b = ("QS008", "writes", "shop.a"), ("QS008", "writes", "shop.b")
    assert index.module_fact(a, lambda: made.append(1) or ["row"]) == ["row"]
    assert index.module_fact(a, lambda: made.append(1) or ["other"]) == ["row"]
    assert made == [1]
    index.asking = set()
    assert index.module_fact(b, lambda: made.append(2) or ["row"]) is None
    assert index.module_fact(a, lambda: ["other"]) == ["row"]  # known: no question
    assert index.asking == {b} and made == [1]


def test_the_files_that_may_ask_are_declared_by_their_pass():
    declared = [info.code for info in registry.PASSES if info.module_facts is not None]
    assert declared == ["QS008"]
    asks = registry.get_pass("QS008").module_facts.asked_by
    assert asks(type("Summary", (), {"page_cache": True})()) and not asks(type("Summary", (), {"page_cache": False})())


def test_a_parallel_run_has_the_writes_made_where_the_trees_are_and_finds_what_a_serial_run_finds(
    tmp_path, monkeypatch
):
    cached_project(tmp_path)
    serial = run_in(tmp_path, jobs=1)
    log = tmp_path.parent / f"{tmp_path.name}.log"
    real = engine._worker_module_facts

    def logged(keys):  # runs in the workers (forked after this patch): they append to one file
        with open(log, "a") as handle:
            handle.writelines(f"{os.getpid()} {what} {module}\n" for _, what, module in keys)
        return real(keys)

    logged.__qualname__ = logged.__name__ = "_worker_module_facts"  # sent to the workers by name
    logged.__module__ = engine.__name__
    monkeypatch.setattr(engine, "_worker_module_facts", logged)
    parallel = run_in(tmp_path, jobs=2)

    assert [f.to_json() for f in parallel.findings] == [f.to_json() for f in serial.findings]
    qs008 = [f for f in serial.findings if f.code == "QS008"]
    assert [f.line for f in qs008] == [6, 11]
    assert f"and {WRITERS - 3} more" in qs008[0].message and f"and {WRITERS // 2 - 3} more" in qs008[1].message
    made = [line.split() for line in log.read_text().splitlines()]
    writes = sorted(module for _, what, module in made if what == "writes")
    assert writes == sorted(f"shop.writer{i}" for i in range(WRITERS))  # each once
    assert [module for _, what, module in made if what == "urls"] == ["shop.views"]
    assert len({pid for pid, _, _ in made}) == 2  # both workers made some: each those of its trees


def test_only_the_files_that_asked_are_analysed_again(tmp_path, monkeypatch):
    # the cached views are analysed first (they ask for URLconfs, receivers and writes),
    # then again once the facts are known; every other file once, after them
    cached_project(tmp_path)
    log = tmp_path.parent / f"{tmp_path.name}.log"
    real = engine._worker_analyse

    def logged(batch):
        with open(log, "a") as handle:
            handle.writelines(f"{source.path}\n" for _, source in batch)
        return real(batch)

    logged.__qualname__ = logged.__name__ = "_worker_analyse"
    logged.__module__ = engine.__name__
    monkeypatch.setattr(engine, "_worker_analyse", logged)
    result = run_in(tmp_path, jobs=2)
    analysed = log.read_text().splitlines()
    views = os.path.join("shop", "views.py")
    assert analysed[0] == views and analysed.count(views) == 2
    assert sorted(analysed) == sorted([*result.analysed, views])
    assert [f.line for f in result.findings if f.code == "QS008"] == [6, 11]


def test_workers_read_the_bytes_the_run_read_never_the_disk_again(tmp_path, monkeypatch):
    # a writer module emptied on disk after it was read: its writes still count, as they do
    # in a serial run (facts come from the bytes being judged)
    cached_project(tmp_path)
    serial = run_in(tmp_path, jobs=1)
    real = engine._plan

    def plan_then_edit(state):
        real(state)
        for i in range(WRITERS):
            (tmp_path / f"shop/writer{i}.py").write_text("")

    monkeypatch.setattr(engine, "_plan", plan_then_edit)
    parallel = run_in(tmp_path, jobs=2)
    assert [f.to_json() for f in parallel.findings] == [f.to_json() for f in serial.findings]
    assert [f.line for f in parallel.findings if f.code == "QS008"] == [6, 11]


def test_a_fact_that_fails_costs_the_file_that_asked_not_the_run(tmp_path, monkeypatch):
    # a bug reading one module's writes: with -j, as in a serial run, the cached view's file
    # is reported as an internal error and every other file is analysed
    from codemods import qs008_cache_page_without_invalidation as qs008

    cached_project(tmp_path)
    real = qs008.ModuleReader.writes

    def broken(self, summary):
        if summary.module == "shop.writer7":
            raise KeyError("boom")
        return real(self, summary)

    monkeypatch.setitem(qs008.READS, "writes", broken)
    serial = run_in(tmp_path, jobs=1)
    parallel = run_in(tmp_path, jobs=2)
    for result in (serial, parallel):
        failed = [(r.path, r.error) for r in result.files if r.error]
        assert failed == [(os.path.join("shop", "views.py"), failed[0][1])]
        assert "internal error" in failed[0][1] and "KeyError" in failed[0][1]
    assert [f.to_json() for f in parallel.findings] == [f.to_json() for f in serial.findings]
