"""scripts/recall.py on a made-up project and labels file: the exact table numbers, the
re-anchoring of a site whose line moved, and the errors for a missing project or a bad label.
No corpus needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "recall.py")
HEADER = "project\tpath\tline\tcode\tlabel\tsource\treason\n"

VIEWS = """\
    from .models import Order


    def has_pending():
        if Order.objects.filter(status="pending"):
            return True
        return False


    def open_rows():
        rows = Order.objects.filter(status="open")
        if len(rows) == 0:
            return []
        return [row.pk for row in rows]


    def statuses():
        items = list(Order.objects.all())
        if items:
            return items
        return None


    def count_of(orders):
        return len(orders.filter(status="open"))


    def any_open():
        return bool(Order.objects.filter(status="open"))
"""

MODELS = """\
    from django.db import models


    class Order(models.Model):
        status = models.CharField(max_length=10)
"""

# (line, code, label, source): qsfix gives line 5 a safe fix, line 12 an unsafe one (rows are
# read later), nothing for the list (19) or the untyped parameter (25), a safe fix for line 29
# (labelled must-not here, to see it counted); line 25 is labelled at 23 (the code moved), and
# the neutral site's text is gone (lost).
SITES = [
    (5, "QS001", "beneficial", 'if Order.objects.filter(status="pending"):'),
    (12, "QS002", "adds-query", "if len(rows) == 0:"),
    (19, "QS001", "must-not", "if items:"),
    (23, "QS002", "beneficial", 'return len(orders.filter(status="open"))'),
    (29, "QS001", "must-not", 'return bool(Order.objects.filter(status="open"))'),
    (8, "QS001", "neutral", "if Order.objects.exists():"),
]


def make_corpus(tmp_path) -> tuple[str, str]:
    project = tmp_path / "corpus" / "tiny" / "shop"
    project.mkdir(parents=True)
    (project / "__init__.py").write_text("")
    (project / "models.py").write_text(textwrap.dedent(MODELS))
    (project / "views.py").write_text(textwrap.dedent(VIEWS))
    labels = tmp_path / "labels.tsv"
    rows = [f"tiny\tshop/views.py\t{line}\t{code}\t{label}\t{source}\ta reason\n" for line, code, label, source in SITES]
    labels.write_text(HEADER + "".join(rows))
    return str(tmp_path / "corpus"), str(labels)


def recall(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, cwd=REPO)


def test_counts_and_metrics_in_json(tmp_path):
    corpus, labels = make_corpus(tmp_path)
    done = recall("--corpus", corpus, "--labels", labels, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    counts = data["projects"]["tiny"]["counts"]
    assert counts == {
        "beneficial": {"safe": 1, "unsafe": 0, "skipped": 0, "missed": 1, "lost": 0},
        "neutral": {"safe": 0, "unsafe": 0, "skipped": 0, "missed": 0, "lost": 1},
        "must-not": {"safe": 1, "unsafe": 0, "skipped": 0, "missed": 1, "lost": 0},
        "adds-query": {"safe": 0, "unsafe": 1, "skipped": 0, "missed": 0, "lost": 0},
    }
    assert data["total"]["metrics"] == {
        "beneficial": 2,
        "beneficial_safe": 1,
        "beneficial_safe_or_unsafe": 1,
        "must_not": 2,
        "must_not_safe": 1,
        "adds_query": 1,
        "adds_query_safe": 0,
        "neutral": 1,
        "neutral_safe": 0,
    }
    # the site labelled at line 23 is found again at 25 by its source text
    moved = [s for s in data["sites"] if s["line"] == 23]
    assert [(s["line_now"], s["outcome"]) for s in moved] == [(25, "missed")]


def test_text_tables(tmp_path):
    corpus, labels = make_corpus(tmp_path)
    done = recall("--corpus", corpus, "--labels", labels, "--projects", "tiny")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:5] == [
        "project  label      sites    safe  unsafe skipped  missed    lost",
        "tiny     beneficial     2       1       0       0       1       0",
        "tiny     neutral        1       0       0       0       0       1",
        "tiny     must-not       2       1       0       0       1       0",
        "tiny     adds-query     1       0       1       0       0       0",
    ]
    summary = lines[lines.index("") + 1:]
    assert summary[1].split() == ["tiny", "1/2", "50%", "1/2", "50%", "1/2", "0/1", "0/1"]
    assert summary[2].split() == ["total", "1/2", "50%", "1/2", "50%", "1/2", "0/1", "0/1"]


def test_missing_project_is_a_clear_error(tmp_path):
    corpus, labels = make_corpus(tmp_path)
    done = recall("--corpus", corpus, "--labels", labels, "--projects", "tiny,nowhere")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "not in the corpus" in done.stderr and "nowhere" in done.stderr


def test_unknown_label_is_a_clear_error(tmp_path):
    corpus, labels = make_corpus(tmp_path)
    with open(labels, "a") as handle:
        handle.write("tiny\tshop/views.py\t6\tQS001\tmaybe\treturn True\ta reason\n")
    done = recall("--corpus", corpus, "--labels", labels)
    assert done.returncode == 2
    assert "label 'maybe' is not one of beneficial, neutral, must-not, adds-query" in done.stderr
