"""The cache: a warm run answers from it, an edit re-analyses what depends on it and nothing
else, and results never depend on the cache or on the number of processes."""

import json
import os
import sys
from pathlib import Path

from click.testing import CliRunner

from cli import main
from codemods import cache as cache_mod
from codemods import engine
from codemods.base import EXAMPLE_MODELS
from tests.helpers import run_in, write_project

FILES = {
    "shop/models.py": EXAMPLE_MODELS,
    "shop/services.py": """\
        from shop.models import Order


        def f():
            return len(Order.objects.filter(status="x"))
        """,
    "shop/reports.py": """\
        from shop.services import f


        def g():
            return f() + 1
        """,
    "blog/posts.py": """\
        def h(items):
            if items:
                return len(items)
        """,
}


def run(root, **options):
    return run_in(root, use_cache=True, **options)


def test_warm_run_answers_from_the_cache(tmp_path):
    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("")
    cold = run(tmp_path)
    assert sorted(cold.analysed) == sorted(str(Path(p)) for p in ["blog/__init__.py", "blog/posts.py", "shop/__init__.py", "shop/models.py", "shop/reports.py", "shop/services.py"])
    warm = run(tmp_path)
    assert warm.analysed == []
    assert [f.to_json() for f in warm.findings] == [f.to_json() for f in cold.findings]
    assert (tmp_path / ".qsfix_cache" / ".gitignore").read_text().endswith("*\n")


def test_editing_a_model_file_reanalyses_its_dependents_only(tmp_path):
    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("")
    run(tmp_path)
    models = tmp_path / "shop" / "models.py"
    models.write_text(models.read_text() + "\n\nclass Tag(models.Model):\n    name = models.CharField(max_length=5)\n")
    warm = run(tmp_path)
    # services imports models, reports imports services; blog imports nothing of them
    assert sorted(warm.analysed) == ["shop/models.py", "shop/reports.py", "shop/services.py"]


def test_keep_names_is_part_of_the_key_and_the_other_options_are_not(tmp_path):
    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("")
    run(tmp_path)
    assert run(tmp_path, unsafe=True, all_views=True, select=frozenset({"QS001"})).analysed == []
    # --keep-names changes QS004's plan (its units and skips): analysed apart
    assert run(tmp_path, keep_names=True).analysed != []
    assert run(tmp_path, keep_names=True).analysed == []


def test_each_python_version_has_cache_files_of_its_own(tmp_path, monkeypatch):
    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("")
    run(tmp_path)
    [results] = [p.name for p in (tmp_path / ".qsfix_cache").glob("*.pickle") if "summaries" not in p.name]
    assert results.endswith("-py{}.{}.pickle".format(*sys.version_info[:2]))
    other = (3, 99) if sys.version_info[:2] != (3, 99) else (3, 98)
    monkeypatch.setattr(cache_mod.sys, "version_info", other)
    monkeypatch.setattr(engine.sys, "version_info", other)
    assert len(run(tmp_path).analysed) == 6  # nothing another interpreter wrote is read
    assert len(list((tmp_path / ".qsfix_cache").glob("*.pickle"))) == 4
    monkeypatch.undo()
    assert run(tmp_path).analysed == []  # and it did not undo this interpreter's cache


def test_same_findings_with_and_without_cache_and_jobs(tmp_path, monkeypatch):
    files = dict(FILES)
    for i in range(45):  # enough files for the process pool to be used
        files[f"shop/gen{i}.py"] = f"from shop.models import Order\n\n\ndef f{i}():\n    if Order.objects.filter(pk={i}):\n        return len(Order.objects.all())\n"
    write_project(tmp_path, files)
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    outputs = []
    for args in (["--no-cache", "-j", "1"], ["--no-cache", "-j", "2"], ["-j", "2"], ["-j", "1"], ["-j", "2"]):
        result = runner.invoke(main, ["check", "--format", "json", *args, "."])
        assert result.exit_code == 1, result.output
        outputs.append(json.loads(result.stdout)["findings"])
    assert all(o == outputs[0] for o in outputs)
    assert len(outputs[0]) == 2 * 45 + 1


