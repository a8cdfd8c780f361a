"""QS007 on a real database connection: what Django does with the code the pass reports.

SQLite has no row locks (`connection.features.has_select_for_update` is False), so Django
drops the lock there silently, and the code runs. On the backends that lock (PostgreSQL,
MySQL, Oracle: the feature is True) Django's compiler refuses the same query outside a
transaction (`SQLCompiler.as_sql`); the tests switch the feature on for the sqlite
connection to show exactly that error, and that the reported chains (`update()`, `count()`)
send no FOR UPDATE even where the backend would lock. Needs the database schema only: no
transaction is open around the calls (autocommit, as in a view without ATOMIC_REQUESTS).
"""

import textwrap
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from tests.djapp.models import Order
from tests.helpers import DJAPP_MODELS, rewrite
from tests.semantic import fresh_namespace

VIEW = """\
from tests.djapp.models import Order


def ship(request, pk):
    order = Order.objects.select_for_update().get(pk=pk)
    order.status = "shipped"
    order.save()
"""

LOCK_DROPPED = """\
from django.db import transaction

from tests.djapp.models import Order


@transaction.atomic
def close(request):
    Order.objects.select_for_update().filter(status="none").update(status="closed")
    return Order.objects.select_for_update().filter(status="none").count()
"""


def reported(source: str) -> list[int]:
    outcome = rewrite(source, path="shopapp/views.py", files={"tests/djapp/models.py": DJAPP_MODELS},
                      select=frozenset({"QS007"}))
    assert outcome.output == outcome.source  # a diagnostic: nothing is rewritten
    return [f.line for f in outcome.findings if f.is_active]


def load(source: str, name: str):
    namespace = fresh_namespace()
    exec(compile(textwrap.dedent(source), "<qs007>", "exec"), namespace)
    return namespace[name]


def a_backend_that_locks():
    return mock.patch.object(connection.features, "has_select_for_update", True)


def test_sqlite_ignores_the_lock_so_tests_pass(django_db_schema):
    assert reported(VIEW) == [5]
    assert connection.get_autocommit() and not connection.features.has_select_for_update
    ship = load(VIEW, "ship")
    with pytest.raises(Order.DoesNotExist):  # the query ran: no lock, no complaint
        ship(None, -1)


def test_a_backend_that_locks_raises_what_the_finding_predicts(django_db_schema):
    ship = load(VIEW, "ship")
    with a_backend_that_locks():
        with pytest.raises(TransactionManagementError, match="select_for_update cannot be used outside of a transaction"):
            ship(None, -1)


def test_inside_atomic_the_lock_is_taken(django_db_schema):
    """The finding's advice, `with transaction.atomic():`, compiles to a locking query (only
    compiled: SQLite itself would reject FOR UPDATE)."""
    with a_backend_that_locks(), transaction.atomic():
        sql, _ = Order.objects.select_for_update().filter(pk=-1).query.get_compiler("default").as_sql()
    assert sql.endswith("FOR UPDATE")
    with a_backend_that_locks(), pytest.raises(TransactionManagementError):
        Order.objects.select_for_update().filter(pk=-1).query.get_compiler("default").as_sql()


def test_update_and_count_send_no_for_update(django_db_schema):
    assert reported(LOCK_DROPPED) == [8, 9]
    close = load(LOCK_DROPPED, "close")
    with a_backend_that_locks(), CaptureQueriesContext(connection) as captured:
        assert close(None) == 0  # ran on SQLite with the feature on: no FOR UPDATE was sent
    sql = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(("UPDATE", "SELECT"))]
    assert len(sql) == 2 and not any("FOR UPDATE" in s for s in sql)
