"""QS004 module-queryset-to-factory over small multi-module projects: each import form, the
skip reasons, and composition with the other passes."""

from tests.helpers import check_noop, check_project, check_transformed, rewrite_project

QS004 = {"select": frozenset({"QS004"})}

DEFINITION = """\
from shop.models import Order

ACTIVE_ORDERS = Order.objects.filter(status="active")
"""
FACTORY = """\
from shop.models import Order


def active_orders():
    return Order.objects.filter(status="active")
"""


def test_every_import_form_follows():
    check_project(
        {
            "shop/querysets.py": DEFINITION,
            "shop/__init__.py": "from .querysets import ACTIVE_ORDERS\n\n__all__ = [\"ACTIVE_ORDERS\"]\n",
            "shop/views.py": """\
                from .querysets import ACTIVE_ORDERS
                from shop.querysets import ACTIVE_ORDERS as AO
                from shop import querysets
                import shop.querysets
                import shop.querysets as q


                def a():
                    return ACTIVE_ORDERS.filter(pk=1), AO.first()


                def b():
                    return querysets.ACTIVE_ORDERS, shop.querysets.ACTIVE_ORDERS, q.ACTIVE_ORDERS
                """,
            "reports/stats.py": """\
                from shop import ACTIVE_ORDERS


                def c():
                    return list(ACTIVE_ORDERS)
                """,
        },
        {
            "shop/querysets.py": FACTORY,
            "shop/__init__.py": "from .querysets import active_orders\n\n__all__ = [\"active_orders\"]\n",
            "shop/views.py": """\
                from .querysets import active_orders
                from shop.querysets import active_orders as AO
                from shop import querysets
                import shop.querysets
                import shop.querysets as q


                def a():
                    return active_orders().filter(pk=1), AO().first()


                def b():
                    return querysets.active_orders(), shop.querysets.active_orders(), q.active_orders()
                """,
            "reports/stats.py": """\
                from shop import active_orders


                def c():
                    return list(active_orders())
                """,
        },
        **QS004,
    )


def test_annotated_chain_of_constants_comments_and_class_bodies():
    check_project(
        {
            "shop/querysets.py": """\
                from django.db.models import QuerySet
                from django import forms
                from django.views.generic import ListView
                from shop.models import Order

                # the orders people care about
                ACTIVE: "QuerySet[Order]" = Order.objects.filter(status="active")  # cached!
                RECENT = ACTIVE.order_by("-created")


                class Recent(ListView):
                    queryset = RECENT


                class PickForm(forms.Form):
                    order = forms.ModelChoiceField(queryset=ACTIVE)
                """,
        },
        {
            "shop/querysets.py": """\
                from django.db.models import QuerySet
                from django import forms
                from django.views.generic import ListView
                from shop.models import Order


                # the orders people care about
                def active() -> "QuerySet[Order]":
                    return Order.objects.filter(status="active")  # cached!


                def recent():
                    return active().order_by("-created")


                class Recent(ListView):
                    queryset = recent()


                class PickForm(forms.Form):
                    order = forms.ModelChoiceField(queryset=active())
                """,
        },
        **QS004,
    )


def test_lower_case_name_is_taken_so_get_prefix():
    check_project(
        {
            "shop/querysets.py": """\
                from shop.models import Order

                OPEN = Order.objects.filter(status="open")


                def open():
                    return OPEN
                """,
        },
        {
            "shop/querysets.py": """\
                from shop.models import Order


                def get_open():
                    return Order.objects.filter(status="open")


                def open():
                    return get_open()
                """,
        },
        **QS004,
    )


def test_local_variable_with_the_new_name_is_a_collision():
    check_project(
        {
            "shop/querysets.py": DEFINITION,
            "shop/views.py": """\
                from shop.querysets import ACTIVE_ORDERS


                def f():
                    active_orders = 3
                    return ACTIVE_ORDERS, active_orders
                """,
        },
        {
            "shop/querysets.py": """\
                from shop.models import Order


                def get_active_orders():
                    return Order.objects.filter(status="active")
                """,
            "shop/views.py": """\
                from shop.querysets import get_active_orders


                def f():
                    active_orders = 3
                    return get_active_orders(), active_orders
                """,
        },
        **QS004,
    )


def _skip_reason(files, **options):
    output, result = rewrite_project(files, **QS004, **options)
    for path, text in files.items():
        assert output[path] == __import__("textwrap").dedent(text), f"{path} changed"
    [finding] = [f for f in result.findings if f.code == "QS004"]
    return finding.skip_reason


def test_skip_default_argument():
    assert "default argument" in _skip_reason(
        {"shop/querysets.py": DEFINITION + "\n\ndef f(qs=ACTIVE_ORDERS):\n    return qs\n"}
    )


