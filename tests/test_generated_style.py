"""Generated code a reviewer accepts as is: ruff's pycodestyle rules (`--preview --select E,W
--ignore E501`; the E3 blank-line rules are preview rules, line length is a formatter's job)
find nothing in qsfix's output that they did not find in its input."""

import importlib.util
import sys
import textwrap
from collections import Counter

import pytest

from codemods import registry
from tests.helpers import REPO, rewrite

spec = importlib.util.spec_from_file_location("generated_style", REPO / "scripts" / "generated_style.py")
generated_style = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = generated_style  # its dataclasses look their module up there
spec.loader.exec_module(generated_style)

ALL = {"unsafe": True, "all_views": True}


def grown(before: str, after: str) -> dict:
    """Rules with more findings in `after` than in `before`: {rule: (before, after)}."""
    old, new = generated_style.ruff_findings(before), generated_style.ruff_findings(after)
    return {rule: (old[rule], new[rule]) for rule in new if new[rule] > old[rule]}


def test_ruff_sees_what_it_should():
    # the check itself works: a missing blank line after a function is E305
    assert generated_style.ruff_findings("def f():\n    return 1\nX = 1\n") == Counter({"E305": 1})
    assert generated_style.ruff_findings("def f():\n    return 1\n\n\nX = 1\n") == Counter()


EXAMPLES = [
    pytest.param(info, example, id=f"{info.code}-{example.name}")
    for info in registry.PASSES
    for example in info.examples
    if example.after is not None
]


@pytest.mark.parametrize("info, example", EXAMPLES)
def test_every_pass_example_output_is_clean(info, example):
    outcome = rewrite(example.before_code, select=frozenset({info.code}), unsafe=example.unsafe)
    assert outcome.output != outcome.source
    assert grown(outcome.source, outcome.output) == {}


SHAPES = {
    "multiline_receivers": """\
        from shop.models import Order


        def f():
            assert Order.objects.filter(
                status="a",
            )
            flag = bool(
                Order.objects.filter(
                    status="b",
                )
            )
            n = len(Order.objects
                    .filter(status="c"))
            if len(Order.objects.filter(
                status="d",
            )) == 0:
                return flag
            return n
        """,
    "factories_among_statements": """\
        from shop.models import Order

        ACTIVE = Order.objects.filter(status="active")
        RECENT = ACTIVE.order_by("-created")
        LIMIT = 10
        SHIPPED = Order.objects.filter(status="shipped")  # dashboard
        # settings

        DEBUG = False
        LAST = Order.objects.filter(status="last")
        if DEBUG:
            LIMIT = 1


        def newest():
            return RECENT.first(), SHIPPED, LAST
        """,
    "class_querysets": '''\
        from django.utils import timezone
        from django.views.generic import DetailView, ListView
        from rest_framework import viewsets

        from shop.models import Order


        class Recent(ListView):
            """Docstring."""
            queryset = Order.objects.filter(created__gte=timezone.now())  # frozen
            ordering = ["-created"]
            template_name = "recent.html"


        class One(DetailView):
            model = Order
            # comment above
            queryset = Order.objects.filter(
                created__gte=timezone.now(),
            )
            template_name = "one.html"

            def get_context_data(self, **kwargs):
                return super().get_context_data(**kwargs)


        class Orders(viewsets.ModelViewSet):
            queryset = Order.objects.filter(created__gte=timezone.now())
            serializer_class = None
        ''',
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_rewritten_shapes_are_clean(name):
    source = textwrap.dedent(SHAPES[name])
    assert generated_style.ruff_findings(source) == Counter()
    outcome = rewrite(source, **ALL)
    assert outcome.output != outcome.source
    assert generated_style.ruff_findings(outcome.output) == Counter()


@pytest.mark.slow
@pytest.mark.parametrize("options", [(), ("--all-views",)], ids=["default", "all-views"])
def test_samples_after_apply_have_no_new_findings(options):
    found = generated_style.compare(REPO / "samples", options)
    assert found.changed >= 4
    assert found.grown == []
    assert sum(found.after.values()) <= sum(found.before.values())


@pytest.mark.parametrize(
    "code, expected",
    [
        ("qs", "qs.exists()"),
        ("Order.objects.filter(\n    a=1,\n)", "Order.objects.filter(\n    a=1,\n).exists()"),
        ("Order.objects.filter(a=1)[\n    :1\n]", "Order.objects.filter(a=1)[\n    :1\n].exists()"),
        ("(a or b)", "(a or b).exists()"),  # its own parentheses are enough
        ("a or b", "(a or b).exists()"),
        ("await qs", "(await qs).exists()"),
        ("x if c else y", "(x if c else y).exists()"),
        ("Order.objects\n.filter(a=1)", "(Order.objects\n.filter(a=1)).exists()"),
        ("Order.objects.filter\n(a=1)", "(Order.objects.filter\n(a=1)).exists()"),
    ],
)
def test_receivers_are_parenthesised_only_where_they_must_be(code, expected):
    import libcst

    from codemods.rewrite import code_of, method_call

    # parsed inside parentheses (a line break needs them), which are then taken off
    value = libcst.parse_expression(f"({code})").with_changes(lpar=[], rpar=[])
    if code.startswith("("):
        value = libcst.parse_expression(code)
    assert code_of(method_call(value, "exists")) == expected
