"""Python's name scoping over an `ast` tree: which binding a name refers to, and who refers to it.

The analysis runs on `ast` (ten times faster to parse than libcst, and analysis needs no
formatting detail); libcst is used only to write the fixes back. This module is the small
part of LibCST's ScopeProvider the passes need, for `ast`: function, lambda, comprehension,
class and module scopes; `global`/`nonlocal`; class scopes not visible from methods.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterator, Optional

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(eq=False)
class Binding:
    """One place that binds a name: `kind` is assign / param / loop / import / def / other."""

    name: str
    kind: str
    node: ast.AST  # the Name target, the arg, the alias, the def
    value: Optional[ast.AST] = None  # assign: the value; loop: the iterable; param: the arg


@dataclass(eq=False)
class Scope:
    node: ast.AST
    parent: Optional["Scope"]
    kind: str  # module / class / function / comprehension
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    # loads of names, by name, as (Name node, scope it occurs in)
    loads: dict[str, list[ast.Name]] = field(default_factory=dict)

    def bind(self, binding: Binding) -> None:
        target = self
        if binding.name in self.globals:
            target = self.root()
        target.bindings.setdefault(binding.name, []).append(binding)

    def root(self) -> "Scope":
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def resolve(self, name: str) -> Optional["Scope"]:
        """The scope whose binding of `name` a load in this scope sees (None: builtin)."""
        scope: Optional[Scope] = self
        first = True
        while scope is not None:
            if name in scope.globals:
                root = scope.root()
                return root if name in root.bindings else None
            if scope.kind == "class" and not first:
                scope = scope.parent
                continue
            if name in scope.bindings and name not in scope.nonlocals:
                return scope
            first = False
            scope = scope.parent
        return None


class ScopeMap:
    """Scopes and parents of every node of one module."""

    def __init__(self, tree: ast.Module, skip_bodies: frozenset = frozenset()):
        """`skip_bodies`: ids of top-level defs whose bodies cannot matter (nothing in them
        names anything relevant): they are bound, not walked."""
        self.tree = tree
        self.parents: dict[ast.AST, ast.AST] = {}
        self.scope_of: dict[ast.AST, Scope] = {}
        self.module = Scope(tree, None, "module")
        self.skip_bodies = skip_bodies
        self._build(tree, self.module)

    # -- building --------------------------------------------------------------------
    def _build(self, tree: ast.Module, module: Scope) -> None:
        # One explicit-stack walk: (node, parent, scope it occurs in)
        stack: list[tuple[ast.AST, Optional[ast.AST], Scope]] = [(tree, None, module)]
        parents = self.parents
        scope_of = self.scope_of
        Name, Load, Constant = ast.Name, ast.Load, ast.Constant
        field_cache = _FIELD_CACHE
        while stack:
            node, parent, scope = stack.pop()
            if parent is not None:
                parents[node] = parent
            scope_of[node] = scope
            node_type = type(node)
            if node_type is Name:  # the commonest node: a fast path
                if type(node.ctx) is Load:
                    scope.loads.setdefault(node.id, []).append(node)
                continue
            if node_type is Constant:  # the next commonest: no child worth visiting
                continue
            if node_type in _SPECIAL and self._special(node, scope, stack):
                continue  # it opened a scope: its children are on the stack, each with its scope
            fields = field_cache.get(node_type)
            if fields is None:
                fields = _child_fields(node_type)
            for name in fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    for child in reversed(value):
                        if isinstance(child, ast.AST):
                            stack.append((child, node, scope))
                elif isinstance(value, ast.AST):
                    stack.append((value, node, scope))

    def _special(self, node: ast.AST, scope: Scope, stack: list) -> bool:
        """A node that opens a scope or binds a name. True when it opened a scope (its
        children are pushed, each with the scope it is evaluated in); False when it only
        bound names (its children are walked as any node's)."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._open_definition(node, scope, stack)
            return True
        if isinstance(node, ast.Lambda):
            self._open_lambda(node, scope, stack)
            return True
        if isinstance(node, COMPREHENSIONS):
            self._open_comprehension(node, scope, stack)
            return True
        self._bind_statement(node, scope)
        return False

    def _open_definition(self, node: ast.AST, scope: Scope, stack: list) -> None:
        scope.bind(Binding(node.name, "def", node))
        if id(node) in self.skip_bodies:
            return
        kind = "class" if isinstance(node, ast.ClassDef) else "function"
        inner = Scope(node, scope, kind)
        # decorators, bases, defaults and annotations are evaluated in the outer scope
        outer_parts: list[ast.AST] = list(node.decorator_list)
        if isinstance(node, ast.ClassDef):
            outer_parts += node.bases + [k.value for k in node.keywords]
        else:
            outer_parts += [d for d in node.args.defaults + node.args.kw_defaults if d]
            outer_parts += [a.annotation for a in _all_args(node.args) if a.annotation]
            if node.returns:
                outer_parts.append(node.returns)
            self._bind_params(node, inner)
        for part in outer_parts:
            stack.append((part, node, scope))
        for child in reversed(node.body):
            stack.append((child, node, inner))

    def _open_lambda(self, node: ast.Lambda, scope: Scope, stack: list) -> None:
        inner = Scope(node, scope, "function")
        for d in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            stack.append((d, node, scope))
        self._bind_params(node, inner)
        stack.append((node.body, node, inner))

    def _bind_params(self, node: ast.AST, inner: Scope) -> None:
        for arg in _all_args(node.args):
            inner.bind(Binding(arg.arg, "param", arg, arg))
            self.parents[arg] = node
            self.scope_of[arg] = inner

    def _open_comprehension(self, node: ast.AST, scope: Scope, stack: list) -> None:
        parents, scope_of = self.parents, self.scope_of
        inner = Scope(node, scope, "comprehension")
        generators = node.generators
        # the first iterable is evaluated in the enclosing scope
        stack.append((generators[0].iter, generators[0], scope))
        parents[generators[0]] = node
        scope_of[generators[0]] = inner
        for i, gen in enumerate(generators):
            if i:
                parents[gen] = node
                scope_of[gen] = inner
                stack.append((gen.iter, gen, inner))
            self._bind_target(gen.target, inner, "loop", gen.iter)
            stack.append((gen.target, gen, inner))
            for cond in gen.ifs:
                stack.append((cond, gen, inner))
        elts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for elt in elts:
            stack.append((elt, node, inner))

    def _bind_statement(self, node: ast.AST, scope: Scope) -> None:
        """The names a node binds in `scope` without opening a scope of its own."""
        if isinstance(node, ast.Global):
            scope.globals.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            scope.nonlocals.update(node.names)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self._bind_target(target, scope, "assign", node.value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self._bind_target(node.target, scope, "assign", node.value)
            elif isinstance(node.target, ast.Name):
                scope.bind(Binding(node.target.id, "other", node.target))
        elif isinstance(node, ast.AugAssign):
            self._bind_target(node.target, scope, "other", None)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._bind_target(node.target, scope, "loop", node.iter)
        elif isinstance(node, ast.NamedExpr):
            # the walrus binds in the nearest enclosing non-comprehension scope
            target_scope = scope
            while target_scope.kind == "comprehension" and target_scope.parent:
                target_scope = target_scope.parent
            target_scope.bind(Binding(node.target.id, "assign", node.target, node.value))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    name = alias.asname or alias.name.split(".")[0]
                    scope.bind(Binding(name, "import", alias))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._bind_target(item.optional_vars, scope, "other", None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            scope.bind(Binding(node.name, "other", node))
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self._bind_target(target, scope, "other", None)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)):
            if node.name:
                scope.bind(Binding(node.name, "other", node))
        elif isinstance(node, ast.MatchMapping):
            if node.rest:
                scope.bind(Binding(node.rest, "other", node))

    def _bind_target(self, target: ast.AST, scope: Scope, kind: str, value: Optional[ast.AST]) -> None:
        if isinstance(target, ast.Name):
            scope.bind(Binding(target.id, kind, target, value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                # unpacking: the value of each name is not the whole value
                self._bind_target(elt, scope, "other", None)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, scope, "other", None)

    # -- questions -------------------------------------------------------------------
    def scope(self, node: ast.AST) -> Scope:
        return self.scope_of.get(node, self.module)

    def binding_scope(self, name: ast.Name) -> Optional[Scope]:
        return self.scope(name).resolve(name.id)

    def references(self, scope: Scope, name: str) -> Iterator[ast.Name]:
        """Loads of `name` that see `scope`'s binding: in the scope and the nested ones."""
        todo = [scope]
        seen: set[int] = set()
        # collect nested scopes of `scope` once
        children = self._children()
        while todo:
            current = todo.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            for node in current.loads.get(name, ()):
                if current.resolve(name) is scope:
                    yield node
            todo.extend(children.get(id(current), ()))

    def _children(self) -> dict[int, list[Scope]]:
        if getattr(self, "_child_map", None) is None:
            child_map: dict[int, list[Scope]] = {}
            seen: set[int] = set()
            for scope in self.scope_of.values():
                if id(scope) in seen:
                    continue
                seen.add(id(scope))
                if scope.parent is not None:
                    child_map.setdefault(id(scope.parent), []).append(scope)
            self._child_map = child_map
        return self._child_map

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def contains(self, ancestor: ast.AST, node: ast.AST) -> bool:
        return node is ancestor or any(a is ancestor for a in self.ancestors(node))


# Fields that hold child nodes worth visiting: not contexts (Load/Store) or operators, which
# are nodes too but carry nothing, nor the fields that hold a name, a number or a flag (asking
# each node for them cost a sixth of the walk); reversed so a stack pops children in source order.
_FIELD_CACHE: dict[type, tuple[str, ...]] = {}
_SKIPPED_FIELDS = frozenset({
    "ctx", "op", "ops", "type_comment", "type_ignores",
    "id", "attr", "arg", "asname", "module", "level", "kind", "simple", "conversion", "is_async",
})


_SPECIAL = frozenset(
    getattr(ast, name) for name in (
        "FunctionDef", "AsyncFunctionDef", "ClassDef", "Lambda", "ListComp", "SetComp",
        "DictComp", "GeneratorExp", "Global", "Nonlocal", "Assign", "AnnAssign", "AugAssign",
        "For", "AsyncFor", "NamedExpr", "Import", "ImportFrom", "With", "AsyncWith",
        "ExceptHandler", "Delete", "MatchAs", "MatchStar", "MatchMapping",
    )
)


def _child_fields(node_type: type) -> tuple[str, ...]:
    fields = _FIELD_CACHE.get(node_type)
    if fields is None:
        fields = tuple(reversed([f for f in node_type._fields if f not in _SKIPPED_FIELDS]))
        _FIELD_CACHE[node_type] = fields
    return fields


def _all_args(args: ast.arguments) -> list[ast.arg]:
    out = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg:
        out.append(args.vararg)
    if args.kwarg:
        out.append(args.kwarg)
    return out