def test_skip_default_argument_in_another_module():
    reason = _skip_reason(
        {
            "shop/querysets.py": DEFINITION,
            "shop/views.py": "from shop import querysets\n\n\ndef f(qs=querysets.ACTIVE_ORDERS):\n    return qs\n",
        }
    )
    assert "default argument" in reason and "shop.views" in reason


def test_skip_global_mutated_star():
    assert "global" in _skip_reason(
        {"shop/querysets.py": DEFINITION + "\n\ndef f():\n    global ACTIVE_ORDERS\n    ACTIVE_ORDERS = None\n"}
    )
    assert "mutated" in _skip_reason(
        {"shop/querysets.py": DEFINITION + "\nACTIVE_ORDERS.query.low_mark = 1\n"}
    )
    assert "`*`" in _skip_reason(
        {"shop/querysets.py": DEFINITION, "shop/views.py": "from shop.querysets import *\n"}
    )


def test_skip_suppressed_at_the_definition():
    reason = _skip_reason(
        {
            "shop/querysets.py": DEFINITION.replace('"active")', '"active")  # qsfix: ignore[QS004]'),
            "shop/views.py": "from shop.querysets import ACTIVE_ORDERS\n\n\ndef f():\n    return ACTIVE_ORDERS\n",
        }
    )
    assert reason.startswith("suppressed")


def test_reassigned_constant_is_not_a_candidate():
    outcome = check_noop(
        "from shop.models import Order\nX = Order.objects.all()\nX = X.filter(pk=1)\n", **QS004
    )
    assert outcome.findings == []


