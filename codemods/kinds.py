"""The answers of the QuerySet typing (codemods.querysets): kinds and confidences.

A module of its own, without imports, so that the passes' declarations can name them without
loading the typing machinery (a run answered from the cache never needs it).
"""

UNKNOWN, LIKELY, PROVEN = 0, 1, 2

# Kinds
QUERYSET = "QuerySet"
MANAGER = "Manager"
RAW = "RawQuerySet"
MODEL = "model class"
INSTANCE = "model instance"
FUNCTION = "function"
METHOD = "method"  # a bound method not yet called: `Order.objects.filter`
OTHER = "other"
MODULE = "module"
NOTHING = "unknown"
PENDING = "pending"  # a binding still being typed (a loop like `qs = qs.filter()`)

# QuerySet (and Manager-proxied) methods that return a new QuerySet without evaluating it:
# the typing's chains and the index's "reading `self.queryset` through a clone shares nothing"
QUERYSET_BUILDERS = frozenset(
    """all filter exclude order_by reverse distinct values values_list dates datetimes none
    union intersection difference select_related prefetch_related extra defer only using
    select_for_update annotate alias complex_filter""".split()
)

# Calls whose value depends on when they run: evaluated at import, they freeze.
VOLATILE_CALLS = frozenset(
    {
        "django.utils.timezone.now", "django.utils.timezone.localtime",
        "django.utils.timezone.localdate", "datetime.datetime.now", "datetime.datetime.utcnow",
        "datetime.datetime.today", "datetime.date.today", "time.time", "uuid.uuid4",
        "random.random", "random.randint", "random.choice",
    }
)
