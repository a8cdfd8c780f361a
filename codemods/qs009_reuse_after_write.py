"""QS009 reuse-after-write: a QuerySet's cached rows read again after rows of its model changed.

Evaluating a QuerySet (iterating it, `list()`, `len()`, `bool()`) fills its result cache;
every later read of the same object (iterating again, `len()`, `count()`, `exists()`, `[i]`)
answers from that cache without a query. When rows of the model are written in between
(`Model.objects.filter(...).update(...)`, `create()`, `delete()`, another instance's `save()`),
the second read serves the rows as they were before the write. `qs.all()` is a fresh clone
that queries again.

Django docs: https://docs.djangoproject.com/en/stable/topics/db/queries/#caching-and-querysets
"""

from __future__ import annotations

import ast
import functools
from typing import Iterator, Optional

from . import instance_flow as flow
from .base import Example, Pass, PassInfo
from .index import chain_steps
from .querysets import FUNCTION, INSTANCE, MANAGER, PROVEN, QUERYSET, QUERYSET_BUILDERS, UNKNOWN
from .rewrite import method_call

# Builtins that iterate their argument (and so fill the cache).
FILLING_BUILTINS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "len", "bool", "enumerate"})
# Methods answered from the result cache once it is filled.
CACHE_READING_METHODS = frozenset({"count", "exists"})
# Methods of the same QuerySet object that empty its cache (Django sets `_result_cache = None`).
CACHE_RESETTING_METHODS = frozenset({"update", "delete"})
# Methods that build or run a fresh query, whatever the cache holds.
FRESH_METHODS = QUERYSET_BUILDERS | frozenset(
    "get latest earliest first last aggregate iterator in_bulk explain values_list".split()
)
QUERYSET_WRITES = frozenset(
    "update delete create bulk_create bulk_update get_or_create update_or_create".split()
)
INSTANCE_WRITES = frozenset({"save", "delete"})
TERMINATING = (ast.Return, ast.Raise, ast.Break, ast.Continue)
BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
# Leaving one block of a statement for another: possible (True) or exclusive branches.
BLOCK_CHANGES = {
    ("body", "orelse"): (ast.For, ast.AsyncFor, ast.While, ast.Try),
    ("body", "handlers"): (ast.Try,),
    ("body", "finalbody"): (ast.Try,),
    ("handlers", "finalbody"): (ast.Try,),
    ("orelse", "finalbody"): (ast.Try,),
}


