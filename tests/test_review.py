"""What `apply --interactive` decides (codemods/review.py), without a terminal: the changes it
asks about and the units each answer accepts. The questions themselves are tested through the
CLI in test_cli.py."""

from __future__ import annotations

from typing import Optional

import pytest

from codemods import engine
from codemods.findings import SAFE, Fix, Finding
from codemods.review import Change, accepted_by, changes_to_review, ends_review


def finding(path: str, line: int, code: str, unit: Optional[str] = None, applied: bool = True) -> Finding:
    return Finding(
        path, line, 1, code, "name", "message", fix=Fix(SAFE, "title", applied=applied), unit=unit,
    )


def run_of(*findings: Finding) -> engine.RunResult:
    paths = dict.fromkeys(f.path for f in findings)
    return engine.RunResult(
        files=[engine.FileResult(p, p, findings=[f for f in findings if f.path == p]) for p in paths]
    )


def test_a_unit_across_files_is_one_change_in_the_order_of_its_first_finding():
    result = run_of(
        finding("a.py", 3, "QS001"),
        finding("a.py", 9, "QS004", unit="QS004:shop.models:ACTIVE"),
        finding("b.py", 2, "QS004", unit="QS004:shop.models:ACTIVE"),
        finding("b.py", 5, "QS002"),
    )
    changes = changes_to_review(result)
    assert [c.key for c in changes] == ["QS001:a.py:3:1", "QS004:shop.models:ACTIVE", "QS002:b.py:5:1"]
    assert [(f.path, f.line) for f in changes[1].findings] == [("a.py", 9), ("b.py", 2)]


def test_findings_without_an_applied_fix_are_not_asked_about():
    unfixed = Finding("a.py", 1, 1, "QS002", "name", "message")
    result = run_of(unfixed, finding("a.py", 2, "QS001", applied=False), finding("a.py", 3, "QS001"))
    assert [c.key for c in changes_to_review(result)] == ["QS001:a.py:3:1"]


def test_no_fix_no_change():
    assert changes_to_review(engine.RunResult(files=[])) == []


# asked about the second change; the first was answered already
CHANGES = [
    Change("k1", [finding("a.py", 1, "QS001")]),
    Change("k2", [finding("a.py", 2, "QS002")]),
    Change("k3", [finding("a.py", 3, "QS001")]),
    Change("k4", [finding("b.py", 1, "QS002")]),
    Change("k5", [finding("b.py", 2, "QS001")]),
]


@pytest.mark.parametrize(
    "answer, accepted",
    [
        ("y", {"k2"}),
        ("n", set()),
        ("f", {"k2", "k3"}),  # the rest of a.py, not the change before it
        ("p", {"k2", "k4"}),  # the rest of QS002
        ("a", {"k2", "k3", "k4", "k5"}),
        ("q", set()),
    ],
)
def test_what_each_answer_accepts(answer, accepted):
    assert accepted_by(answer, CHANGES[1:]) == accepted


def test_only_all_and_quit_end_the_review():
    assert [answer for answer in "ynfpaq" if ends_review(answer)] == ["a", "q"]
