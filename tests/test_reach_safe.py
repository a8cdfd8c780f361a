"""Reach of the safe QS001/QS002 fixes (issue 14): shapes of real projects whose type the shared
typing now proves, each with its exact rewrite, the traps next to it left alone, and on a real
database where Django's behaviour is the argument (slices).

- an unannotated parameter of a module-level function, typed by what every project caller
  passes (a QuerySet, a model instance);
- `x._default_manager` / `x._base_manager` of an `x` the tool cannot type;
- a slice of a QuerySet: a QuerySet only while the sliced object has not fetched its rows.
"""

import textwrap

from codemods.base import EXAMPLE_MODELS
from tests.helpers import DJAPP_MODELS, check_noop, check_transformed, rewrite, rewrite_project
from tests.semantic import compare_semantics

QS = {"select": frozenset({"QS001", "QS002"})}


def project(files: dict[str, str]) -> dict[str, str]:
    out, _ = rewrite_project({k: textwrap.dedent(v) for k, v in files.items()}, **QS)
    again, _ = rewrite_project(out, **QS)
    assert again == out, "not idempotent: a second run changed the output"
    return out


def findings(files: dict[str, str], path: str, **options):
    _, result = rewrite_project({k: textwrap.dedent(v) for k, v in files.items()}, **{**QS, **options})
    target = next(r for r in result.files if r.path == path)
    return [(f.code, f.line, f.fix.applicability if f.fix else f.skip_reason) for f in target.findings]


# -- parameters typed from their callers -----------------------------------------------------
STATS = """\
def stats(tickets):
    open_tickets = tickets.exclude(status="closed")
    recent = open_tickets.filter(total__gt=3)
    return len(recent)


def notify(customer):
    if customer.orders.filter(status="late"):
        return True
    return False
"""
STATS_FIXED = """\
def stats(tickets):
    open_tickets = tickets.exclude(status="closed")
    recent = open_tickets.filter(total__gt=3)
    return recent.count()


def notify(customer):
    if customer.orders.filter(status="late").exists():
        return True
    return False
"""


def test_parameter_every_caller_passes_a_queryset_or_an_instance():
    # the helpdesk shape: `calc_basic_ticket_stats(Tickets)` called with local QuerySets
    out = project({
        "shop/stats.py": STATS,
        "shop/views.py": """\
            from shop.models import Customer, Order
            from shop.stats import notify, stats


            def report(pk):
                orders = Order.objects.filter(customer_id=pk)
                customer = Customer.objects.get(pk=pk)
                return stats(orders), notify(customer)


            def other():
                return stats(tickets=Order.objects.all()), notify(Customer.objects.first())
            """,
    })
    assert out["shop/stats.py"] == STATS_FIXED


def test_parameter_itself_stays_the_callers():
    # `len(tickets)` reads the caller's QuerySet: the caller may use its rows afterwards
    files = {
        "shop/stats.py": """\
            def stats(tickets):
                return len(tickets), len(tickets.filter(total__gt=1))
            """,
        "shop/views.py": """\
            from shop.models import Order
            from shop.stats import stats


            def report():
                orders = Order.objects.all()
                return stats(orders), list(orders)
            """,
    }
    assert findings(files, "shop/stats.py") == [("QS002", 2, "unsafe"), ("QS002", 2, "safe")]


NOTIFY_USE = """\
    from shop.stats import notify


    def g(x):
        return notify({arg})
    """


def test_noop_a_caller_passes_something_else():
    for arg in ("x", "[]", "None", "Order.objects.values_list('pk')", "Order.objects.get(pk=1).customer.orders"):
        files = {"shop/stats.py": STATS, "shop/other.py": "from shop.models import Order\n" + textwrap.dedent(NOTIFY_USE.format(arg=arg))}
        out = project(files)
        assert "exists()" not in out["shop/stats.py"], arg


def test_noop_callers_disagree_on_the_model():
    out = project({
        "shop/stats.py": STATS,
        "shop/views.py": """\
            from shop.models import Customer, Order
            from shop.stats import notify


            def f():
                return notify(Customer.objects.get(pk=1)), notify(Order.objects.get(pk=1))
            """,
    })
    assert out["shop/stats.py"] == textwrap.dedent(STATS)


