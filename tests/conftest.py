"""Session-wide Django setup for the semantic tests.

Django is configured once, in memory, when pytest loads this file; qsfix itself never imports
Django, only the tests that run before/after code on a real database do.
"""

import os
from datetime import timedelta
from types import SimpleNamespace

import django
import pytest
from django.conf import settings

# Change this when tests/djapp/urls.py exists and a test needs URL resolving (it is imported lazily).
ROOT_URLCONF = "tests.djapp.urls"

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="qsfix-tests",
        USE_TZ=True,
        TIME_ZONE="UTC",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            "tests.djapp",
            "tests.reachapp",  # issue 14's typing shapes (tests/test_semantic_reach.py)
            "tests.reachns",  # the same, in a namespace package (no __init__.py)
        ],
        ROOT_URLCONF=ROOT_URLCONF,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


@pytest.fixture(scope="session", autouse=True)
def _projects_below_pytest_tmp(tmp_path_factory):
    from tests import helpers

    helpers.PROJECTS_ROOT = tmp_path_factory.mktemp("projects")


def run_slow_tests() -> bool:
    """CI runs every test; on a developer's machine the slow ones wait for QSFIX_SLOW=1, so
    the README's test command stays under a minute there."""
    return bool(os.environ.get("CI") or os.environ.get("QSFIX_SLOW"))


def pytest_collection_modifyitems(config, items):
    if run_slow_tests():
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def pytest_report_header(config):
    if run_slow_tests():
        return "qsfix: every test, the slow ones too (CI or QSFIX_SLOW is set)"
    return "qsfix: slow tests deselected; QSFIX_SLOW=1 (or CI=true) runs them too"


@pytest.fixture(scope="session")
def django_db_schema():
    """Create every table once per session (the in-memory database lives as long as the connection)."""
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


@pytest.fixture
def db_rows(django_db_schema):
    """A small fixed data set inside a transaction that is rolled back after the test.

    alice: active (1 day old, 2 items), shipped (10 days), cancelled (40 days, no items)
    bob:   active (2 days, 1 item), pending (3 days)
    carol: no orders
    """
    from django.db import transaction
    from django.utils import timezone

    from tests.djapp.models import Customer, Order, OrderItem

    now = timezone.now()
    with transaction.atomic():
        alice = Customer.objects.create(name="alice")
        bob = Customer.objects.create(name="bob")
        carol = Customer.objects.create(name="carol")
        orders = [
            Order.objects.create(customer=c, status=s, created=now - timedelta(days=d), total=t)
            for c, s, d, t in [
                (alice, "active", 1, 100),
                (alice, "shipped", 10, 250),
                (alice, "cancelled", 40, 30),
                (bob, "active", 2, 40),
                (bob, "pending", 3, 75),
            ]
        ]
        OrderItem.objects.bulk_create(
            [
                OrderItem(order=orders[0], quantity=1),
                OrderItem(order=orders[0], quantity=3),
                OrderItem(order=orders[1], quantity=2),
                OrderItem(order=orders[3], quantity=5),
            ]
        )
        yield SimpleNamespace(customers={"alice": alice, "bob": bob, "carol": carol}, orders=orders, now=now)
        transaction.set_rollback(True)
