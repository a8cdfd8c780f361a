"""Texts built from slices (codemods/slices.py) are byte for byte the texts the whole module
gives. Every test here runs with QSFIX_CHECK_SLICES set: `apply_edits` builds each text both
ways and fails on any difference, and `rewrite.ROUTES` counts which way it could go.
"""

from __future__ import annotations

import ast
import shutil
import textwrap

import libcst as cst
import pytest

from codemods import rewrite, slices
from codemods.base import EXAMPLE_MODELS
from codemods.findings import Edit
from tests import helpers
from tests.test_pass_examples import EXAMPLES


@pytest.fixture(autouse=True)
def check_slices(monkeypatch):
    monkeypatch.setenv(rewrite.CHECK_SLICES_ENV, "1")


class Routes:
    """How the texts built inside a `with` block went: {"slices": n, reason: n}."""

    def __enter__(self):
        self.before = dict(rewrite.ROUTES)
        return self

    def __exit__(self, *exc):
        before = self.before
        self.taken = {k: v - before.get(k, 0) for k, v in rewrite.ROUTES.items() if v != before.get(k, 0)}


def fix(data: bytes, **options) -> tuple[bytes, dict]:
    """`data` as shop/views.py of a project with the example models, after `apply --unsafe
    --all-views` (or `options`); and the routes its text took."""
    root = helpers.new_project_folder()
    helpers.write_project(root, {"shop/models.py": EXAMPLE_MODELS, "shop/views.py": ""})
    (root / "shop" / "views.py").write_bytes(data)
    with Routes() as routes:
        result = helpers.run_in(root, **{"unsafe": True, "all_views": True, **options})
    assert not [r.error for r in result.files if r.error]
    target = next(r for r in result.files if r.path == "shop/views.py")
    assert target.new is not None, "nothing changed"
    return target.new, routes.taken


def lines(text: str, newline: str = "\n") -> bytes:
    return textwrap.dedent(text).replace("\n", newline).encode()


# -- every pass example and the samples ---------------------------------------------------------
@pytest.mark.parametrize("info, example", [p for p in EXAMPLES if p.values[1].after is not None])
def test_pass_example_is_built_from_slices(info, example):
    with Routes() as routes:
        helpers.check_transformed(
            example.before_code, example.after_code, select=frozenset({info.code}), unsafe=example.unsafe
        )
    assert routes.taken == {"slices": 1}


def test_samples_are_built_from_slices(tmp_path):
    root = tmp_path / "samples"
    shutil.copytree(helpers.REPO / "samples", root, ignore=shutil.ignore_patterns("__pycache__"))
    with Routes() as routes:
        result = helpers.run_in(root, unsafe=True, all_views=True)
    assert not [r.error for r in result.files if r.error]
    changed = [r.path for r in result.files if r.changed]
    assert len(changed) == 4
    assert routes.taken == {"slices": 4}


# -- the edges of a slice, exactly --------------------------------------------------------------
VIEW_2_SPACES_FIRST = """\
    from django.views.generic import DetailView
    from shop.models import Order


    def helper():
      return 1


    class RecentOrder(DetailView):
        queryset = Order.objects.filter(status="active").order_by("-id")[:5]
        template_name = "order.html"
    """


def test_new_blocks_are_indented_by_the_file_first_block_as_libcst_does():
    """libcst indents a new block by the module's first indented block (here 2 spaces), not
    by the class around it: so does a slice that does not hold that block."""
    new, routes = fix(lines(VIEW_2_SPACES_FIRST))
    assert routes == {"slices": 1}
    assert new == lines(
        """\
        from django.views.generic import DetailView
        from shop.models import Order


        def helper():
          return 1


        class RecentOrder(DetailView):
            def get_queryset(self):
              return Order.objects.filter(status="active").order_by("-id")[:5]

            template_name = "order.html"
        """
    )


