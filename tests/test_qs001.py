"""QS001 exists-for-truthiness: exact rewrites, and a no-op test for every false-positive shape."""

from tests.helpers import check_noop, check_transformed, rewrite

QS001 = {"select": frozenset({"QS001"})}


def test_every_boolean_context():
    check_transformed(
        """\
        from shop.models import Order
        def f(flag):
            if Order.objects.filter(status="a"):
                pass
            elif Order.objects.filter(status="b"):
                pass
            while Order.objects.filter(status="c"):
                break
            assert Order.objects.filter(status="d")
            x = 1 if Order.objects.filter(status="e") else 2
            y = [o for o in range(3) if Order.objects.filter(pk=o)]
            z = bool(Order.objects.filter(status="f"))
            return not Order.objects.filter(status="g")
        """,
        """\
        from shop.models import Order
        def f(flag):
            if Order.objects.filter(status="a").exists():
                pass
            elif Order.objects.filter(status="b").exists():
                pass
            while Order.objects.filter(status="c").exists():
                break
            assert Order.objects.filter(status="d").exists()
            x = 1 if Order.objects.filter(status="e").exists() else 2
            y = [o for o in range(3) if Order.objects.filter(pk=o).exists()]
            z = Order.objects.filter(status="f").exists()
            return not Order.objects.filter(status="g").exists()
        """,
        **QS001,
    )


def test_and_or_operands_in_a_boolean_context():
    check_transformed(
        """\
        from shop.models import Order
        def f(flag):
            if flag and (Order.objects.filter(status="a") or not Order.objects.all()):
                return 1
        """,
        """\
        from shop.models import Order
        def f(flag):
            if flag and (Order.objects.filter(status="a").exists() or not Order.objects.all().exists()):
                return 1
        """,
        **QS001,
    )


def test_local_queryset_only_tested():
    check_transformed(
        """\
        from shop.models import Order
        def f(customer):
            pending = Order.objects.filter(customer=customer)
            if pending:
                notify(customer)
        """,
        """\
        from shop.models import Order
        def f(customer):
            pending = Order.objects.filter(customer=customer)
            if pending.exists():
                notify(customer)
        """,
        **QS001,
    )


def test_local_used_only_to_build_other_querysets():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            if orders:
                return orders.filter(status="a").order_by("pk")
        """,
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            if orders.exists():
                return orders.filter(status="a").order_by("pk")
        """,
        **QS001,
    )


def test_parenthesised_multiline_test_keeps_its_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        if (
            Order.objects.filter(status="a")
        ):
            pass
        """,
        """\
        from shop.models import Order
        if (
            Order.objects.filter(status="a")
        ).exists():
            pass
        """,
        **QS001,
    )


def test_queryset_union_gets_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        if Order.objects.filter(status="a") | Order.objects.filter(status="b"):
            pass
        """,
        """\
        from shop.models import Order
        if (Order.objects.filter(status="a") | Order.objects.filter(status="b")).exists():
            pass
        """,
        **QS001,
    )


# -- rows used elsewhere: unsafe ---------------------------------------------------------------
def test_iterated_after_if_is_unsafe():
    source = """\
    from shop.models import Order
    def f():
        orders = Order.objects.all()
        if orders:
            for o in orders:
                print(o)
    """
    outcome = check_noop(source, **QS001)
    assert "iterated on line 5" in outcome.findings[0].message
    forced = rewrite(source, unsafe=True, **QS001)
    assert "if orders.exists():" in forced.output


def test_passed_to_render_after_if_is_unsafe():
    outcome = check_noop(
        """\
        from django.shortcuts import render
        from shop.models import Order
        def view(request):
            orders = Order.objects.all()
            if not orders:
                return render(request, "empty.html")
            return render(request, "list.html", {"orders": orders})
        """,
        **QS001,
    )
    [finding] = outcome.findings
    assert finding.fix.applicability == "unsafe"
    assert "stored in a container on line 7" in finding.message


def test_use_inside_a_loop_before_the_test_counts():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            for _ in range(3):
                first = list(orders)
                if orders:
                    pass
        """,
        **QS001,
    )
    assert "passed to list() on line 5" in outcome.findings[0].message


def test_use_in_a_nested_function_counts():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            def later():
                return [o.pk for o in orders]
            if orders:
                return later
        """,
        **QS001,
    )
    assert outcome.findings[0].fix.applicability == "unsafe"


def test_two_truth_tests_read_one_cache():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            orders = Order.objects.all()
            a = bool(orders)
            b = not orders
            return a, b
        """,
        **QS001,
    )
    assert [f.fix.applicability for f in outcome.findings] == ["unsafe", "unsafe"]


# -- no-op shapes -----------------------------------------------------------------------------
def test_noop_value_of_or_is_used():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f(default):
            x = Order.objects.all() or default
            return default or Order.objects.all()
        """,
        **QS001,
    )
    assert outcome.findings == []


def test_noop_manager_is_always_true():
    outcome = check_noop(
        "from shop.models import Order\nif Order.objects:\n    pass\n", **QS001
    )
    assert "Manager" in outcome.findings[0].skip_reason


