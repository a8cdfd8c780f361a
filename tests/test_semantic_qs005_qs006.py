"""QS005/QS006 on a real sqlite database: the interleavings the findings describe happen, the
code before the rewrite loses the update, and the tool's own output does not.

A second writer is simulated by a call that updates the row through the ORM between the read
and the save (the same connection: to the code under test it is exactly a commit another
request made meanwhile). AFTER is always what the tool made of BEFORE, never hand-written.

Data (see `db_rows` in conftest.py): alice's active order has total 100.
"""

import textwrap

from tests.helpers import DJAPP_MODELS, rewrite
from tests.semantic import run_code

HEADER = "from django.db.models import F\n\nfrom tests.djapp.models import Order\n\n\n"
# a path outside `tests/`: the passes leave test code alone
FILES = {"tests/djapp/models.py": DJAPP_MODELS}


def tool_output(code: str, body: str) -> str:
    source = HEADER + textwrap.dedent(body)
    outcome = rewrite(source, path="shop/snippet.py", files=FILES, select=frozenset({code}), unsafe=True)
    assert [f.code for f in outcome.findings if f.fix and f.fix.applied] == [code]
    assert outcome.output != source
    return source, outcome.output


def another_request_adds(amount: int):
    from django.db.models import F

    from tests.djapp.models import Order

    def write(pk):
        Order.objects.filter(pk=pk).update(total=F("total") + amount)

    return write


# -- QS005: the row changes under the instance, then the instance is saved ------------------------
QS005_SAVE = """\
def f(order_id):
    order = Order.objects.get(pk=order_id)
    Order.objects.filter(pk=order.pk).update(total=F("total") + 5)
    order.status = "seen"
    order.save()
    return Order.objects.get(pk=order_id).total, order.total
"""


def test_qs005_save_after_update_loses_the_update_and_the_fix_keeps_it(db_rows):
    before, after = tool_output("QS005", QS005_SAVE)
    pk = db_rows.orders[0].pk
    assert run_code(before, "f", pk).result == (100, 100)  # the +5 is written over
    fixed = run_code(after, "f", pk)
    assert fixed.result == (105, 105)
    assert "order.refresh_from_db(fields=[\"total\"])" in after


QS005_READ = """\
def f(order_id):
    order = Order.objects.get(pk=order_id)
    Order.objects.filter(id=order.id).update(status="paid")
    return order.status
"""


def test_qs005_read_after_update_is_stale_and_the_fix_is_fresh(db_rows):
    before, after = tool_output("QS005", QS005_READ)
    pk = db_rows.orders[0].pk
    assert run_code(before, "f", pk).result == "active"
    assert run_code(after, "f", pk).result == "paid"


# -- QS006: read, another request writes, modify, save ----------------------------------------------
QS006_INCREMENT = """\
def f(order_id, meanwhile):
    order = Order.objects.get(pk=order_id)
    meanwhile(order_id)
    order.total += 10
    order.save()
    return Order.objects.get(pk=order_id).total
"""


def test_qs006_increment_loses_the_concurrent_write_and_the_fix_keeps_it(db_rows):
    before, after = tool_output("QS006", QS006_INCREMENT)
    pk = db_rows.orders[0].pk
    meanwhile = another_request_adds(5)
    assert run_code(before, "f", pk, meanwhile).result == 110  # the other request's +5 is lost
    assert run_code(after, "f", pk, meanwhile).result == 115
    assert 'order.total = F("total") + 10' in after and 'update_fields=["total"]' in after


QS006_USED_AFTER = """\
def f(order_id, meanwhile):
    order = Order.objects.get(pk=order_id)
    meanwhile(order_id)
    order.total = order.total - 30
    order.save()
    return order.total
"""


def test_qs006_instance_used_after_the_save_holds_the_new_number(db_rows):
    before, after = tool_output("QS006", QS006_USED_AFTER)
    pk = db_rows.orders[0].pk
    meanwhile = another_request_adds(5)
    assert run_code(before, "f", pk, meanwhile).result == 70  # and the row says 70: +5 lost
    assert run_code(after, "f", pk, meanwhile).result == 75  # reloaded, not an F() expression
    assert 'order.refresh_from_db(fields=["total"])' in after


def test_qs006_without_a_second_writer_the_result_is_the_same(db_rows):
    before, after = tool_output("QS006", QS006_INCREMENT)
    pk = db_rows.orders[0].pk
    nobody = lambda order_id: None  # noqa: E731
    assert run_code(before, "f", pk, nobody).result == run_code(after, "f", pk, nobody).result == 110