class ReuseAfterWrite(Pass):
    @property
    def idle(self) -> bool:
        return flow.skips_file(self.analysis)

    def visit_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            return
        target = node.targets[0]
        analysis = self.analysis
        bindings = analysis.local_bindings(target)
        if bindings is None or len(bindings) != 1 or bindings[0].kind != "assign":
            return
        qstype = analysis.type_of(node.value)
        if qstype.kind != QUERYSET or qstype.confidence != PROVEN or qstype.model is None:
            return  # a custom manager method may return a dict or a list (no cache to go stale)
        scope = analysis.scopes.binding_scope(target)
        events = []
        for ref in analysis.scopes.references(scope, target.id):
            if analysis.scopes.scope(ref) is not scope and not self.in_comprehension_of(ref, scope):
                return  # read in a nested function: when it runs is not known
            events.append((self.use_of(ref), ref))
        events.sort(key=lambda e: (e[1].lineno, e[1].col_offset))
        fills = [ref for kind, ref in events if kind == "fill"]
        if not fills:
            return
        writes = list(self.writes(scope.node, qstype.model, target.id))
        for kind, read in events:
            if kind in ("fill", "read"):
                self.check_read(target.id, qstype.model, read, fills, writes, events)

    def in_comprehension_of(self, ref: ast.Name, scope) -> bool:
        current = self.analysis.scopes.scope(ref)
        while current is not None and current.kind == "comprehension":
            current = current.parent
        return current is scope

    def check_read(self, name, model, read, fills, writes, events) -> None:
        analysis = self.analysis
        read_stmt = analysis.statement_of(read)
        for write, what in writes:
            write_stmt = analysis.statement_of(write)
            if not reaches(analysis.parents, write_stmt, read_stmt):
                continue
            for fill in fills:
                if fill is read or not reaches(analysis.parents, analysis.statement_of(fill), write_stmt):
                    continue
                between = [
                    kind for kind, ref in events
                    if _position(fill) < _position(ref) < _position(read) and kind in ("reset", "escape")
                ]
                if between:
                    return  # emptied, or handed to code that may empty it or read it
                self.report_read(name, model, read, fill, write, what)
                return

    def report_read(self, name, model, read, fill, write, what) -> None:
        model_name = model.rpartition(".")[2]
        self.report(
            read,
            f"`{name}` was evaluated on line {fill.lineno} (its rows are cached), {model_name} "
            f"rows are written on line {write.lineno} ({what}), and line {read.lineno} reads "
            f"the cached rows again: they are the rows from before the write; read a fresh "
            f"copy with `{name}.all()`",
            fix_title=f"Replace with `{name}.all()`",
            edits=[(read, lambda original, updated: method_call(updated, "all"))],
            unsafe_because=(
                "`.all()` runs the query again (one more query), and code relying on changes "
                "made in memory to the cached instances sees fresh ones"
            ),
        )

    def use_of(self, ref: ast.Name) -> str:
        """fill (evaluates it: fills the cache), read (answered from a filled cache), reset
        (empties the cache), fresh (a new query or clone), or escape (anything else)."""
        analysis = self.analysis
        parent = analysis.parents.get(ref)
        if isinstance(parent, ast.Attribute) and parent.value is ref:
            grand = analysis.parents.get(parent)
            if not (isinstance(grand, ast.Call) and grand.func is parent):
                return "escape" if parent.attr.startswith("_") else "fresh"
            if parent.attr in CACHE_RESETTING_METHODS:
                return "reset"
            if parent.attr in CACHE_READING_METHODS:
                return "read"
            return "fresh" if parent.attr in FRESH_METHODS else "escape"
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is ref:
            return "fill"
        if isinstance(parent, ast.Call) and parent.args and parent.args[0] is ref and len(parent.args) == 1:
            if any(analysis.is_builtin(parent.func, b) for b in FILLING_BUILTINS):
                return "fill"
        if isinstance(parent, (ast.Call, ast.keyword)):
            return "fill" if self.passed_to_an_iterating_function(ref, parent) else "escape"
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is ref:
            return "fill"
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
            return "fill"
        if isinstance(parent, ast.Subscript) and parent.value is ref and isinstance(parent.ctx, ast.Load):
            return "read" if not isinstance(parent.slice, ast.Slice) else "escape"
        if (
            isinstance(parent, ast.Compare)
            and len(parent.ops) == 1
            and isinstance(parent.ops[0], (ast.In, ast.NotIn))
            and parent.comparators[0] is ref
        ):
            return "fill"
        return "escape"

    def passed_to_an_iterating_function(self, ref: ast.Name, parent: ast.AST) -> bool:
        """`helper(qs)` where the project function `helper` only iterates that parameter."""
        call = self.analysis.parents.get(parent) if isinstance(parent, ast.keyword) else parent
        if not isinstance(call, ast.Call) or call.func is ref:
            return False
        called = self.analysis.type_of(call.func)
        if called.kind != FUNCTION:
            return False
        if isinstance(parent, ast.keyword):
            return function_iterates(self.analysis.index, called.method, None, parent.arg)
        if any(isinstance(a, ast.Starred) for a in call.args):
            return False
        return function_iterates(self.analysis.index, called.method, call.args.index(ref), None)

    def writes(self, function: ast.AST, model: str, name: str) -> Iterator[tuple[ast.Call, str]]:
        """Calls in `function` (not in nested functions) that write rows of `model`, except
        through the QuerySet `name` itself or instances read from it."""
        analysis = self.analysis
        stack = list(ast.iter_child_nodes(function))
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            stack.extend(ast.iter_child_nodes(node))
            if not isinstance(node, ast.Call):
                continue
            called = analysis.type_of(node.func)
            if called.kind == FUNCTION:  # a project function that writes the model itself
                method = function_writes(analysis.index, called.method, model)
                if method is not None:
                    yield node, f"`{analysis.code(node.func)}()`, which calls `.{method}()`"
                continue
            if not isinstance(node.func, ast.Attribute):
                continue
            method, receiver = node.func.attr, node.func.value
            if method not in QUERYSET_WRITES and method not in INSTANCE_WRITES:
                continue
            t = analysis.type_of(receiver)
            if t.model != model or t.confidence <= UNKNOWN:
                continue
            root, _ = chain_steps(receiver)
            clone = (
                t.kind == QUERYSET and isinstance(receiver, ast.Call)
                and isinstance(root, ast.Name) and root.id == name
            )
            if not clone and self.derived_from(receiver, name):
                continue  # `qs.filter(...).update()` writes through a clone: it counts
            if (t.kind in (QUERYSET, MANAGER) and method in QUERYSET_WRITES) or (
                t.kind == INSTANCE and method in INSTANCE_WRITES
            ):
                yield node, f"`.{method}()`"

    def derived_from(self, expr: ast.AST, name: str) -> bool:
        """`expr` is the QuerySet `name`, built from it, or an instance read from it (its
        writes keep the cached instances in step, or empty the cache)."""
        root, _ = chain_steps(expr)
        if not isinstance(root, ast.Name):
            return True  # not known: count it as no write
        if root.id == name:
            return True
        bindings = self.analysis.local_bindings(root)
        for binding in bindings or ():
            value = binding.value
            if value is None:
                continue
            inner, _ = chain_steps(value)
            if isinstance(inner, ast.Name) and inner.id == name:
                return True
            if isinstance(inner, ast.Call) or any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(value)
            ):
                return True  # `enumerate(qs)`, `zip(qs, ...)`: its items may be the cached ones
        return False


