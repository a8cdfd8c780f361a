"""Every example a pass declares is a test: the docs (`qsfix explain`) and the tests are one."""

import pytest

from codemods import registry
from tests.helpers import check_noop, check_transformed

EXAMPLES = [
    pytest.param(info, example, id=f"{info.code}-{example.name}")
    for info in registry.PASSES
    for example in info.examples
]


@pytest.mark.parametrize("info, example", EXAMPLES)
def test_example(info, example):
    if example.after is None:
        outcome = check_noop(example.before_code, select=frozenset({info.code}), unsafe=example.unsafe)
        if example.diagnostic:  # reported, with no fix
            reported = [f for f in outcome.findings if f.is_active and f.code == info.code]
            assert reported and all(f.fix is None for f in reported)
    else:
        outcome = check_transformed(
            example.before_code,
            example.after_code,
            select=frozenset({info.code}),
            unsafe=example.unsafe,
        )
        applied = [f for f in outcome.findings if f.fix and f.fix.applied]
        assert applied and all(f.code == info.code for f in applied)


@pytest.mark.parametrize("info", registry.PASSES, ids=lambda i: i.code)
def test_pass_is_documented(info):
    assert info.code.startswith("QS") and len(info.code) == 5
    for text in (info.name, info.summary, info.what, info.why, info.fix_safety):
        assert text.strip()
    assert info.references
    assert any(e.after is not None or e.diagnostic for e in info.examples), "needs a before/after example"
    assert any(e.after is None and not e.diagnostic for e in info.examples), "needs a no-op example"
    names = [e.name for e in info.examples]
    assert len(names) == len(set(names))
    assert info.visitor.info is info


def test_registry_order_and_codes_are_unique():
    codes = [info.code for info in registry.PASSES]
    assert len(codes) == len(set(codes))
    assert registry.get_pass("qs002").code == "QS002"
    assert registry.get_pass("QS999") is None
