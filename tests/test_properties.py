"""Property tests (issue 7): on any valid source the engine does not crash, what it writes
parses, a second run changes nothing, and no byte outside the rewritten lines moves.

- hypothesmith generates arbitrary valid Python (from the grammar and from libcst's node
  types); each program is analysed as a module of a small Django project;
- a strategy of our own builds Django-ish functions: QuerySets (temporaries, locals, related
  managers, multi-line chains, parentheses) tested in `if`/`while`/`not`/`bool()`/`len()`/
  conditional expressions/`assert`, rows reused or not, look-alikes that are not QuerySets,
  comments and suppressions, spaces or tabs, LF, CRLF or both.

Runs are derandomized (the same examples every time) and keep no example database.
"""

from __future__ import annotations

import ast
import difflib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from codemods import engine
from codemods.base import EXAMPLE_MODELS
from tests.helpers import new_project_folder

SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
OPTIONS = engine.Options(unsafe=True, jobs=1)
# generated programs such as `1()` make the compiler warn; that is the program, not the tool
# hypothesis explores many programs: slow, run by CI (see tests/conftest.py)
pytestmark = [pytest.mark.filterwarnings("ignore::SyntaxWarning"), pytest.mark.slow]
TARGET = "shop/example.py"


class Project:
    """One project on disk for a whole test: models stay, the example file is replaced."""

    def __init__(self):
        self.root = new_project_folder("qsfix-props-")
        (self.root / "shop").mkdir()
        (self.root / "manage.py").write_text("")
        (self.root / "shop" / "__init__.py").write_text("")
        (self.root / "shop" / "models.py").write_text(EXAMPLE_MODELS)

    def run(self, source: bytes) -> engine.FileResult:
        (self.root / TARGET).write_bytes(source)
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            result = engine.run([TARGET], OPTIONS)
        finally:
            os.chdir(cwd)
        [target] = [r for r in result.files if r.path == TARGET]
        return target


@pytest.fixture(scope="module")
def project():
    return Project()


