"""QS006 lost-update: exact rewrites, and every exclusion the issue lists."""

from tests.helpers import check_noop, check_transformed, rewrite

QS006 = dict(select=frozenset({"QS006"}), unsafe=True)

COUNTERS = {
    "blog/models.py": """\
    from django.db import models


    class Post(models.Model):
        title = models.CharField(max_length=100)
        views = models.PositiveIntegerField(default=0)
        likes = models.IntegerField(default=0)
        score = models.FloatField(default=0)

        def __str__(self):
            return self.title


    class Versioned(models.Model):
        views = models.IntegerField(default=0)
        version = models.IntegerField(default=0)
    """,
}


def findings(source, **kwargs):
    outcome = rewrite(source, files=COUNTERS, **{**QS006, **kwargs})
    return [f for f in outcome.findings if f.code == "QS006"]


def test_augmented_assignment_with_models_module():
    outcome = check_transformed(
        """\
        from django.db import models
        from django.shortcuts import get_object_or_404

        from blog.models import Post


        def like(request, pk):
            post = get_object_or_404(Post, pk=pk)
            post.likes += 1
            post.score -= 0.5 * 2
            post.title = "liked"
            post.save()
        """,
        """\
        from django.db import models
        from django.shortcuts import get_object_or_404

        from blog.models import Post


        def like(request, pk):
            post = get_object_or_404(Post, pk=pk)
            post.likes = models.F("likes") + 1
            post.score = models.F("score") - (0.5 * 2)
            post.title = "liked"
            post.save(update_fields=["likes", "score", "title"])
        """,
        files=COUNTERS,
        **QS006,
    )
    (finding,) = outcome.findings
    assert finding.line == 9 and "read on line 8" in finding.message and "saved on line 12" in finding.message


def test_loop_over_a_queryset_and_existing_update_fields():
    check_transformed(
        """\
        from django.db.models import F

        from blog.models import Post


        def bump_all(amount):
            for post in Post.objects.filter(views__gt=0):
                post.views = post.views + amount
                post.save(update_fields=["views"])
        """,
        """\
        from django.db.models import F

        from blog.models import Post


        def bump_all(amount):
            for post in Post.objects.filter(views__gt=0):
                post.views = F("views") + amount
                post.save(update_fields=["views"])
        """,
        files=COUNTERS,
        **QS006,
    )


def test_instance_passed_on_keeps_save_as_it_is():
    check_transformed(
        """\
        from django.db.models import F

        from blog.models import Post


        def view(pk, log):
            post = Post.objects.filter(pk=pk).first()
            log(post)
            post.views += 1
            post.save()
            return post
        """,
        """\
        from django.db.models import F

        from blog.models import Post


        def view(pk, log):
            post = Post.objects.filter(pk=pk).first()
            log(post)
            post.views = F("views") + 1
            post.save()
            post.refresh_from_db(fields=["views"])
            return post
        """,
        files=COUNTERS,
        **QS006,
    )


def test_read_between_change_and_save_is_a_diagnostic():
    (finding,) = findings(
        """\
        from blog.models import Post


        def view(pk):
            post = Post.objects.get(pk=pk)
            post.views += 1
            print(post.views)
            post.save()
        """
    )
    assert finding.fix is None and "line 7" in finding.message


def test_without_unsafe_nothing_changes():
    outcome = check_noop(
        """\
        from blog.models import Post


        def view(pk):
            post = Post.objects.get(pk=pk)
            post.views += 1
            post.save()
        """,
        files=COUNTERS,
        select=frozenset({"QS006"}),
    )
    assert outcome.skipped() == ["unsafe fix: applied only with --unsafe"]


def test_f_taken_by_something_else_is_a_diagnostic():
    (finding,) = findings(
        """\
        from blog.models import Post


        def F(x):
            return x


        def view(pk):
            post = Post.objects.get(pk=pk)
            post.views += 1
            post.save()
        """
    )
    assert finding.fix is None


def test_created_instances_are_silent():
    assert not findings(
        """\
        from blog.models import Post


        def new(title):
            post = Post(title=title)
            post.views += 1
            post.save()
            other = Post.objects.create(title=title)
            other.views += 1
            other.save()
        """
    )


def test_locked_row_is_silent():
    assert not findings(
        """\
        from django.db import transaction

        from blog.models import Post


        def view(pk):
            with transaction.atomic():
                post = Post.objects.select_for_update().get(pk=pk)
                post.views += 1
                post.save()
        """
    )