NOTIFY = """\
def notify(customer):
    if customer.orders.filter(status="late"):
        return True
"""


def test_noop_parameter_without_callers_or_with_unseen_ones():
    get = "Customer.objects.get(pk=1)"
    cases = {
        "no caller": (NOTIFY, "pass"),
        "decorated": ("import functools\n\n\n@functools.lru_cache\n" + NOTIFY, f"notify({get})"),
        "handed over": (NOTIFY, f"notify({get})\n    register(notify)"),
        "default left": (NOTIFY.replace("(customer)", "(customer=None)"), "notify()"),
        "star args": (NOTIFY, f"notify(*[{get}])"),
        "keyword splat": (NOTIFY, f"notify(**{{'customer': {get}}})"),
        "rebound": (NOTIFY + "\n\nnotify = wrap(notify)\n", f"notify({get})"),
        "defined twice": (NOTIFY + "\n\n" + NOTIFY, f"notify({get})"),
    }
    for name, (source, call) in cases.items():
        files = {
            "shop/stats.py": source,
            "shop/views.py": f"from shop.models import Customer\nfrom shop.stats import notify\n\n\ndef f():\n    {call}\n",
        }
        out = project(files)
        assert ".exists()" not in out["shop/stats.py"], name


def test_noop_callers_unseen_through_an_alias_or_a_reference_or_a_quiet_body():
    # each caller reading must see every use of the function: one passes a list
    get = "Customer.objects.get(pk=1)"
    cases = {
        "imported under another name": (
            "from shop.stats import notify as tell\n\n\ndef f():\n    tell([])\n"
        ),
        "a module attribute handed over": (
            "from shop import stats\n\n\ndef f():\n    register(stats.notify)\n"
        ),
        "a reference in a URLconf": (
            "from django.urls import path\n\nfrom shop import stats\n\nurlpatterns = [path('x', stats.notify)]\n"
        ),
    }
    for name, other in cases.items():
        files = {
            "shop/stats.py": NOTIFY,
            "shop/views.py": f"from shop.models import Customer\nfrom shop.stats import notify\n\n\ndef f():\n    notify({get})\n",
            "shop/other.py": other,
        }
        out = project(files)
        assert ".exists()" not in out["shop/stats.py"], name
    # a caller in the function's own module whose body names nothing else the analysis reads
    home = NOTIFY + "\n\ndef quiet():\n    return notify([1, 2])\n"
    files = {
        "shop/stats.py": home,
        "shop/views.py": f"from shop.models import Customer\nfrom shop.stats import notify\n\n\ndef f():\n    notify({get})\n",
    }
    assert ".exists()" not in project(files)["shop/stats.py"]
    # the same module, every caller passing an instance: typed (the check is not just a refusal)
    home = "from shop.models import Customer\n\n\n" + NOTIFY + f"\n\ndef loud():\n    return notify({get})\n"
    out = project({"shop/stats.py": home})
    assert 'customer.orders.filter(status="late").exists()' in out["shop/stats.py"]


def test_callers_are_read_only_where_an_import_leads_to_the_function():
    get = "Customer.objects.get(pk=1)"
    views = f"from shop.models import Customer\nfrom shop.stats import notify\n\n\ndef f():\n    notify({get})\n"
    # a module that only names the word (an attribute of something else) is not a caller
    word = "def g(report):\n    return report.notify([])\n"
    out = project({"shop/stats.py": NOTIFY, "shop/views.py": views, "other/words.py": word})
    assert 'customer.orders.filter(status="late").exists()' in out["shop/stats.py"]
    # one that imports the package above it and calls the function through it is one
    package = "import shop.stats\n\n\ndef g():\n    return shop.stats.notify([])\n"
    out = project({"shop/stats.py": NOTIFY, "shop/views.py": views, "other/calls.py": package})
    assert ".exists()" not in out["shop/stats.py"]