def test_a_damaged_cache_is_ignored(tmp_path):
    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("")
    run(tmp_path)
    for entry in (tmp_path / ".qsfix_cache").glob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    again = run(tmp_path)
    assert len(again.analysed) == 6
    assert [f.code for f in again.findings] == ["QS002"]


def test_stdin_source_is_analysed_with_the_project_index(tmp_path, monkeypatch):
    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    source = b"from shop.models import Order\nn = len(Order.objects.all())\n"
    result = engine.run([], engine.Options(), stdin=("shop/new_module.py", source))
    [file_result] = result.files
    assert file_result.path == "shop/new_module.py"
    assert file_result.new == b"from shop.models import Order\nn = Order.objects.all().count()\n"
    assert not (tmp_path / "shop" / "new_module.py").exists()


# -- the summaries are read only when the index must be built ----------------------------------
def summaries_file(root: Path) -> Path:
    [path] = (root / ".qsfix_cache").glob("*-summaries.pickle")
    return path


def test_a_run_where_nothing_changed_reads_no_summaries_and_builds_no_index(tmp_path, monkeypatch):
    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("")
    cold = run(tmp_path)

    def refuse(self):
        raise AssertionError("the summaries were read")

    monkeypatch.setattr(cache_mod.Cache, "summaries", property(refuse))
    warm = run(tmp_path)
    assert warm.analysed == [] and warm.index is None
    assert [f.to_json() for f in warm.findings] == [f.to_json() for f in cold.findings]
    assert [r.path for r in warm.files] == [r.path for r in cold.files]


def test_an_interactive_review_of_a_cached_run_needs_no_index(tmp_path):
    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("")
    cold = run(tmp_path)
    warm = run(tmp_path)
    assert warm.index is None
    [finding] = warm.findings
    path = str(Path("shop/services.py"))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        [preview] = engine.rerun(warm, engine.Options(accept=frozenset({finding.key})), [path])
        [expected] = engine.rerun(cold, engine.Options(accept=frozenset({finding.key})), [path])
    finally:
        os.chdir(cwd)
    assert warm.index is None  # the cached analysis holds the edits: no index, no analysis
    assert preview.new == expected.new and b".count()" in preview.new


def test_a_lost_summaries_file_costs_parsing_never_a_wrong_answer(tmp_path):
    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("")
    run(tmp_path)
    summaries_file(tmp_path).unlink()
    reports = tmp_path / "shop" / "reports.py"
    reports.write_text(reports.read_text() + "\n\ndef k():\n    return 2\n")
    warm = run(tmp_path)
    assert warm.analysed == ["shop/reports.py"]
    fresh = engine.run([str(tmp_path)], engine.Options())
    assert [(f.code, f.line) for f in warm.findings] == [(f.code, f.line) for f in fresh.findings]
    assert summaries_file(tmp_path).exists()  # written again, with every file's summary
    assert run(tmp_path).analysed == []


# -- one analysis serves every option set ------------------------------------------------------
STAGED = {
    "shop/models.py": EXAMPLE_MODELS,
    "shop/constants.py": """\
        from shop.models import Order

        ACTIVE = Order.objects.filter(status="active")
        """,
    "shop/uses.py": """\
        from shop.constants import ACTIVE
        from shop.models import Order


        def any_active():
            if ACTIVE:
                return True
            return len(Order.objects.all())


        def listed():
            orders = Order.objects.all()
            if orders:
                return list(orders)


        def quiet():
            if Order.objects.all():  # noqa: QS001
                return 1
        """,
    "shop/views.py": """\
        from django.views.generic import ListView

        from shop.constants import ACTIVE
        from shop.models import Order


        class OrderList(ListView):
            queryset = Order.objects.filter(status="active")


        class ActiveList(ListView):
            queryset = ACTIVE
        """,
}

USES_FIXED = """\
from shop.constants import active
from shop.models import Order


def any_active():
    if active().exists():
        return True
    return Order.objects.all().count()


def listed():
    orders = Order.objects.all()
    if orders:
        return list(orders)


def quiet():
    if Order.objects.all():  # noqa: QS001
        return 1
"""

