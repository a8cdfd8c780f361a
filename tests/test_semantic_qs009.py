"""QS009 on a real sqlite database: a write between two reads of one QuerySet. The original
code serves the rows cached before the write; the tool's own output (`qs.all()` at the re-read,
never a hand-written text) reads what the database holds. Needs the `db_rows` fixture."""

import textwrap

import pytest

from tests.helpers import DJAPP_MODELS, rewrite
from tests.semantic import run_code

HEADER = "from tests.djapp.models import Order\n\n\n"
QS009 = {"select": frozenset({"QS009"}), "unsafe": True}


def fixed(body: str) -> tuple[str, str]:
    """(before, after): the source, and what the tool makes of it."""
    before = HEADER + textwrap.dedent(body)
    outcome = rewrite(before, path="shopapp/snippet.py", files={"tests/djapp/models.py": DJAPP_MODELS}, **QS009)
    assert {f.code for f in outcome.findings if f.fix and f.fix.applied} == {"QS009"}
    return before, outcome.output


UPDATE = """\
def f(customer_pk):
    orders = Order.objects.filter(customer_id=customer_pk, status="active")
    seen = [o.pk for o in orders]
    Order.objects.filter(customer_id=customer_pk).update(status="shipped")  # write
    return seen, [o.status for o in orders]
"""

CREATE = """\
def f(customer_pk):
    orders = Order.objects.filter(customer_id=customer_pk)
    if not orders:
        Order.objects.create(customer_id=customer_pk, status="new")  # write
    return [o.status for o in orders]
"""

DELETE = """\
def f(customer_pk):
    orders = Order.objects.filter(customer_id=customer_pk)
    total = len(orders)
    Order.objects.filter(customer_id=customer_pk, status="pending").delete()  # write
    return total, len(orders), orders.exists()
"""


def test_update_between_reads(db_rows):
    before, after = fixed(UPDATE)
    assert "[o.status for o in orders.all()]" in after
    alice = db_rows.customers["alice"].pk
    active = [db_rows.orders[0].pk]
    # the original shows the row as still active: its cache predates the UPDATE
    assert run_code(before, "f", alice).result == (active, ["active"])
    # the fixed code asks again: no row is active any more
    assert run_code(after, "f", alice).result == (active, [])


def test_create_between_reads(db_rows):
    before, after = fixed(CREATE)
    carol = db_rows.customers["carol"].pk
    assert run_code(before, "f", carol).result == []  # the order just created is missing
    assert run_code(after, "f", carol).result == ["new"]


def test_delete_between_reads(db_rows):
    before, after = fixed(DELETE)
    assert "return total, len(orders.all()), orders.all().exists()" in after
    bob = db_rows.customers["bob"].pk
    stale = run_code(before, "f", bob)
    fresh = run_code(after, "f", bob)
    assert stale.result == (2, 2, True)  # the deleted row is still counted
    assert fresh.result == (2, 1, True)
    assert fresh.queries == stale.queries + 2  # why the fix is unsafe: it queries again


def without_write(source: str) -> str:
    return "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass" if line.endswith("# write") else line
        for line in source.splitlines()
    ) + "\n"


@pytest.mark.parametrize("body", [UPDATE, CREATE, DELETE], ids=["update", "create", "delete"])
def test_no_write_no_difference(db_rows, body):
    """With the write taken out, the fixed code gives what the original gives: the fix only
    changes what a write makes stale."""
    before, after = fixed(body)
    for customer in ("alice", "bob", "carol"):
        pk = db_rows.customers[customer].pk
        assert run_code(without_write(before), "f", pk).result == run_code(without_write(after), "f", pk).result