def test_noop_none_guard():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f(flag):
            qs = None
            if flag:
                qs = Order.objects.all()
            if qs and qs.exists():
                return qs
        """,
        **QS001,
    )
    assert "on one path" in outcome.findings[0].skip_reason


def test_noop_else_of_isinstance():
    outcome = check_noop(
        """\
        from django.db.models import QuerySet
        from shop.models import Order
        def f(flag):
            items = Order.objects.all()
            if isinstance(items, QuerySet):
                pass
            else:
                if items:
                    return 1
        """,
        **QS001,
    )
    assert "isinstance" in outcome.findings[0].skip_reason


def test_noop_variable_named_queryset_from_another_library():
    outcome = check_noop(
        """\
        from search import engine
        def f():
            queryset = engine.query("x")
            if queryset:
                return 1
        """,
        **QS001,
    )
    assert outcome.findings == []


def test_noop_parameter_callers_may_pass_a_list():
    check_noop("def f(orders=None):\n    if orders:\n        return 1\n", **QS001)


def test_noop_raw_queryset():
    outcome = check_noop(
        'from shop.models import Order\nif Order.objects.raw("SELECT 1"):\n    pass\n', **QS001
    )
    assert "RawQuerySet" in outcome.findings[0].skip_reason


def test_noop_instance_is_not_a_queryset():
    check_noop(
        """\
        from shop.models import Order
        def f():
            order = Order.objects.first()
            if order and Order.objects.get(pk=1):
                return order
        """,
        **QS001,
    )


def test_noop_suppressed():
    outcome = check_noop(
        "from shop.models import Order\nif Order.objects.all():  # qsfix: ignore\n    pass\n",
        **QS001,
    )
    assert outcome.findings[0].skip_reason.startswith("suppressed")


def test_noop_comment_inside_bool_call():
    check_noop(
        """\
        from shop.models import Order
        flag = bool(
            Order.objects.all()  # every order
        )
        """,
        **QS001,
    )


def test_both_passes_together():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            if Order.objects.filter(status="a"):
                return len(Order.objects.all())
        """,
        """\
        from shop.models import Order
        def f():
            if Order.objects.filter(status="a").exists():
                return Order.objects.all().count()
        """,
    )


def test_tested_in_a_loop_is_unsafe():
    for body in ("for _ in range(3):\n        if orders:\n            pass", "while orders:\n        break"):
        outcome = check_noop(
            "from shop.models import Order\ndef f():\n    orders = Order.objects.all()\n    " + body + "\n",
            **QS001,
        )
        assert outcome.findings[0].fix.applicability == "unsafe"
        assert "loop" in outcome.findings[0].message


def test_while_loop_rebinding_each_round_is_safe():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            while True:
                orders = Order.objects.filter(status="a")
                if not orders:
                    break
        """,
        """\
        from shop.models import Order
        def f():
            while True:
                orders = Order.objects.filter(status="a")
                if not orders.exists():
                    break
        """,
        **QS001,
    )


# -- issue 12: messages that do not contradict themselves; which comments silence -------------
def test_noop_exists_on_a_name_that_may_be_an_instance_is_not_reported():
    # `e` is a model instance on one path, a QuerySet on the other: `e.exists()` is a bool
    # whatever `e` is, so there is no truth test of a QuerySet to report (not even skipped)
    outcome = check_noop(
        """\
        from shop.models import Order
        def f(flag):
            if flag:
                e = Order.objects.get(pk=1)
            else:
                e = Order.objects.filter(pk=2)
            if not e.exists():
                return 1
            if e:
                return 2
        """,
        **QS001,
    )
    assert [(f.line, f.message, f.skip_reason) for f in outcome.findings] == [
        (9, "testing the truth of `e`", "a QuerySet on one path and a model instance on another"),
    ]


def test_todo_comment_about_evaluating_does_not_silence():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            # TODO: evaluate moving this to a celery task
            if Order.objects.filter(status="open"):
                return 1
        """,
        """\
        from shop.models import Order
        def f():
            # TODO: evaluate moving this to a celery task
            if Order.objects.filter(status="open").exists():
                return 1
        """,
        **QS001,
    )


def test_comment_saying_on_purpose_above_the_statement_silences():
    outcome = check_noop(
        """\
        from shop.models import Order
        def f():
            # truth test on purpose: the rows are cached for the loop in the template
            if Order.objects.filter(status="open"):
                return 1
        """,
        **QS001,
    )
    assert [f.skip_reason for f in outcome.findings] == [
        "a comment says the evaluation is deliberate: # truth test on purpose: the rows are cached "
        "for the loop in the template"
    ]
    assert outcome.findings[0].message == 'testing the truth of `Order.objects.filter(status="open")`'


# -- generated code a reviewer accepts as is (issue 12, item 9) ------------------------------
def test_call_spanning_lines_takes_exists_without_added_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            assert Order.objects.filter(
                status="a",
            )
            if Order.objects.filter(status="b")[
                :1
            ]:
                pass
        """,
        """\
        from shop.models import Order
        def f():
            assert Order.objects.filter(
                status="a",
            ).exists()
            if Order.objects.filter(status="b")[
                :1
            ].exists():
                pass
        """,
        **QS001,
    )


def test_bool_argument_on_lines_of_its_own_keeps_the_layout():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return bool(
                Order.objects.filter(
                    status="a",
                )
            )
        """,
        """\
        from shop.models import Order
        def f():
            return (
                Order.objects.filter(
                    status="a",
                )
            ).exists()
        """,
        **QS001,
    )


def test_bool_argument_breaking_lines_outside_brackets_is_parenthesised():
    # `Order.objects\n.filter()` parsed only inside bool(...)'s parentheses
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return bool(Order.objects
                        .filter(status="a"))
        """,
        """\
        from shop.models import Order
        def f():
            return (Order.objects
                        .filter(status="a")).exists()
        """,
        **QS001,
    )


def test_bool_argument_on_one_line_needs_no_parentheses():
    check_transformed(
        """\
        from shop.models import Order
        def f():
            return bool(Order.objects.filter(status="a"))
        """,
        """\
        from shop.models import Order
        def f():
            return Order.objects.filter(status="a").exists()
        """,
        **QS001,
    )