# (what the command is, the options): a staged review, then the options that turn a
# finding's fix on or off (unsafe, --all-views, QS004 not selected)
STAGES = [
    ("diff", dict()),
    ("check --unsafe --show-skipped", dict(unsafe=True, build_fixes=False)),
    ("check --select QS001", dict(select=frozenset({"QS001"}), build_fixes=False)),
    ("diff --all-views --unsafe", dict(all_views=True, unsafe=True)),
    ("diff --ignore QS004 --all-views", dict(ignore=frozenset({"QS004"}), all_views=True)),
    ("diff --select QS004", dict(select=frozenset({"QS004"}))),
    ("diff --select QS001,QS004 --unsafe", dict(select=frozenset({"QS001", "QS004"}), unsafe=True)),
]


def outcome(result: engine.RunResult) -> tuple[list, dict]:
    return [f.to_json() for f in result.findings], {r.path: r.new for r in result.files}


def test_a_staged_review_analyses_once_and_answers_as_an_uncached_run(tmp_path):
    write_project(tmp_path, STAGED)
    (tmp_path / "pyproject.toml").write_text("")
    cold = run(tmp_path, build_fixes=False)  # `check`
    assert len(cold.analysed) == 5
    for command, options in STAGES:
        staged = run(tmp_path, **options)
        assert staged.analysed == [], command
        assert outcome(staged) == outcome(run_in(tmp_path, **options)), command
    staged = run(tmp_path)
    assert staged.analysed == []
    assert {r.path for r in staged.changed} == {str(Path(p)) for p in ["shop/constants.py", "shop/uses.py", "shop/views.py"]}
    [uses] = [r for r in staged.files if r.path == str(Path("shop/uses.py"))]
    assert uses.new.decode() == USES_FIXED


def test_options_only_choose_among_the_findings(tmp_path):
    write_project(tmp_path, STAGED)
    (tmp_path / "pyproject.toml").write_text("")
    run(tmp_path)

    def shown(**options) -> list[tuple[str, int, bool, object]]:
        result = run(tmp_path, **options)
        assert result.analysed == []
        return [(f.code, f.line, bool(f.fix and f.fix.applied), f.skip_reason)
                for f in result.findings
                if f.path == str(Path("shop/views.py")) or (f.path == str(Path("shop/uses.py")) and f.line in (6, 13))]

    not_stale = ("not stale: the view clones a class-level queryset per request "
                 "(get_queryset() calls .all()); --all-views moves it anyway")
    assert shown() == [
        ("QS001", 6, True, None), ("QS001", 13, False, "unsafe fix: applied only with --unsafe"),
        ("QS004", 3, True, None), ("QS003", 8, False, not_stale), ("QS003", 12, False, not_stale),
    ]
    assert shown(all_views=True, unsafe=True, ignore=frozenset({"QS004"})) == [
        ("QS001", 6, False, "a module-level QuerySet is shared by every caller; QS004 makes it a factory first"),
        ("QS001", 13, True, None),
        ("QS003", 8, True, None),
        ("QS003", 12, False, "built from module-level ACTIVE, which is not made a factory (QS004 is not selected)"),
    ]
    assert shown(all_views=True) == [
        ("QS001", 6, True, None), ("QS001", 13, False, "unsafe fix: applied only with --unsafe"),
        ("QS004", 3, True, None), ("QS003", 8, True, None), ("QS003", 12, True, None),
    ]


def test_a_qs004_unit_is_chosen_alike_in_every_file(tmp_path):
    write_project(tmp_path, STAGED)
    (tmp_path / "pyproject.toml").write_text("")
    run(tmp_path, build_fixes=False)
    for _, options in STAGES:
        result = run(tmp_path, **options)
        units: dict[str, set[bool]] = {}
        for f in result.findings:
            if f.code == "QS004":
                units.setdefault(f.key, set()).add(f.fix.applied)
        assert all(len(applied) == 1 for applied in units.values()), options
        assert bool(units) == ("QS004" in {c.code for c in engine.Options(**options).passes})


def test_a_built_text_is_kept_for_the_next_run(tmp_path, monkeypatch):
    write_project(tmp_path, STAGED)
    (tmp_path / "pyproject.toml").write_text("")
    run(tmp_path, build_fixes=False)
    first = run(tmp_path)  # builds the texts from the cached edits
    monkeypatch.setattr(engine, "build_text", lambda *args: (_ for _ in ()).throw(AssertionError("text built")))
    again = run(tmp_path)
    assert again.analysed == [] and outcome(again) == outcome(first)