def test_crlf_file_gets_crlf_in_new_lines():
    new, routes = fix(lines(textwrap.dedent(VIEW_2_SPACES_FIRST).replace("  return 1", "    return 1"), "\r\n"))
    assert routes == {"slices": 1}
    assert b"\n" not in new.replace(b"\r\n", b"")
    assert new == lines(
        """\
        from django.views.generic import DetailView
        from shop.models import Order


        def helper():
            return 1


        class RecentOrder(DetailView):
            def get_queryset(self):
                return Order.objects.filter(status="active").order_by("-id")[:5]

            template_name = "order.html"
        """,
        "\r\n",
    )


def test_tabs():
    source = lines(VIEW_2_SPACES_FIRST).replace(b"\n  return", b"\n\treturn").replace(b"\n    ", b"\n\t")
    new, routes = fix(source)
    assert routes == {"slices": 1}
    assert new == lines(
        """\
        from django.views.generic import DetailView
        from shop.models import Order


        def helper():
        \treturn 1


        class RecentOrder(DetailView):
        \tdef get_queryset(self):
        \t\treturn Order.objects.filter(status="active").order_by("-id")[:5]

        \ttemplate_name = "order.html"
        """
    )


LEN, COUNT = "len(Order.objects.filter(customer=customer))", "Order.objects.filter(customer=customer).count()"
IF, IF_EXISTS = "if Order.objects.filter(customer=customer):", "if Order.objects.filter(customer=customer).exists():"

DECORATED = """\
    import functools

    from shop.models import Order


    @functools.cache
    def first():
        return 1

    # about second
    @functools.cache
    @functools.wraps(first)
    def second(customer):
        # inside
        return len(Order.objects.filter(customer=customer))
        # trailing, indented
    # trailing, not indented

    @functools.cache
    def third():
        pass
    """


def test_decorated_functions_and_comments_around_them():
    new, routes = fix(lines(DECORATED))
    assert routes == {"slices": 1}
    assert new == lines(DECORATED.replace(LEN, COUNT))


FAR_APART = """\
    from shop.models import Order


    def first(customer):
        return len(Order.objects.filter(customer=customer))


    {middle}

    def last(customer):
        if Order.objects.filter(customer=customer):
            return 1
    """


def test_edits_in_far_apart_statements():
    middle = "\n\n".join(f"def filler_{i}():\n    return {i}\n" for i in range(30))
    source = textwrap.dedent(FAR_APART).replace("{middle}", middle)
    new, routes = fix(source.encode())
    assert routes == {"slices": 1}
    expected = source.replace(LEN, COUNT).replace(IF, IF_EXISTS)
    assert new == expected.encode()


def test_semicolon_line_parses_the_whole_module():
    source = lines(FAR_APART.replace("{middle}", "a = 1; b = 2\n"))
    new, routes = fix(source)
    assert routes == {"two top-level statements share a line": 1}
    assert b"Order.objects.filter(customer=customer).count()" in new
    assert b"a = 1; b = 2\n" in new


QS004_AFTER_A_CLASS = """\
    from shop.models import Order


    class Thing:
        x = 1
        # the end of Thing


    # the active orders
    ACTIVE_ORDERS = Order.objects.filter(status="active")


    def newest():
        return ACTIVE_ORDERS.first()
    """


def test_replaced_top_level_statement_keeps_the_comments_above_it():
    """QS004 puts the comment above a constant above the new function: the slice holds the
    statement before it, so the lines between fall as they do in the whole module."""
    new, routes = fix(lines(QS004_AFTER_A_CLASS))
    assert routes == {"slices": 1}
    assert new == lines(
        """\
        from shop.models import Order


        class Thing:
            x = 1
            # the end of Thing


        # the active orders
        def active_orders():
            return Order.objects.filter(status="active")


        def newest():
            return active_orders().first()
        """
    )