def _project_function(index, qualname: Optional[str]):
    """(summary, definition) of a module-level function of the project, or None."""
    if not qualname:
        return None
    module, _, name = qualname.rpartition(".")
    summary = index.modules.get(module)
    if summary is None or name not in summary.functions:
        return None
    for node in _module_tree(index, summary.path).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return summary, node
    return None


def function_iterates(index, qualname: Optional[str], position: Optional[int], keyword: Optional[str]) -> bool:
    """Every use of the parameter (by position or keyword) in the function's body iterates it
    (`for x in p`, a comprehension, `list(p)`, `len(p)`): passing a QuerySet fills its cache
    and nothing else."""
    found = _project_function(index, qualname)
    if found is None:
        return False
    _, function = found
    params = [*function.args.posonlyargs, *function.args.args]
    if keyword is not None:
        params = [p for p in [*params, *function.args.kwonlyargs] if p.arg == keyword]
        param = params[0] if params else None
    else:
        param = params[position] if position is not None and position < len(params) else None
    if param is None:
        return False
    parents = {id(child): node for node in ast.walk(function) for child in ast.iter_child_nodes(node)}
    uses = [n for n in ast.walk(function) if isinstance(n, ast.Name) and n.id == param.arg]
    for use in uses:
        parent = parents.get(id(use))
        if not isinstance(use.ctx, ast.Load):
            return False
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is use:
            continue
        if (
            isinstance(parent, ast.Call) and parent.args == [use] and not parent.keywords
            and isinstance(parent.func, ast.Name) and parent.func.id in FILLING_BUILTINS
        ):
            continue
        return False
    return bool(uses)


def function_writes(index, qualname: Optional[str], model: str) -> Optional[str]:
    """The write method a project function calls on `model`'s manager directly
    (`Model.objects.filter(...).update(...)` in its body), if any."""
    found = _project_function(index, qualname)
    if found is None:
        return None
    summary, function = found
    module = summary.module
    stack = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in QUERYSET_WRITES:
            continue
        root, steps = chain_steps(node.func.value)
        if not isinstance(root, ast.Name) or not steps or "[i]" in steps or "[:]" in steps:
            continue
        if root.id in summary.imports:
            target = index.resolve(summary.imports[root.id])
        elif root.id in summary.classes:
            target = f"{module}.{root.id}"
        else:
            continue
        if target == model and steps[0] in (".objects", "._default_manager"):
            return node.func.attr
    return None


@functools.lru_cache(maxsize=64)
def _parsed(data: bytes) -> ast.Module:
    return ast.parse(data)


def _module_tree(index, path: str) -> ast.Module:
    """Another module's tree (parsed again: the index keeps summaries, not trees)."""
    try:
        return _parsed(index.source_bytes(path))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return ast.Module(body=[], type_ignores=[])


