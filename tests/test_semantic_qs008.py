"""QS008 on a real database and Django's cache: what a reported page serves after a write.

The view is cached with `cache_page` (Django's default local-memory cache); a writer changes a
row between two requests. The code QS008 reports serves the page rendered before the write;
with the invalidation the finding suggests (a `post_save` receiver calling `cache.clear()`)
QS008 is silent and the second request shows the new row. A receiver does not hear
`update()`, which the finding says: that page stays stale. Needs the `db_rows` fixture.
"""

import json

import pytest
from django.core.cache import cache
from django.db.models.signals import post_save
from django.test import RequestFactory, override_settings

from tests.djapp.models import Order
from tests.helpers import DJAPP_MODELS, rewrite
from tests.semantic import fresh_namespace

QS008 = {"select": frozenset({"QS008"})}

VIEW = """\
import json

from django.http import HttpResponse
from django.views.decorators.cache import cache_page

from tests.djapp.models import Order


@cache_page(60)
def statuses(request, customer_pk):
    rows = Order.objects.filter(customer_id=customer_pk).order_by("pk")
    return HttpResponse(json.dumps([order.status for order in rows]))


def close(pk):
    order = Order.objects.get(pk=pk)
    order.status = "closed"
    order.save()


def close_quietly(pk):
    Order.objects.filter(pk=pk).update(status="closed")
"""

RECEIVER = """\


from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=Order, dispatch_uid="qsfix-qs008-semantic")
def forget_pages(sender, **kwargs):
    cache.clear()
"""


def qs008_messages(source: str) -> list[str]:
    outcome = rewrite(source, path="shopapp/views.py", files={"tests/djapp/models.py": DJAPP_MODELS}, **QS008)
    assert outcome.output == source  # a diagnostic changes nothing
    return [f.message for f in outcome.findings if f.code == "QS008" and f.is_active]


@pytest.fixture
def served(db_rows):
    """Runs `source` as a module; `get()` requests its cached view (a fresh cache per test)."""
    namespaces = []

    def load(source: str):
        namespace = fresh_namespace()
        exec(compile(source, "<qsfix semantic source>", "exec"), namespace)
        namespaces.append(namespace)
        alice = db_rows.customers["alice"].pk

        def get():
            request = RequestFactory().get(f"/statuses/{alice}/")
            return json.loads(namespace["statuses"](request, alice).content)

        return namespace, get

    cache.clear()
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        yield load
    post_save.disconnect(sender=Order, dispatch_uid="qsfix-qs008-semantic")
    cache.clear()


def test_reported_page_serves_the_rows_from_before_the_write(db_rows, served):
    [message] = qs008_messages(VIEW)
    assert "reads Order (written at shopapp/views.py:18, shopapp/views.py:22)" in message
    namespace, get = served(VIEW)
    first = db_rows.orders[0].pk
    assert get() == ["active", "shipped", "cancelled"]
    namespace["close"](first)
    assert Order.objects.get(pk=first).status == "closed"
    # the page was stored before the write: the closed order is still shown as active
    assert get() == ["active", "shipped", "cancelled"]


def test_suggested_receiver_serves_the_new_rows(db_rows, served):
    source = VIEW.partition("\n\ndef close_quietly")[0] + RECEIVER
    assert qs008_messages(source) == []
    namespace, get = served(source)
    assert get() == ["active", "shipped", "cancelled"]
    namespace["close"](db_rows.orders[0].pk)
    assert get() == ["closed", "shipped", "cancelled"]


def test_receiver_does_not_hear_update(db_rows, served):
    source = VIEW + RECEIVER
    [message] = qs008_messages(source)
    assert "reads Order (written at shopapp/views.py:22)" in message
    assert "`update()`, `bulk_create()` and `bulk_update()` send no post_save" in message
    namespace, get = served(source)
    assert get() == ["active", "shipped", "cancelled"]
    namespace["close_quietly"](db_rows.orders[0].pk)
    assert get() == ["active", "shipped", "cancelled"]