def test_replaced_first_statement_of_the_file():
    source = lines(
        """\
        # a header
        # comment

        # about ACTIVE
        ACTIVE_ORDERS = __import__("shop.models").models.Order.objects.filter(status="active")
        def newest():
            return ACTIVE_ORDERS.first()"""
    )
    plan = slices.plan(source, [Edit(("SimpleStatementLine",), ((5, 0), (5, 20)), None)])
    assert [(s.first, s.last, s.prefix) for s in plan.slices] == [(1, 5, "")]
    new_and_whole = rewrite.apply_to_module(source, [Edit(("Name",), ((7, 11), (7, 24)), rename)])
    assert rewrite.apply_edits(source, [Edit(("Name",), ((7, 11), (7, 24)), rename)]) == new_and_whole
    assert new_and_whole.endswith(b"return ACTIVE_ORDERS_x.first()")  # no newline added at the end


CLASS_WITH_FOOTER = """\
    from django.views.generic import DetailView
    from shop.models import Order


    class RecentOrder(DetailView):
        queryset = Order.objects.filter(status="active").order_by("-id")[:5]
        # the end of RecentOrder

    # not RecentOrder's
        # RecentOrder's, again

    # the next one's
    class Other:
        pass
    """


def test_method_added_before_the_block_footer():
    new, routes = fix(lines(CLASS_WITH_FOOTER))
    assert routes == {"slices": 1}
    assert new == lines(
        CLASS_WITH_FOOTER.replace(
            "    queryset = Order.objects.filter(status=\"active\").order_by(\"-id\")[:5]\n",
            "    def get_queryset(self):\n"
            "            return Order.objects.filter(status=\"active\").order_by(\"-id\")[:5]\n",
        )
    )


@pytest.mark.parametrize(
    "head, reason",
    [
        ("# -*- coding: latin-1 -*-\n", "encoded in iso-8859-1"),
        ("\ufeff", "a byte order mark"),
        ("\x0c\n", "a form feed, a lone carriage return or another odd line break"),
    ],
)
def test_files_parsed_whole(head, reason):
    source = (head + textwrap.dedent(FAR_APART).replace("{middle}", "")).encode("utf-8")
    new, routes = fix(source)
    assert routes == {reason: 1}
    assert new.count(b".count()") == 1 and new.count(b".exists()") == 1


# -- hand-made edits ----------------------------------------------------------------------------
def rename(original, updated):
    return updated.with_changes(value=updated.value + "_x")


def as_function(original, updated):
    """`NAME = value` -> `def name(): return value`, with the lines above it (as QS004)."""
    body = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Return(value=updated.body[0].value)])])
    name = updated.body[0].targets[0].target.value.lower()
    return cst.FunctionDef(
        name=cst.Name(name), params=cst.Parameters(), body=body, leading_lines=updated.leading_lines
    )


def with_method(original, updated):
    method = cst.parse_statement("def added(self):\n    return 1\n")
    return updated.with_changes(body=updated.body.with_changes(body=[*updated.body.body, method]))


def char_span(node: ast.AST, text_lines: list) -> tuple:
    def column(line, offset):
        return len(text_lines[line - 1].encode()[:offset].decode())

    return (
        (node.lineno, column(node.lineno, node.col_offset)),
        (node.end_lineno, column(node.end_lineno, node.end_col_offset)),
    )


def generic_edits(source: bytes) -> list:
    """Edits of every shape in every other top-level statement of a real file: a name renamed,
    a class given a method at the end (the footer question), an assignment made a function
    (the leading lines question; new blocks and lines)."""
    tree = ast.parse(source)
    text_lines = source.decode("utf-8").split("\n")
    edits = []
    for index, statement in enumerate(tree.body):
        if index % 2:
            continue
        names = [n for n in ast.walk(statement) if isinstance(n, ast.Name)]
        if isinstance(statement, ast.ClassDef) and not statement.decorator_list:
            edits.append(Edit(("ClassDef",), char_span(statement, text_lines), with_method))
        elif isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            edits.append(Edit(("SimpleStatementLine",), char_span(statement, text_lines), as_function))
            names = names[1:]  # the target is gone
        if names:
            edits.append(Edit(("Name",), char_span(names[-1], text_lines), rename))
    return edits


def both_ways(source: bytes, edits: list) -> str:
    """The route `source` takes; the two texts were compared where it is slices."""
    route = slices.plan(source, edits)
    if not isinstance(route, slices.Plan):
        return route
    assert rewrite.apply_to_slices(route) == rewrite.apply_to_module(source, edits)
    return "slices"