def test_value_not_derived_from_itself_is_silent():
    assert not findings(
        """\
        from blog.models import Post


        def view(pk, other):
            post = Post.objects.get(pk=pk)
            post.views = other.views + 1
            post.likes = post.views + 1
            post.save()
        """
    )


def test_version_field_is_silent():
    assert not findings(
        """\
        from blog.models import Versioned


        def view(pk):
            row = Versioned.objects.get(pk=pk)
            row.views += 1
            row.save()
        """
    )


def test_not_a_numeric_field_is_silent():
    assert not findings(
        """\
        from blog.models import Post


        def view(pk):
            post = Post.objects.get(pk=pk)
            post.title += "!"
            post.save()
        """
    )


def test_no_save_in_the_function_is_silent():
    assert not findings(
        """\
        from blog.models import Post


        def view(pk):
            post = Post.objects.get(pk=pk)
            post.views += 1
            return post
        """
    )


def test_save_of_other_fields_is_silent():
    assert not findings(
        """\
        from blog.models import Post


        def view(pk):
            post = Post.objects.get(pk=pk)
            post.views += 1
            post.save(update_fields=["title"])
        """
    )


def test_field_overwritten_before_save_is_silent():
    assert not findings(
        """\
        from blog.models import Post


        def view(pk):
            post = Post.objects.get(pk=pk)
            post.views += 1
            post.views = 0
            post.save()
        """
    )


def test_parameter_is_not_known_to_be_read_from_the_database():
    assert not findings(
        """\
        from blog.models import Post


        def view(post: Post):
            post.views += 1
            post.save()
        """
    )


def test_save_in_the_other_branch_is_silent():
    assert not findings(
        """\
        from blog.models import Post


        def view(pk, flag):
            post = Post.objects.get(pk=pk)
            if flag:
                post.views += 1
            else:
                post.save()
        """
    )


def test_tests_are_skipped():
    source = """\
    from blog.models import Post


    def test_view():
        post = Post.objects.get(pk=1)
        post.views += 1
        post.save()
    """
    for path in ("blog/tests/test_views.py", "blog/test_views.py", "blog/tests.py"):
        assert not findings(source, path=path)


def test_f_joins_an_existing_django_models_import_once():
    check_transformed(
        """\
        from django.db.models import Count, Q

        from blog.models import Post


        def like(pk):
            post = Post.objects.get(pk=pk)
            post.likes += 1
            post.save()


        def view(pk):
            post = Post.objects.get(pk=pk)
            post.views -= 1
            post.save()
        """,
        """\
        from django.db.models import Count, F, Q

        from blog.models import Post


        def like(pk):
            post = Post.objects.get(pk=pk)
            post.likes = F("likes") + 1
            post.save(update_fields=["likes"])


        def view(pk):
            post = Post.objects.get(pk=pk)
            post.views = F("views") - 1
            post.save(update_fields=["views"])
        """,
        files=COUNTERS,
        **QS006,
    )


def test_loop_in_a_command_reloads_before_the_instance_is_used_again():
    check_transformed(
        """\
        from django.utils import timezone

        from blog.models import Post


        def decay(notify):
            for post in Post.objects.filter(likes__gt=0):
                post.title = "old"
                post.likes -= 1
                post.save()
                notify(post)
        """,
        """\
        from django.utils import timezone

        from blog.models import Post
        from django.db.models import F


        def decay(notify):
            for post in Post.objects.filter(likes__gt=0):
                post.title = "old"
                post.likes = F("likes") - 1
                post.save(update_fields=["title", "likes"])
                post.refresh_from_db(fields=["likes"])
                notify(post)
        """,
        files=COUNTERS,
        **QS006,
    )


def test_tests_are_checked_when_the_switch_is_on(monkeypatch):
    from codemods import instance_flow

    monkeypatch.setattr(instance_flow, "CHECK_TESTS", True)
    source = """\
    from blog.models import Post


    def test_view():
        post = Post.objects.get(pk=1)
        post.views += 1
        post.save()
    """
    assert [f.code for f in findings(source, path="blog/tests/test_views.py")] == ["QS006"]


def test_tests_are_checked_with_the_check_tests_option():
    source = """\
    from blog.models import Post


    def test_view():
        post = Post.objects.get(pk=1)
        post.views += 1
        post.save()
    """
    assert findings(source, path="blog/tests/test_views.py") == []
    found = findings(source, path="blog/tests/test_views.py", check_tests=True)
    assert [(f.code, f.line) for f in found] == [("QS006", 6)]  # the `+=`