def compiles(source: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, TARGET, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def check_output(project: Project, source: bytes) -> engine.FileResult:
    """The engine's answer for `source`: no internal error; a rewrite parses and is stable."""
    result = project.run(source)
    if result.error is not None:
        assert "\n" not in result.error, result.error
        assert "internal error" not in result.error, result.error
        assert result.new is None
        return result
    if result.changed:
        assert compiles(result.new), result.new.decode("utf-8", "replace")
        again = project.run(result.new)
        assert again.error is None, again.error
        assert not again.changed, "not idempotent:\n" + "".join(
            difflib.unified_diff(
                result.new.decode("utf-8", "replace").splitlines(True),
                (again.new or b"").decode("utf-8", "replace").splitlines(True),
            )
        )
    return result


# -- (a) arbitrary valid Python ---------------------------------------------------------------------
PRELUDE = b"from shop.models import Order, Customer\n"


def with_prelude(source: str) -> bytes:
    """The program as a module that imports the models (when that still compiles), so that
    the analysis runs instead of the cheap `nothing here names a model` exit."""
    data = source.encode("utf-8")
    combined = PRELUDE + data
    return combined if compiles(combined) else data


@settings(max_examples=60, **SETTINGS)
@given(source=hypothesmith.from_grammar())
def test_any_program_from_the_grammar(project, source):
    data = with_prelude(source)
    assume(compiles(data))
    check_output(project, data)


@settings(max_examples=40, **SETTINGS)
@given(source=hypothesmith.from_node())
def test_any_program_from_libcst_nodes(project, source):
    data = with_prelude(source)
    assume(compiles(data))
    check_output(project, data)


@settings(max_examples=40, **SETTINGS)
@given(source=hypothesmith.from_grammar(), site=st.sampled_from([
    "if Order.objects.filter(status='a'):\n    pass\n",
    "n = len(Order.objects.all())\n",
    "ok = not customer.orders.all()\n",
]))
def test_any_program_with_a_queryset_site_next_to_it(project, source, site):
    data = PRELUDE + b"customer = Customer.objects.get(pk=1)\n" + site.encode() + b"\n" + source.encode()
    assume(compiles(data))
    check_output(project, data)


# -- (b) Django-ish code ------------------------------------------------------------------------------
@dataclass
class Snippet:
    lines: list[str]  # without line ends, indentation as "\t"-free units of one level
    sites: set[int]  # indexes into `lines` that hold (part of) a QuerySet expression


QUERYSETS = [
    'Order.objects.filter(status="open")',
    "Order.objects.all()",
    "Order.objects.active()",
    'Order.objects.exclude(status="x").order_by("created")',
    "customer.orders.all()",
    'customer.orders.filter(status="paid")',
    "Order.objects.filter(customer=customer).distinct()",
    "(Order.objects.all())",
    'Order.objects.filter(\n    status="open",\n)',
    '(\n    Order.objects\n    .filter(status="open")\n    .order_by("created")\n)',
    '(Order.objects  # all of them\n    .all())',
]
LOOKALIKES = ["items", "[1, 2, 3]", "customer.name", "Order.objects", 'Order.objects.raw("SELECT 1")', "flag"]
COMMENTS = ["", "", "", "  # why not", "  # qsfix: ignore", "  # noqa: QS002", "  # noqa: QS001"]


CONTEXTS = [
    "if @:\n    total += 1",
    "if not @:\n    total -= 1",
    "while @:\n    break",
    "found = bool(@)",
    "total += len(@)",
    "if len(@) == 0:\n    total = 0",
    "if len(@) > 0:\n    total = 1",
    "if 0 < len(@):\n    total = 2",
    "label = 'some' if @ else 'none'",
    "assert @, 'expected rows'",
    "ok = flag and @",
    "ok = @ or None",
    "if flag:\n    pass\nelif @:\n    total = 3",
    "if (found := @):\n    items.append(found)",
    "items.extend(o for o in items if @)",
    "label = f'''{len(@)} orders'''",
    "count = lambda: len(@)",
    "if not not @:\n    total = 4",
    "if 0 < len(@) < 5:\n    total = 5",
    "if len(@) != 0:\n    total = 6",
    "if len(@) >= 1:\n    total = 7",
    "print(len(@), flag, sep=', ')",
    "while not @:\n    break",
    "assert not @",
    "total = {n: len(@) for n in range(2)}",
]


def in_context(template: str, expr: str) -> tuple[list[str], range]:
    """The lines of `template` with `expr` at its `@`, and the indexes of the lines that
    hold `expr`."""
    first = template[: template.index("@")].count("\n")
    return template.replace("@", expr).split("\n"), range(first, first + 1 + expr.count("\n"))


@st.composite
def statements(draw) -> Snippet:
    kind = draw(st.sampled_from(["queryset", "local", "lookalike", "loop", "plain"]))
    comment = draw(st.sampled_from(COMMENTS))
    template = draw(st.sampled_from(CONTEXTS))
    if kind == "plain":
        return Snippet([draw(st.sampled_from(["total += 1", "pass", "flag = not flag", "items.append(total)"]))], set())
    if kind == "lookalike":
        lines, _ = in_context(template, draw(st.sampled_from(LOOKALIKES)))
        lines[0] += comment
        return Snippet(lines, set())
    if kind == "local":
        assign = f"qs = {draw(st.sampled_from(QUERYSETS))}".split("\n")
        use, where = in_context(template, "qs")
        use[where[-1]] += comment
        reuse = draw(st.sampled_from(["", "for order in qs:\n    items.append(order)", "items.append(qs[0])", "return qs"]))
        lines = assign + use + (reuse.split("\n") if reuse else [])
        return Snippet(lines, set(range(len(assign))) | {len(assign) + i for i in where})
    lines, where = in_context(template, draw(st.sampled_from(QUERYSETS)))
    if "#" not in lines[where[-1]]:
        lines[where[-1]] += comment
    if kind == "loop":
        return Snippet(["for _ in range(3):"] + ["    " + line for line in lines], {1 + i for i in where})
    return Snippet(lines, set(where))


@st.composite
def modules(draw) -> tuple[bytes, set[int]]:
    """A module of a few functions; returns its bytes and the line numbers (1-based) that
    hold a QuerySet expression, so may change."""
    indent = draw(st.sampled_from(["    ", "\t", "  "]))
    newline = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    lines = ["from shop.models import Customer, Order", "", ""]
    sites: set[int] = set()
    for number in range(draw(st.integers(1, 3))):
        lines += [f"def view_{number}(customer, flag, items):", f"{indent}total = 0"]
        for snippet in draw(st.lists(statements(), min_size=1, max_size=5)):
            for i, line in enumerate(snippet.lines):
                if i in snippet.sites:
                    sites.add(len(lines) + 1)
                level = (len(line) - len(line.lstrip(" "))) // 4
                lines.append(indent * (1 + level) + line.lstrip(" "))
        lines += [f"{indent}return total", "", ""]
    ends = [
        ("\r\n" if (newline == "\r\n" or (newline == "mixed" and i % 3 == 1)) else "\n")
        for i in range(len(lines))
    ]
    return "".join(line + end for line, end in zip(lines, ends)).encode(), sites


LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@settings(max_examples=150, **SETTINGS)
@given(module=modules())
def test_django_code_rewrites_only_its_queryset_lines(project, module):
    source, sites = module
    assume(compiles(source))  # a comment inside an f-string's braces is not Python 3.11
    result = check_output(project, source)
    assert result.error is None, result.error
    if not result.changed:
        return
    old, new = LINE.findall(source), LINE.findall(result.new)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        touched = set(range(i1 + 1, i2 + 1)) or {i1, i1 + 1}
        assert touched <= sites, (
            f"lines {sorted(touched - sites)} changed but hold no QuerySet:\n"
            + "".join(l.decode() for l in old[i1:i2]) + "->\n" + "".join(l.decode() for l in new[j1:j2])
        )
        # a rewritten line keeps its own line end
        if i2 - i1 == j2 - j1:
            for a, b in zip(old[i1:i2], new[j1:j2]):
                assert a[len(a.rstrip(b"\r\n")):] == b[len(b.rstrip(b"\r\n")):], (a, b)
        else:
            ends = {l[len(l.rstrip(b"\r\n")):] for l in old[i1:i2]}
            assert {l[len(l.rstrip(b"\r\n")):] for l in new[j1:j2]} <= ends | {b""}, (old[i1:i2], new[j1:j2])
    ast.parse(result.new)