def real_files() -> list:
    return sorted(
        path
        for folder in ("samples", "tests/data/sweep", "tests/djapp")
        for path in (helpers.REPO / folder).rglob("*.py")
    )


@pytest.mark.parametrize("path", real_files(), ids=lambda p: str(p.relative_to(helpers.REPO)))
def test_generic_edits_on_real_files(path):
    source = path.read_bytes()
    if not ast.parse(source).body:
        assert slices.plan(source, []) == "no top-level statement"
        return
    edits = generic_edits(source)
    if edits:
        assert both_ways(source, edits) == "slices"
    config = cst.parse_module(source)
    plan = slices.plan(source, edits or [])
    assert (plan.indent, plan.newline) == (config.default_indent, config.default_newline)


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\n",
        "x = 1",
        "if x: pass\nelse:\n\ty = 1\n",
        "def f(\n        a,\n):\n  return a\n",
        "x = [\n        1,\n]\nclass A:\n   pass\n",
        "class A: pass\nclass B:\n      pass\n",
        "@d\nclass A:\n\t  pass\n",
        "x = 1\r\nif x:\r\n    pass\r\n",
        "x = '''\r\n'''\nif x:\n  pass\n",
        "try:\n    pass\nfinally:\n  pass\n",
        "match x:\n  case 1:\n        pass\n",
    ],
)
def test_indentation_and_line_ending_are_the_ones_libcst_infers(source):
    module = cst.parse_module(source)
    plan = slices.plan(source.encode(), [])
    assert (plan.indent, plan.newline) == (module.default_indent, module.default_newline)


def test_two_far_apart_edits_are_two_slices():
    source = textwrap.dedent(FAR_APART).replace("{middle}", "\n\n".join(f"x{i} = {i}" for i in range(20))).encode()
    tree = ast.parse(source)
    text_lines = source.decode().split("\n")
    orders = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "Order"]
    edits = [Edit(("Name",), char_span(name, text_lines), rename) for name in orders]
    plan = slices.plan(source, edits)
    # def first(): lines 4-7 (the blank lines after it too), def last(): lines 48-50; each
    # parsed after the two lines of the prefix
    assert len(text_lines) == 51 and text_lines[47] == "def last(customer):"
    assert [(s.first, s.last) for s in plan.slices] == [(4, 7), (48, 50)]
    assert [e.span for s in plan.slices for e in s.edits] == [((4, 15), (4, 20)), ((4, 7), (4, 12))]
    assert both_ways(source, edits) == "slices"
    assert rewrite.apply_edits(source, edits).count(b"Order_x.objects") == 2


def test_edit_outside_every_statement_parses_the_whole_module():
    source = b"x = 1\n# a comment\ny = 2\n"
    edits = [Edit(("Name",), ((2, 0), (2, 1)), rename)]
    assert slices.plan(source, edits) == "an edit outside every top-level statement"
    with pytest.raises(rewrite.EditError, match=r"no Name at \(\(2, 0\), \(2, 1\)\)"):
        rewrite.apply_edits(source, edits)


def test_a_difference_is_reported(monkeypatch):
    """The check fails when the slices are wrong: here a run is not widened to the statement
    above a replaced one, which so loses the lines above it (and gets two blank lines)."""
    source = b"class A:\n    x = 1\n\n# about B\nB = 1\n"

    def spaced_function(original, updated):
        function = as_function(original, updated)
        return function.with_changes(leading_lines=updated.leading_lines or [cst.EmptyLine()] * 2)

    edits = [Edit(("SimpleStatementLine",), ((5, 0), (5, 5)), spaced_function)]
    assert rewrite.apply_edits(source, edits) == b"class A:\n    x = 1\n\n# about B\ndef b():\n    return 1\n"
    monkeypatch.setattr(slices, "_runs", lambda owners, *args: [(o, o) for o in sorted(set(owners))])
    with pytest.raises(rewrite.SliceMismatch, match="another text"):
        rewrite.apply_edits(source, edits)