def test_noop_loop_variable_over_values_list_passed_on():
    # a caller passing a loop variable over values_list() rows (tuples): not an instance
    out = project({
        "shop/stats.py": STATS,
        "shop/views.py": """\
            from shop.models import Customer
            from shop.stats import notify


            def f():
                for row in Customer.objects.values_list("pk", "name"):
                    notify(row)
                for item in [Customer.objects.get(pk=1), "x"]:
                    notify(item)
            """,
    })
    assert ".exists()" not in out["shop/stats.py"]


def test_loop_variable_over_a_queryset_passed_on():
    out = project({
        "shop/stats.py": STATS,
        "shop/views.py": """\
            from shop.models import Customer
            from shop.stats import notify


            def f():
                for customer in Customer.objects.filter(name="a"):
                    notify(customer)
            """,
    })
    assert "customer.orders.filter(status=\"late\").exists()" in out["shop/stats.py"]


def test_recursion_through_callers_ends():
    out = project({
        "shop/stats.py": """\
            def a(customer):
                if customer.orders.all():
                    return b(customer)


            def b(customer):
                if customer.orders.all():
                    return a(customer)
            """,
    })
    assert ".exists()" not in out["shop/stats.py"]


# -- `_default_manager` of a model the tool cannot see --------------------------------------
def test_default_manager_of_an_unknown_model_class():
    check_transformed(
        """\
        def unique(model_cls, slug):
            while model_cls._default_manager.filter(slug=slug):
                slug += "-"
            return slug, len(model_cls._base_manager.filter(slug=slug).order_by())
        """,
        """\
        def unique(model_cls, slug):
            while model_cls._default_manager.filter(slug=slug).exists():
                slug += "-"
            return slug, model_cls._base_manager.filter(slug=slug).order_by().count()
        """,
        **QS,
    )


def test_default_manager_count_needs_the_ordering():
    # the model's Meta.ordering may join a to-many relation: `len()` counts joined rows
    outcome = check_noop(
        """\
        def count(model_cls):
            return len(model_cls._default_manager.all())
        """,
        **QS,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]
    assert "Meta.ordering" in outcome.findings[0].message


def test_default_manager_defined_by_a_project_class_is_only_likely():
    outcome = check_noop(
        """\
        class Registry:
            _default_manager = None


        def f(thing):
            if thing._default_manager.filter(a=1):
                return 1
        """,
        **QS,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]


def test_default_manager_with_a_project_manager_overriding_exists_is_only_likely():
    outcome = check_noop(
        """\
        from django.db import models


        class Quiet(models.QuerySet):
            def exists(self):
                return False


        def f(thing):
            if thing._default_manager.filter(a=1):
                return 1
        """,
        **QS,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]


# -- slices ---------------------------------------------------------------------------------
def test_slice_of_a_fresh_chain_or_an_unevaluated_local():
    check_transformed(
        """\
        from shop.models import Order
        def f(c):
            qs = Order.objects.filter(customer=c)
            first = qs[0]
            if qs[:10]:
                return len(qs.values_list("id")[:5]) + qs.count()
            for o in qs:
                print(o)
        """,
        """\
        from shop.models import Order
        def f(c):
            qs = Order.objects.filter(customer=c)
            first = qs[0]
            if qs[:10].exists():
                return qs.values_list("id")[:5].count() + qs.count()
            for o in qs:
                print(o)
        """,
        **QS,
    )


def test_noop_slice_of_a_queryset_whose_rows_may_be_fetched():
    # once `qs` is evaluated, `qs[:10]` is a list: `.exists()`/`.count()` would raise
    sources = [
        """\
        from shop.models import Order
        def f():
            qs = Order.objects.all()
            rows = list(qs)
            return len(qs[:10])
        """,
        """\
        from shop.models import Order
        def f():
            qs = Order.objects.all()
            for i in range(3):
                if qs[:1]:
                    print(list(qs))
        """,
        """\
        from django.db.models import QuerySet
        def f(qs: QuerySet):
            return len(qs[:3])
        """,
        """\
        from shop.models import Order
        RECENT = Order.objects.all()
        def f():
            return len(RECENT[:3])
        """,
    ]
    for source in sources:
        outcome = check_noop(source, **QS)
        sliced = [f for f in outcome.findings if "[:" in f.message or "[..." in (f.skip_reason or "")]
        assert sliced and all(f.fix is None or not f.fix.applied for f in sliced), source
        assert all("is a list" in (f.skip_reason or "") or "module-level" in (f.skip_reason or "") for f in sliced), source