def test_edits_the_cache_could_not_keep_cost_an_analysis_of_the_changed_files_only(tmp_path, monkeypatch):
    write_project(tmp_path, STAGED)
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.setattr(cache_mod, "dump_edits", lambda edits: None)
    run(tmp_path, build_fixes=False)
    staged = run(tmp_path)
    assert sorted(staged.analysed) == sorted(str(Path(p)) for p in ["shop/constants.py", "shop/uses.py", "shop/views.py"])
    monkeypatch.undo()
    assert outcome(staged) == outcome(run_in(tmp_path))


def test_kept_edits_rebuild_the_same_text(tmp_path):
    write_project(tmp_path, STAGED)
    (tmp_path / "pyproject.toml").write_text("")
    fresh = run_in(tmp_path, unsafe=True, all_views=True)
    for source, analysed in fresh.analyses.values():
        blob = cache_mod.dump_edits(analysed.edit_lists())
        assert blob is not None, source.path
        kept = engine.Analysed(analysed.findings, blob=blob)
        assert engine.present(source, kept, engine.Options(unsafe=True, all_views=True)).new == \
            engine.present(source, analysed, engine.Options(unsafe=True, all_views=True)).new


def test_a_staged_review_on_the_command_line_analyses_each_file_once(tmp_path, monkeypatch):
    write_project(tmp_path, STAGED)
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    analysed = []
    analyse_file = engine.analyse_file
    monkeypatch.setattr(engine, "analyse_file", lambda source, *a: analysed.append(source.path) or analyse_file(source, *a))
    commands = [["check"], ["diff"], ["check", "--unsafe", "--show-skipped"], ["check", "--select", "QS001"]]
    staged = [runner.invoke(main, [*args, "."]) for args in commands]
    assert len(analysed) == 5  # the first `check`, and nothing after
    for args, result in zip(commands, staged):
        uncached = runner.invoke(main, [*args, "--no-cache", "."])
        assert (result.exit_code, result.stdout, result.stderr) == (uncached.exit_code, uncached.stdout, uncached.stderr)
    assert "+    if active().exists():" in staged[1].stdout


def test_a_cached_analysis_names_files_as_this_run_does(tmp_path, monkeypatch):
    write_project(tmp_path, STAGED)
    (tmp_path / "pyproject.toml").write_text("")
    run(tmp_path)  # from the project root: `shop/uses.py`
    monkeypatch.chdir(tmp_path / "shop")
    cached = engine.run([".."], engine.Options(use_cache=True))
    fresh = engine.run([".."], engine.Options())
    assert cached.analysed == []
    assert [f.to_json() for f in cached.findings] == [f.to_json() for f in fresh.findings]
    assert {f.path for f in cached.findings} == {r.path for r in cached.files if r.findings}


def test_a_cache_made_by_other_code_is_not_read(tmp_path, monkeypatch):
    """A pass added or changed without a new version number must not be answered from a
    cache that other code made (the cache is keyed by a digest of the tool's own source)."""
    from codemods import cache as cache_mod

    write_project(tmp_path, {"shop/models.py": EXAMPLE_MODELS, "shop/uses.py": "def f(qs):\n    return 1\n"})
    first = run_in(tmp_path, use_cache=True)
    assert first.analysed
    assert run_in(tmp_path, use_cache=True).analysed == []
    monkeypatch.setattr(cache_mod, "_TOOL_VERSION", [cache_mod.tool_version() + "-edited"])
    assert sorted(run_in(tmp_path, use_cache=True).analysed) == sorted(first.analysed)


# -- a QuerySet parameter is typed by its callers: a caller's change reaches a cached result --------
def test_a_cached_run_sees_a_caller_that_starts_reusing_the_queryset(tmp_path):
    reports = (
        "from django.db.models import QuerySet\n\n\ndef how_many(orders: QuerySet) -> int:\n"
        "    return len(orders)\n"
    )
    caller = "from shop.models import Order\nfrom shop.reports import how_many\n\n\ndef f():\n{body}"
    fresh = "    return how_many(Order.objects.all())\n"
    reused = "    orders = Order.objects.all()\n    return how_many(orders), list(orders)\n"
    write_project(tmp_path, {**FILES, "shop/reports.py": reports, "shop/caller.py": caller.format(body=fresh)})
    (tmp_path / "pyproject.toml").write_text("")

    def applicability():
        result = run(tmp_path)
        return [f.fix.applicability for f in result.findings if f.path == "shop/reports.py"]

    assert applicability() == ["safe"]
    (tmp_path / "shop" / "caller.py").write_text(caller.format(body=reused))
    assert applicability() == ["unsafe"]


