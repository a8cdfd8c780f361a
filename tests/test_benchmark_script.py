"""scripts/benchmark.py runs end to end on a tiny project. No timing assertions: only that it
completes, reports every tool with positive ratios, and leaves the corpus alone."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "benchmark.py")

FILES = {
    "shop/__init__.py": "",
    "shop/models.py": """
        from django.db import models


        class Order(models.Model):
            status = models.CharField(max_length=10)
    """,
    "shop/views.py": """
        from .models import Order


        def has_pending():
            if Order.objects.filter(status="pending"):
                return True
            return False


        def open_count():
            return len(Order.objects.filter(status="active"))
    """,
    # django-upgrade rewrites this one (url() -> re_path()): it must happen in the copy only
    "shop/urls.py": """
        from django.conf.urls import url

        from . import views

        urlpatterns = [url(r"^pending/$", views.has_pending)]
    """,
    # a file no tool can parse (Django's own tests have one): reported, not a failed benchmark
    "shop/py2.py": 'print "hello"\n',
    # not scanned by qsfix, so no tool may see it
    "shop/migrations/__init__.py": "",
    "shop/migrations/0001_initial.py": "this is not python(\n",
}


def make_project(root) -> str:
    for rel, text in FILES.items():
        path = root / "tiny" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return str(root / "tiny")


def snapshot(folder: str) -> dict[str, bytes]:
    out = {}
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            full = os.path.join(dirpath, name)
            with open(full, "rb") as handle:
                out[os.path.relpath(full, folder)] = handle.read()
    return out


def load_script():
    spec = importlib.util.spec_from_file_location("qsfix_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_benchmark_runs_on_a_tiny_project(tmp_path):
    project = make_project(tmp_path)
    before = snapshot(project)
    out_json = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, SCRIPT, "--corpus", str(tmp_path), "--projects", "tiny", "--runs", "1",
         "--jobs", "2", "--json", str(out_json)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert snapshot(project) == before  # the corpus is never modified

    bench = load_script()
    for tool in bench.TOOLS:
        assert any(line.startswith(tool) for line in done.stdout.splitlines()), (tool, done.stdout)
    assert "tiny: 5 files" in done.stdout  # migrations/ excluded, as qsfix does
    assert "peak RSS" in done.stdout

    report = json.loads(out_json.read_text())
    result = report["projects"]["tiny"]
    assert result["files"] == 5 and result["lines"] > 0
    assert report["machine"]["cpu_count"] >= 1
    rows = {row["tool"]: row for row in result["rows"]}
    assert set(rows) == set(bench.TOOLS)
    for name, row in rows.items():
        assert row["status"] in ("ok", "warm = cold (no cache)"), (name, row)
        assert len(row["seconds"]) == 1
        for key in ("median", "lines_per_s", "ratio_to_ast", "qsfix_cold_over", "peak_rss_mb"):
            assert isinstance(row[key], (int, float)) and row[key] > 0, (name, key, row[key])
    for name in bench.STAGED:  # the staged review: each command with its ratio to the cold run
        assert rows[name]["over_cold"] > 0 and rows[name]["exit_codes"] == [3], (name, rows[name])
    assert rows[bench.QSFIX_COLD]["over_cold"] is None
    staged_targets = [t for t in result["targets"] if t.startswith("qsfix staged")]
    assert len(staged_targets) == len(bench.STAGED_STEPS)
    assert all(result["targets"][t]["limit"] == 0.25 for t in staged_targets)
    assert rows[bench.AST_PARSE]["ratio_to_ast"] == pytest.approx(1.0)
    assert rows[bench.QSFIX_COLD]["qsfix_cold_over"] == pytest.approx(1.0)
    assert rows[bench.QSFIX_COLD]["exit_codes"] == [3]  # py2.py could not be parsed
    assert "1 file(s) failed to parse" in rows[bench.LIBCST]["note"]
    assert "1 not parsed" in rows[bench.AST_PARSE]["note"]
    assert rows[bench.DJANGO_UPGRADE]["exit_codes"] == [1]  # it rewrote urls.py (in the copy)
    assert any("restored" in note for note in result["notes"])
    assert not any("CORPUS FILES CHANGED" in note for note in result["notes"])


def test_a_missing_tool_gets_a_row_not_a_crash(tmp_path, capsys):
    bench = load_script()
    project = bench.prepare("tiny", make_project(tmp_path), str(tmp_path / "scratch"))
    tools = [
        bench.Tool(bench.QSFIX_COLD, lambda p: [sys.executable, "-c", "pass"], (0,)),
        bench.Tool(bench.QSFIX_WARM, lambda p: [sys.executable, "-c", "pass"], (0,)),
        bench.Tool(bench.DJANGO_UPGRADE, lambda p: ["unused"], (0,), module="no_such_module_qsfix_bench"),
        bench.Tool(bench.LIBCST, lambda p: [sys.executable, "-c", "raise SystemExit(7)"], (0,)),
        bench.Tool(bench.AST_PARSE, lambda p: [sys.executable, "-c", "pass"], (0,)),
    ]
    rows = {r.tool: r for r in bench.bench_project(project, tools, 1, dict(os.environ), lambda m: None)}
    assert rows[bench.DJANGO_UPGRADE].status.startswith("missing")
    assert rows[bench.DJANGO_UPGRADE].median is None
    assert rows[bench.LIBCST].status.startswith("failed: exit 7")
    assert rows[bench.AST_PARSE].median > 0
    table = bench.render(project, list(rows.values()), 1)
    assert "missing" in table and "failed: exit 7" in table and "n/a" in table