def test_a_user_outside_the_given_paths_blocks_the_rewrite(tmp_path, monkeypatch):
    from codemods import engine
    from codemods.base import EXAMPLE_MODELS
    from tests.helpers import write_project

    (tmp_path / "pyproject.toml").write_text("")
    write_project(
        tmp_path,
        {
            "shop/models.py": EXAMPLE_MODELS,
            "shop/querysets.py": DEFINITION,
            "shop/views.py": "from shop.querysets import ACTIVE_ORDERS\nx = ACTIVE_ORDERS\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    result = engine.run(["shop/querysets.py"], engine.Options(**QS004))
    [finding] = result.findings
    assert "shop.views uses it but is not among the paths" in finding.skip_reason
    assert not result.changed


def test_one_unit_across_files_in_json_and_interactive_keys():
    _, result = rewrite_project(
        {
            "shop/querysets.py": DEFINITION,
            "shop/views.py": "from shop.querysets import ACTIVE_ORDERS\n\n\ndef f():\n    return ACTIVE_ORDERS, ACTIVE_ORDERS\n",
        },
        **QS004,
    )
    keys = {f.key for f in result.findings}
    assert keys == {"QS004:shop.querysets.ACTIVE_ORDERS"}
    assert sorted(f.path for f in result.findings) == ["shop/querysets.py", "shop/views.py"]


def test_rejecting_the_unit_leaves_every_file_alone():
    _, result = rewrite_project(
        {"shop/querysets.py": DEFINITION, "shop/views.py": "from shop.querysets import ACTIVE_ORDERS\n"},
        accept=frozenset({"something-else"}),
        **QS004,
    )
    assert not result.changed


def test_composes_with_qs001_and_qs002():
    check_project(
        {
            "shop/querysets.py": DEFINITION + "\n\ndef f():\n    if ACTIVE_ORDERS:\n        return len(ACTIVE_ORDERS)\n",
        },
        {
            "shop/querysets.py": FACTORY + "\n\ndef f():\n    if active_orders().exists():\n        return active_orders().count()\n",
        },
    )


def test_without_qs004_a_module_level_queryset_is_left_to_it():
    outcome = check_noop(
        DEFINITION + "\n\ndef f():\n    return len(ACTIVE_ORDERS)\n",
        select=frozenset({"QS002"}),
    )
    assert "QS004 makes it a factory first" in outcome.findings[0].skip_reason


def test_module_attribute_reference_is_left_when_qs004_is_off():
    output, result = rewrite_project(
        {
            "shop/querysets.py": DEFINITION,
            "shop/views.py": "from shop import querysets\n\n\ndef f():\n    return len(querysets.ACTIVE_ORDERS)\n",
        },
        select=frozenset({"QS002"}),
    )
    assert not result.changed


def test_keep_names_adds_a_module_getattr():
    check_project(
        {
            "shop/querysets.py": DEFINITION + 'CLOSED = Order.objects.filter(status="closed")\nOTHER = 1\n',
        },
        {
            "shop/querysets.py": """\
                from shop.models import Order


                def active_orders():
                    return Order.objects.filter(status="active")


                def closed():
                    return Order.objects.filter(status="closed")


                def __getattr__(name):
                    # qsfix QS004: the old module-level QuerySets stay importable, built fresh at each use
                    factories = {"ACTIVE_ORDERS": active_orders, "CLOSED": closed}
                    if name in factories:
                        import warnings

                        warnings.warn(
                            f"{__name__}.{name} is deprecated: call {factories[name].__name__}() instead",
                            DeprecationWarning,
                            stacklevel=2,
                        )
                        return factories[name]()
                    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


                OTHER = 1
                """,
        },
        keep_names=True,
        **QS004,
    )


def test_keep_names_shim_works_at_runtime(tmp_path, monkeypatch):
    import importlib
    import sys
    import warnings

    output, _ = rewrite_project(
        {"shop/querysets.py": "ACTIVE = [1, 2]\nfrom shop.models import Order\nOPEN = Order.objects.none()\n"},
        keep_names=True,
        **QS004,
    )
    namespace = {"__name__": "libmod"}
    source = output["shop/querysets.py"].replace("from shop.models import Order", "class Order:\n    class objects:\n        @staticmethod\n        def none():\n            return ['fresh']")
    exec(compile(source, "libmod", "exec"), namespace)
    module = type(sys)("libmod")
    module.__dict__.update(namespace)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert module.OPEN == ["fresh"]
    assert "call open() instead" in str(caught[0].message) or "call get_open() instead" in str(caught[0].message)


# -- factory names never shadow a builtin or a name the modules involved use ------------------
def test_builtin_name_is_never_taken_so_open_stays_the_builtin():
    check_project(
        {
            "shop/querysets.py": """\
                from shop.models import Order

                OPEN = Order.objects.filter(status="open")


                def export(path):
                    with open(path, "w") as handle:
                        handle.write(str(OPEN.count()))
                """,
        },
        {
            "shop/querysets.py": """\
                from shop.models import Order


                def get_open():
                    return Order.objects.filter(status="open")


                def export(path):
                    with open(path, "w") as handle:
                        handle.write(str(get_open().count()))
                """,
        },
        **QS004,
    )


def test_builtin_name_the_module_does_not_use_is_not_taken_either():
    check_project(
        {"shop/querysets.py": 'from shop.models import Order\n\nLIST = Order.objects.filter(status="x")\n'},
        {
            "shop/querysets.py": """\
                from shop.models import Order


                def get_list():
                    return Order.objects.filter(status="x")
                """,
        },
        **QS004,
    )


def test_keyword_is_not_a_factory_name():
    check_project(
        {"shop/querysets.py": 'from shop.models import Order\n\nCLASS = Order.objects.filter(status="x")\n'},
        {
            "shop/querysets.py": """\
                from shop.models import Order


                def get_class():
                    return Order.objects.filter(status="x")
                """,
        },
        **QS004,
    )


def test_name_an_importer_reads_without_binding_it_is_taken():
    # `active_orders` in views.py comes from a `*` import of another module: a factory of that
    # name imported into views.py would replace it
    check_project(
        {
            "shop/querysets.py": DEFINITION,
            "shop/helpers.py": "def active_orders():\n    return []\n",
            "shop/views.py": """\
                from shop.helpers import *
                from shop.querysets import ACTIVE_ORDERS


                def f():
                    return ACTIVE_ORDERS.first(), active_orders()
                """,
        },
        {
            "shop/querysets.py": """\
                from shop.models import Order


                def get_active_orders():
                    return Order.objects.filter(status="active")
                """,
            "shop/views.py": """\
                from shop.helpers import *
                from shop.querysets import get_active_orders


                def f():
                    return get_active_orders().first(), active_orders()
                """,
        },
        **QS004,
    )


def test_two_constants_with_the_same_lower_case_name_get_different_factories():
    check_project(
        {
            "shop/querysets.py": """\
                from shop.models import Order

                Active = Order.objects.filter(status="active")
                ACTIVE = Order.objects.filter(status="active").order_by("pk")


                def both():
                    return Active, ACTIVE
                """,
        },
        {
            "shop/querysets.py": """\
                from shop.models import Order


                def active():
                    return Order.objects.filter(status="active")


                def get_active():
                    return Order.objects.filter(status="active").order_by("pk")


                def both():
                    return active(), get_active()
                """,
        },
        **QS004,
    )


def test_skip_when_the_name_and_get_name_are_both_taken():
    reason = _skip_reason(
        {
            "shop/querysets.py": """\
                from shop.models import Order

                OPEN = Order.objects.filter(status="open")


                def get_open():
                    return OPEN
                """,
        }
    )
    assert reason == "no free function name: `open` is a builtin; `get_open` is bound or used in shop.querysets"


# -- an import a half-done QS004 change left dangling --------------------------------------------
HALF_DONE = {
    "shop/querysets.py": FACTORY,  # converted by another tool...
    "shop/views.py": """\
        from shop.querysets import ACTIVE_ORDERS as AO


        def first():
            return AO.first()
        """,  # ...which did not convert the importer
}


def test_check_reports_an_import_of_a_name_that_became_a_factory():
    outcome = check_noop(HALF_DONE["shop/views.py"], path="shop/views.py", files={"shop/querysets.py": FACTORY}, **QS004)
    [finding] = outcome.findings
    assert (finding.code, finding.line, finding.column, finding.fix, finding.skip_reason) == ("QS004", 1, 28, None, None)
    assert finding.message == (
        "`ACTIVE_ORDERS` is imported from shop.querysets, which no longer defines it but defines "
        "the factory `active_orders()`: a QS004 change was left half-done; import `active_orders` "
        "and call it where `AO` is used"
    )


def test_check_reports_a_dangling_import_in_a_file_naming_nothing_else_relevant():
    outcome = check_noop(
        "from .querysets import ACTIVE_ORDERS\n\nVALUE = 1\n", path="shop/views.py",
        files={"shop/querysets.py": FACTORY}, **QS004,
    )
    assert [(f.code, f.line, f.fix) for f in outcome.findings] == [("QS004", 1, None)]


def test_check_reports_a_dangling_import_through_the_cli(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import cli
    from codemods.base import EXAMPLE_MODELS
    from tests.helpers import write_project

    write_project(tmp_path, {"manage.py": "", "shop/models.py": EXAMPLE_MODELS, **HALF_DONE})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.main, ["check", "--no-cache"])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("shop/views.py:1:28: QS004 `ACTIVE_ORDERS` is imported from shop.querysets")


def test_no_dangling_import_when_the_module_still_provides_the_name():
    for querysets in (
        FACTORY + "\n\nACTIVE_ORDERS = None\n",  # still bound
        FACTORY + "\n\ndef __getattr__(name):\n    return active_orders()\n",  # a module __getattr__
        "from shop.legacy import *\n" + FACTORY,  # perhaps through a `*` import
        FACTORY.replace("return Order.objects", "return 1 + Order.objects"),  # not a factory
    ):
        outcome = check_noop(
            "from shop.querysets import ACTIVE_ORDERS\n", path="shop/views.py",
            files={"shop/querysets.py": querysets, "shop/legacy.py": "X = 1\n"}, **QS004,
        )
        assert outcome.findings == [], querysets


def test_parallel_run_plans_from_the_sources_the_main_process_read():
    # worker processes get summaries, not sources: the plan's facts must be read before
    from codemods.engine import PARALLEL_THRESHOLD

    importer = "from shop.querysets import ACTIVE_ORDERS\n\n\ndef first():\n    return ACTIVE_ORDERS.first()\n"
    files = {"shop/querysets.py": DEFINITION}
    files.update({f"shop/v{i:02}.py": importer for i in range(PARALLEL_THRESHOLD + 5)})
    output, result = rewrite_project(files, jobs=2, **QS004)
    assert [f.skip_reason for f in result.findings] == [None] * len(files)
    assert output["shop/querysets.py"] == FACTORY
    assert output["shop/v07.py"] == importer.replace("ACTIVE_ORDERS.first", "active_orders().first").replace(
        "import ACTIVE_ORDERS", "import active_orders"
    )


# -- generated code a reviewer accepts as is (issue 12, item 9) ------------------------------


def test_two_blank_lines_after_a_factory_followed_by_other_statements():
    check_transformed(
        """\
        from shop.models import Order

        ACTIVE = Order.objects.filter(status="active")
        RECENT = ACTIVE.order_by("-created")
        LIMIT = 10
        SHIPPED = Order.objects.filter(status="shipped")  # shown on the dashboard
        # settings

        DEBUG = False
        LAST = Order.objects.filter(status="last")


        def newest():
            return RECENT.first(), SHIPPED, LAST
        """,
        """\
        from shop.models import Order


        def active():
            return Order.objects.filter(status="active")


        def recent():
            return active().order_by("-created")


        LIMIT = 10


        def shipped():
            return Order.objects.filter(status="shipped")  # shown on the dashboard


        # settings

        DEBUG = False


        def last():
            return Order.objects.filter(status="last")


        def newest():
            return recent().first(), shipped(), last()
        """,
        **QS004,
    )


def test_factory_on_the_first_line_gets_no_blank_lines_above():
    check_transformed(
        """\
        OPEN_ORDERS = Order.objects.filter(status="open")
        from shop.models import Order
        """,
        """\
        def open_orders():
            return Order.objects.filter(status="open")


        from shop.models import Order
        """,
        **QS004,
    )