# -- typing reads models in modules a file need not import: a change there reaches a cached result --
def test_a_cached_run_sees_a_new_model_served_by_a_queryset_class(tmp_path):
    managers = (
        "from django.db import models\n\n\nclass NoteQuerySet(models.QuerySet):\n"
        "    def with_text(self):\n        return len(self.exclude(text=''))\n"
    )
    notes = (
        "from django.db import models\n\nfrom notes.managers import NoteQuerySet\n\n\n"
        "class Note(models.Model):\n    text = models.TextField()\n    objects = NoteQuerySet.as_manager()\n\n\n"
        "class Mark(models.Model):\n    note = models.ForeignKey(Note, related_name='marks', on_delete=models.CASCADE)\n"
    )
    proxy = "\n\nclass RankedNote(Note):\n    class Meta:\n        proxy = True\n        ordering = ['marks__id']\n"
    write_project(tmp_path, {"notes/managers.py": managers, "notes/models.py": notes})
    (tmp_path / "pyproject.toml").write_text("")

    def applicability():
        return [f.fix.applicability for f in run(tmp_path).findings if f.path == "notes/managers.py"]

    assert applicability() == ["safe"]
    # RankedNote.objects.with_text(): len() counts (note, mark) rows, count() notes
    (tmp_path / "notes" / "models.py").write_text(notes + proxy)
    assert applicability() == ["unsafe"]


def test_a_cached_run_sees_a_meta_ordering_through_a_to_many_relation(tmp_path):
    tags = (
        "from django.db import models\n\nfrom shop.models import Order\n\n\n"
        "class Tag(models.Model):\n    orders = models.ManyToManyField(Order, related_name='tags')\n"
    )
    view = "from shop.models import Order\n\n\ndef f(order: Order):\n    return len(order.tags.all())\n"
    write_project(tmp_path, {**FILES, "tags/models.py": tags, "shop/views.py": view})
    (tmp_path / "pyproject.toml").write_text("")

    def applicability():
        return [f.fix.applicability for f in run(tmp_path).findings if f.path == "shop/views.py"]

    assert applicability() == ["safe"]
    (tmp_path / "tags" / "models.py").write_text(tags + "\n    class Meta:\n        ordering = ['orders__id']\n")
    assert applicability() == ["unsafe"]


RELATION_NAMES = {
    "shop/models.py": """\
        from django.db import models


        class Event(models.Model):
            name = models.CharField(max_length=10)


        class Item(models.Model):
            event = models.ForeignKey(Event, related_name="items", on_delete=models.CASCADE)
        """,
    "shop/forms.py": """\
        class EventForm:
            def choices(self):
                return len(self.thing.items.all())
        """,
    "misc/notes.py": "VALUE = 1\n",
}


def test_typing_by_relation_name_is_redone_when_another_module_defines_or_stores_the_name(tmp_path):
    # `self.thing.items.all()` is typed by the relation name `items` (an unsafe fix); a module
    # the form does not import then gives something else an `items` attribute: a warm run
    # must judge the form again, as a cold run would
    write_project(tmp_path, RELATION_NAMES)
    (tmp_path / "pyproject.toml").write_text("")
    notes = tmp_path / "misc" / "notes.py"

    def fixes(result):
        return [f.code for f in result.findings if f.path.endswith("forms.py") and f.fix is not None]

    assert fixes(run(tmp_path)) == ["QS002"]
    for edit in ("class Box:\n    def items(self):\n        return []\n", "def f(box):\n    box.items = []\n"):
        notes.write_text(edit)
        warm = run(tmp_path)
        assert fixes(warm) == [] and str(Path("shop/forms.py")) in warm.analysed, edit
        assert fixes(run_in(tmp_path, use_cache=False)) == []
        notes.write_text("VALUE = 1\n")
        assert fixes(run(tmp_path)) == ["QS002"]