def test_noop_exists_on_an_offset_slice_ordered_through_a_to_many_relation():
    outcome = check_noop(
        """\
        from shop.models import Customer
        def f():
            return bool(Customer.objects.order_by("orders__created")[5:])
        """,
        **QS,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]


# -- on a real database ----------------------------------------------------------------------
HEADER = "from tests.djapp.models import Order, Customer, OrderItem\n\n\n"
SLICES = HEADER + textwrap.dedent(
    """\
    def f(pk):
        return (
            len(Order.objects.filter(customer_id=pk)[:2]),
            len(Order.objects.filter(customer_id=pk)[1:]),
            len(Order.objects.values_list("id")[1:3]),
            bool(Order.objects.filter(customer_id=pk)[2:]),
            bool(Order.objects.filter(customer_id=pk)[:1]),
        )
    """
)


def tool(source: str):
    return rewrite(source, path="tests/djapp/snippet.py", files={"tests/djapp/models.py": DJAPP_MODELS,
                                                                   "shop/models.py": EXAMPLE_MODELS}, **QS)


def test_sliced_count_and_exists_on_a_database(db_rows):
    outcome = tool(SLICES)
    assert outcome.output.count(".count()") == 3 and outcome.output.count(".exists()") == 2
    for customer in db_rows.customers.values():
        before, after = compare_semantics(SLICES, outcome.output, "f", customer.pk)
        assert after.result == before.result
        assert after.queries == before.queries
        # the count is taken over the slice: still bounded by LIMIT, one number back
        assert all("LIMIT" in sql and ("COUNT(" in sql or "LIMIT 1" in sql) for sql in after.sql), after.sql


def test_slice_of_an_evaluated_queryset_is_a_list(db_rows):
    # why a slice of a name whose rows were fetched is left alone
    source = HEADER + textwrap.dedent(
        """\
        def f():
            qs = Order.objects.all()
            list(qs)
            return type(qs[:2]).__name__
        """
    )
    before, _ = compare_semantics(source, source, "f")
    assert before.result == "list"
    assert tool(source).output == source


# -- uses that read no row ------------------------------------------------------------------
def test_queryset_combined_with_or_after_the_test():
    # weblate's ProjectStats.get_child_objects: `|` combines the queries, no cached row is read
    check_transformed(
        """\
        from shop.models import Order
        def f(c):
            own = Order.objects.filter(customer=c)
            shared = Order.objects.filter(status="shared")
            if shared:
                return (own | shared).distinct()
            return own
        """,
        """\
        from shop.models import Order
        def f(c):
            own = Order.objects.filter(customer=c)
            shared = Order.objects.filter(status="shared")
            if shared.exists():
                return (own | shared).distinct()
            return own
        """,
        **QS,
    )