def _position(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


def block_path(parents: dict, stmt: ast.AST) -> list[tuple[ast.AST, str, int]]:
    """(statement holding the block, block field, index) from the function down to `stmt`."""
    path = []
    current = stmt
    while True:
        parent = parents.get(current)
        if parent is None or isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            break
        for name in BLOCK_FIELDS:
            block = getattr(parent, name, None)
            if isinstance(block, list):
                for index, item in enumerate(block):
                    if item is current:
                        path.append((parent, name, index))
                        break
                else:
                    continue
                break
        current = parent
    path.reverse()
    return path


def reaches(parents: dict, first: ast.AST, second: ast.AST) -> bool:
    """Can the statement `second` run after `first` has run, in one call of the function
    (no loop around both taken into account)? Exclusive branches and a `return`, `raise`,
    `break` or `continue` after `first` in its blocks say no."""
    if first is second:
        return False
    a, b = block_path(parents, first), block_path(parents, second)
    level = 0
    while level < min(len(a), len(b)) and a[level] == b[level]:
        level += 1
    if level == len(a):
        return len(b) > len(a)  # `second` inside `first`: after `first`'s header
    if level == len(b):
        return False  # `first` inside `second`: `second`'s header ran before it
    (node_a, field_a, index_a), (node_b, field_b, index_b) = a[level], b[level]
    if node_a is not node_b:
        return False
    if field_a == field_b:
        if index_a >= index_b or field_a in ("handlers", "cases"):
            return False
        stop = index_b
    elif not isinstance(node_a, BLOCK_CHANGES.get((field_a, field_b), ())):
        return False
    else:
        stop = None
    for depth in range(len(a) - 1, level - 1, -1):
        node, name, index = a[depth]
        rest = getattr(node, name)[index + 1 : stop if depth == level else None]
        if any(isinstance(s, TERMINATING) for s in rest):
            return False
    return True


INFO = PassInfo(
    code="QS009",
    name="reuse-after-write",
    summary="a QuerySet's cached rows read again after rows of its model were written -> read `qs.all()`",
    safety="unsafe",
    what=(
        "Finds a local QuerySet that is evaluated (iterated, `list()`, `len()`, `bool()`, "
        "`in`, or passed to a project function that only iterates it), then rows of its model are written in the same function (`update()`, "
        "`delete()`, `create()`, `bulk_create()`, `bulk_update()`, `get_or_create()`, "
        "`update_or_create()` on the model's QuerySets, `save()`/`delete()` of another "
        "instance of the model, or a call of a project function whose body runs such a write "
        "on `Model.objects`) on a path that reaches a second read of the same QuerySet "
        "object, and rewrites that re-read to a fresh clone, `qs.all()`."
    ),
    why=(
        "A QuerySet caches its rows when it is first evaluated, and every later read of the "
        "same object (iteration, `len()`, `count()`, `exists()`, `[i]`) answers from that "
        "cache. After a write, the cache holds the rows as they were: the second read shows "
        "rows that were deleted, misses rows that were created, and old values of rows that "
        "were updated. Reading the cache again with no write in between is what the cache "
        "is for and is never reported."
    ),
    fix_safety=(
        "Unsafe: `qs.all()` runs the query again (one query more than before), and code that "
        "relied on changes made in memory to the cached instances sees fresh instances. Not "
        "reported: writes through the QuerySet itself (`qs.update()`/`qs.delete()` empty its "
        "cache) or through instances read from it (`for o in qs: o.save()` keeps the cached "
        "instances in step), a QuerySet handed to other code before the re-read, writes in "
        "exclusive branches or after a `return`, and test files."
    ),
    references=(
        "https://docs.djangoproject.com/en/stable/topics/db/queries/#caching-and-querysets",
        "https://docs.djangoproject.com/en/stable/ref/models/querysets/#when-querysets-are-evaluated",
    ),
    examples=(
        Example(
            "reread_after_update",
            """\
            from shop.models import Order


            def close_open(customer):
                orders = Order.objects.filter(customer=customer, status="open")
                names = [o.pk for o in orders]
                Order.objects.filter(customer=customer).update(status="closed")
                return names, [o.status for o in orders]
            """,
            """\
            from shop.models import Order


            def close_open(customer):
                orders = Order.objects.filter(customer=customer, status="open")
                names = [o.pk for o in orders]
                Order.objects.filter(customer=customer).update(status="closed")
                return names, [o.status for o in orders.all()]
            """,
            unsafe=True,
        ),
        Example(
            "reread_after_create",
            """\
            from shop.models import Order


            def ensure_one(customer):
                orders = Order.objects.filter(customer=customer)
                if not orders:
                    Order.objects.create(customer=customer, status="new")
                return len(orders)
            """,
            """\
            from shop.models import Order


            def ensure_one(customer):
                orders = Order.objects.filter(customer=customer)
                if not orders:
                    Order.objects.create(customer=customer, status="new")
                return len(orders.all())
            """,
            unsafe=True,
        ),
        Example(
            "no_write_between_reads",
            """\
            from shop.models import Order


            def summary(customer):
                orders = Order.objects.filter(customer=customer)
                return len(orders), [o.status for o in orders]
            """,
        ),
        Example(
            "writes_through_the_cached_instances",
            """\
            from shop.models import Order


            def close(customer):
                orders = Order.objects.filter(customer=customer)
                for order in orders:
                    order.status = "closed"
                    order.save()
                return [o.status for o in orders]
            """,
        ),
    ),
    visitor=ReuseAfterWrite,
    options=(flow.CHECK_TESTS_OPTION,),
)
ReuseAfterWrite.info = INFO