def test_or_with_rows_used_elsewhere_still_unsafe():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f(c):
            shared = Order.objects.filter(status="shared")
            if shared:
                return list(shared) + list(Order.objects.none() | shared)
        """,
        **QS,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe"]


def test_combined_or_on_a_database(db_rows):
    source = HEADER + textwrap.dedent(
        """\
        def f(pk):
            own = Order.objects.filter(customer_id=pk)
            shared = Order.objects.filter(status="pending")
            if shared:
                return list((own | shared).distinct())
            return list(own)
        """
    )
    outcome = tool(source)
    assert "if shared.exists():" in outcome.output
    for customer in db_rows.customers.values():
        before, after = compare_semantics(source, outcome.output, "f", customer.pk)
        assert after.result == before.result and after.queries == before.queries
        assert any("LIMIT 1" in sql for sql in after.sql)


def test_noop_custom_manager_method_returning_a_bool():
    # mayan's CheckedOutDocumentManager.is_checked_out(): `return self.filter(...).exists()`
    outcome = check_noop(
        """\
        from django.db import models


        class DocumentManager(models.Manager):
            def is_checked_out(self, document):
                return self.filter(document=document).exists()

            def state(self, document):
                if self.is_checked_out(document=document):
                    return 1
        """,
        **QS,
    )
    assert outcome.findings == []


# -- custom manager methods that return no QuerySet (must-not sites of the labels) -------------
MANAGER_METHODS = EXAMPLE_MODELS.replace(
    '''class Order(models.Model):''',
    '''class ReportManager(models.Manager):
    def is_new(self, customer) -> bool:
        return not self.filter(customer=customer).exists()

    def settings_dict(self, status) -> dict[str, int]:
        return dict(self.filter(status=status).values_list("status", "id"))

    def filters(self, status):
        result = []
        for value in status:
            result.append(models.Q(status=value))
        return result

    def newest(self) -> "Order":
        return self.latest("created")

    def maybe(self, status):
        if status:
            return self.filter(status=status)
        return None

    def active(self):
        return self.filter(status="active")


class Order(models.Model):''',
).replace("    objects = OrderQuerySet.as_manager()", "    objects = OrderQuerySet.as_manager()\n    reports = ReportManager()")

USES = """\
from shop.models import Order


def a(customer):
    if Order.reports.is_new(customer):
        return 1


def b():
    current = Order.reports.settings_dict("x")
    if current:
        return current.pop("x")


def c():
    queries = Order.reports.filters(["a", "b"])
    if not queries:
        return None


def d():
    if Order.reports.newest():
        return 2


def e():
    if Order.reports.maybe("x"):
        return 3


def f():
    if Order.reports.active():
        return 4
"""


def test_custom_manager_methods_that_return_no_queryset_are_left_alone():
    # annotated `-> bool`, `-> dict[...]`, `-> "Order"`; `return result` bound to a list; a path
    # returning None: none of these results is a QuerySet, so none gets `.exists()`
    files = {"shop/models.py": MANAGER_METHODS, "shop/uses.py": USES}
    found = findings(files, "shop/uses.py", unsafe=True)
    assert found == [("QS001", 32, "safe")]  # only `active()`, whose returns are all `self.filter(...)`
    out = project(files)
    assert "if Order.reports.active().exists():" in out["shop/uses.py"]
    assert out["shop/uses.py"].count(".exists()") == 1


# -- the QuerySet behind a `from_queryset` alias declared in another module ----------------
ALIAS_MANAGERS = """\
from django.db import models


class TicketQuerySet(models.QuerySet):
    def has_open(self):
        if self.filter(status="open"):
            return True
        return False


TicketManager = models.Manager.from_queryset(TicketQuerySet)
"""
ALIAS_MODELS = """\
from django.db import models

from shop.managers import TicketManager


class Ticket(models.Model):
    status = models.CharField(max_length=20)

    objects = TicketManager()
"""


def test_self_of_the_queryset_behind_a_from_queryset_alias_knows_its_model():
    # `objects = TicketManager()` names the alias: its QuerySet serves Ticket alone, so a new
    # chain from `self` in its method is a fresh QuerySet of Ticket (no ordering to mind)
    files = {"shop/managers.py": ALIAS_MANAGERS, "shop/models.py": ALIAS_MODELS}
    out = project(files)
    assert 'if self.filter(status="open").exists():' in out["shop/managers.py"]
    assert findings(files, "shop/managers.py") == [("QS001", 6, "safe")]


def test_get_model_through_the_django_package_itself():
    # `import django.apps` and nothing else naming a model: the module is still read
    uses = """\
    import django.apps


    def has_orders():
        Order = django.apps.apps.get_model("shop", "Order")
        if Order.objects.filter(status="open"):
            return True
        return False
    """
    files = {"shop/models.py": EXAMPLE_MODELS, "shop/uses.py": uses}
    out = project(files)
    assert 'if Order.objects.filter(status="open").exists():' in out["shop/uses.py"]
