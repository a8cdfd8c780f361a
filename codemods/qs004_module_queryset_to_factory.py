"""QS004 module-queryset-to-factory: `ACTIVE = Order.objects.filter(...)` at module level ->
`def active(): return Order.objects.filter(...)`, and every use in the project becomes a call.

A module-level QuerySet is built at import. The first time anything evaluates it, its rows are
cached on that one object, and every request after that reads the same rows until the process
restarts; filter values computed at import (`timezone.now()`) freeze too. A factory builds a
fresh QuerySet at each use.

Django docs: https://docs.djangoproject.com/en/stable/topics/db/queries/#caching-and-querysets
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, NamedTuple, Optional


from .base import Example, Pass, PassInfo, PassOption
from .rewrite import cst
from .kinds import PROVEN

if TYPE_CHECKING:
    from .factories import Factory


def _call(func: cst.BaseExpression, like: cst.BaseExpression) -> cst.Call:
    """`func()`, wearing the parentheses the replaced expression had."""
    return cst.Call(func=func.with_changes(lpar=[], rpar=[]), lpar=like.lpar, rpar=like.rpar)


class ModuleQuerysetToFactory(Pass):
    def __init__(self, analysis, options):
        super().__init__(analysis, options)
        self.plan = analysis.project.factories
        # module-level constants of this module that the plan covers
        self.own: dict[str, Factory] = {
            f.name: f for f in self.plan.values() if f.module == analysis.summary.module
        }
        self.reported: set[str] = set()
        self.pending: list = []
        from .factories import dangling_imports

        # names this module imports that a half-done QS004 change removed
        self.dangling = dangling_imports(analysis.index, analysis.summary)

    @property
    def idle(self) -> bool:
        # every finding of this pass is about a constant of the project's plan, or an
        # import that a half-done one left dangling
        return not self.plan and not self.dangling

    def local_name(self, factory: Factory, node: ast.Name) -> str:
        """What the reference is called after the rewrite."""
        if node.id == factory.name:
            return factory.new_name  # the constant itself, or imported without `as`
        return node.id  # `from m import NAME as alias`: the alias stays

    # -- visits --------------------------------------------------------------------------
    def visit_Assign(self, node: ast.AST) -> None:
        if self.analysis.parents.get(node) is not self.analysis.tree:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            return
        factory = self.own.get(targets[0].id)
        if factory is None:
            return
        message = (
            f"module-level QuerySet `{factory.name}` is built once at import: every caller "
            "shares its rows and its result cache for the life of the process"
        )
        if factory.skip:
            self.report(node, message, skip=factory.skip, unit=factory.unit)
            return
        if self.shares_line(node):
            self.report(node, message, skip="another statement shares its line", unit=factory.unit)
            return
        shim = self.shim_after(factory)
        self.report(
            node,
            message,
            fix_title=f"Make it a factory `{factory.new_name}()` and call it at every use",
            edits=[(node, _definition_rewrite(factory.new_name, shim, self.layout(node)))],
            unsafe_because=_unsafe(factory),
            unit=factory.unit,
        )

    visit_AnnAssign = visit_Assign

    def shim_after(self, factory: Factory) -> Optional[dict[str, str]]:
        """With --keep-names, the module's last converted constant carries the module
        `__getattr__` that keeps every old name importable: {old name: factory name}."""
        if not factory.keep_name:
            return None
        summary = self.analysis.summary
        converted = sorted(
            (f for f in self.own.values() if not f.skip),
            key=lambda f: summary.constant_lines.get(f.name, 0),
        )
        if not converted or converted[-1] is not factory:
            return None
        return {f.name: f.new_name for f in converted}

    def shares_line(self, node: ast.AST) -> bool:
        parent = self.analysis.parents.get(node)
        body = getattr(parent, "body", [])
        return any(
            other is not node and (other.lineno == node.end_lineno or other.end_lineno == node.lineno)
            for other in body
            if isinstance(other, ast.stmt)
        )

    def layout(self, node: ast.AST) -> "Layout":
        """Blank lines the generated definition needs around it (PEP 8's two, E302/E305)."""
        body = self.analysis.tree.body
        following = body[body.index(node) + 1] if node is not body[-1] else None
        blank_after = 0
        if following is not None and not self.becomes_factory(following):
            # a converted constant that follows puts two blank lines above itself
            line = node.end_lineno + 1
            while not self.analysis.line_text(line).strip() and line < following.lineno:
                line += 1
            blank_after = max(0, 2 - (line - node.end_lineno - 1))
        return Layout(at_top=node.lineno == 1, blank_after=blank_after)

    def becomes_factory(self, statement: ast.AST) -> bool:
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
            return False
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        factory = self.own.get(targets[0].id) if isinstance(targets[0], ast.Name) else None
        return factory is not None and not factory.skip and not self.shares_line(statement)

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            return
        factory = self.analysis.factory_for(node)
        if factory is None or factory.skip:
            return
        new = self.local_name(factory, node)
        self.use(node, factory, lambda original, updated: _call(cst.Name(new), updated))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not isinstance(node.ctx, ast.Load):
            return
        factory = self.analysis.factory_for(node)
        if factory is None or factory.skip:
            return
        new = factory.new_name
        self.use(
            node, factory,
            lambda original, updated: _call(updated.with_changes(attr=cst.Name(new)), updated),
        )

    def visit_alias(self, node: ast.alias) -> None:
        self.report_dangling(node)
        factory = self.analysis.import_maps()[0].get(id(node))
        if factory is None or factory.skip:
            return
        new = factory.new_name
        self.use(
            node, factory,
            lambda original, updated: updated.with_changes(name=cst.Name(new)),
        )

    def report_dangling(self, node: ast.alias) -> None:
        """`from m import ACTIVE` where m now has `def active()` and no ACTIVE: the import
        fails. Reported without a fix: which calls the old name needs is for a person to
        check (the change that removed it may have been reverted on purpose)."""
        from .factories import dangling_import
        from .index import resolve_relative

        parent = self.analysis.parents.get(node)
        if not self.dangling or not isinstance(parent, ast.ImportFrom) or node.name == "*":
            return
        summary = self.analysis.summary
        module = resolve_relative(summary.module, summary.is_package, parent.level, parent.module)
        factory = dangling_import(self.analysis.index, f"{module}.{node.name}")
        if factory is None:
            return
        self.report(
            node,
            f"`{node.name}` is imported from {module}, which no longer defines it but defines "
            f"the factory `{factory}()`: a QS004 change was left half-done; import "
            f"`{factory}` and call it where `{node.asname or node.name}` is used",
        )

    def exported(self) -> dict[str, Factory]:
        """Module-level names of this module that get renamed: its own constants, and
        factories imported without `as` (a re-export)."""
        if getattr(self, "_exported", None) is None:
            names = {n: f for n, f in self.own.items()}
            factories, _ = self.analysis.import_maps()
            for binding_list in self.analysis.scopes.module.bindings.values():
                for binding in binding_list:
                    factory = factories.get(id(binding.node))
                    if factory is not None and binding.name == factory.name:
                        names[binding.name] = factory
            self._exported = names
        return self._exported

    def visit_Constant(self, node: ast.Constant) -> None:
        """`__all__ = ["ACTIVE_ORDERS"]` entries follow the rename."""
        factory = self.exported().get(node.value) if isinstance(node.value, str) else None
        if factory is None or factory.skip:
            return
        container = self.analysis.parents.get(node)
        assign = self.analysis.parents.get(container)
        if not (
            isinstance(container, (ast.List, ast.Tuple))
            and isinstance(assign, (ast.Assign, ast.AugAssign, ast.AnnAssign))
            and any(
                isinstance(t, ast.Name) and t.id == "__all__"
                for t in (assign.targets if isinstance(assign, ast.Assign) else [assign.target])
            )
        ):
            return
        new = factory.new_name

        def rewrite(original, updated: cst.SimpleString) -> cst.SimpleString:
            quote = updated.quote
            return updated.with_changes(value=f"{updated.prefix}{quote}{new}{quote}")

        self.use(node, factory, rewrite)

    def use(self, node: ast.AST, factory: Factory, rewrite) -> None:
        """A reference that follows the definition: one finding per file and constant, so the
        file shows up in the unit; every reference carries its own edit."""
        message = f"`{factory.name}` becomes `{factory.new_name}()` (QS004 in {factory.module})"
        if factory.module == self.analysis.summary.module:
            # the definition's finding speaks for this file; its references ride along
            self.attach(node, factory, rewrite)
            return
        first = factory.qualname not in self.reported
        self.reported.add(factory.qualname)
        if first:
            self.report(
                node, message,
                fix_title=f"Call `{factory.new_name}()`",
                edits=[(node, rewrite)],
                unsafe_because=_unsafe(factory),
                unit=factory.unit,
            )
        else:
            self.attach(node, factory, rewrite)

    def attach(self, node: ast.AST, factory: Factory, rewrite) -> None:
        """Add an edit to the finding of this unit in this file (made at the first use, or
        at the definition, whichever this file has)."""
        self.pending.append((factory.unit, node, rewrite))

    def finish(self) -> None:
        """Hand the references' edits to their unit's finding in this file."""
        by_unit = {f.unit: f for f in self.findings if f.fix is not None}
        for unit, node, rewrite in self.pending:
            finding = by_unit.get(unit)
            if finding is None:
                continue
            finding.fix.edits.extend(self.make_edits([(node, rewrite)]))
        self.pending = []


def _unsafe(factory: Factory) -> Optional[str]:
    if factory.qstype.confidence >= PROVEN:
        return None
    return factory.qstype.why or "only likely a QuerySet"


SHIM = """\
def __getattr__(name):
    # qsfix QS004: the old module-level QuerySets stay importable, built fresh at each use
    factories = {%s}
    if name in factories:
        import warnings

        warnings.warn(
            f"{__name__}.{name} is deprecated: call {factories[name].__name__}() instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return factories[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
"""


class Layout(NamedTuple):
    at_top: bool  # the constant is the file's first line: no blank lines above the function
    blank_after: int  # blank lines to add after the generated definitions


def _definition_rewrite(
    new_name: str, shim: Optional[dict[str, str]] = None, layout: Layout = Layout(False, 0)
):
    def rewrite(original: cst.CSTNode, updated: cst.SimpleStatementLine):
        definitions = [_factory(new_name, updated, layout.at_top)]
        if shim:
            entries = ", ".join(f'"{old}": {new}' for old, new in shim.items())
            shim_def = cst.parse_statement(SHIM % entries)
            definitions.append(shim_def.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * 2))
        # the lines after a block belong to its footer: the statement below keeps its own
        last = definitions[-1]
        footer = [*last.body.footer, *[cst.EmptyLine(indent=False)] * layout.blank_after]
        definitions[-1] = last.with_changes(body=last.body.with_changes(footer=footer))
        return definitions[0] if len(definitions) == 1 else cst.FlattenSentinel(definitions)

    return rewrite


def _factory(new_name: str, updated: cst.SimpleStatementLine, at_top: bool = False) -> cst.FunctionDef:
    """`NAME = value` -> `def new_name(): return value`, comments kept."""
    statement = updated.body[0]
    returns = None
    if isinstance(statement, cst.AnnAssign):
        returns = cst.Annotation(annotation=statement.annotation.annotation)
    body = cst.IndentedBlock(
        body=[
            cst.SimpleStatementLine(
                body=[cst.Return(value=statement.value)],
                trailing_whitespace=updated.trailing_whitespace,
            )
        ]
    )
    leading = list(updated.leading_lines)
    blank = 0
    while blank < len(leading) and leading[blank].comment is None:
        blank += 1
    if not at_top:
        leading = [cst.EmptyLine(indent=False)] * max(0, 2 - blank) + leading
    return cst.FunctionDef(
        name=cst.Name(new_name),
        params=cst.Parameters(),
        body=body,
        returns=returns,
        leading_lines=leading,
    )


def _more_words(typer, summary, text: str) -> set[str]:
    """Names a half-done change left dangling here (reported), and the factories' names
    (a function naming one is not quiet)."""
    from .factories import dangling_imports

    words = set(dangling_imports(typer.index, summary))
    words.update(f.name for f in typer.project.factories.values() if f.name in text)
    return words


def _dependency_facts(index, typer) -> list:
    """The plan: a constant's new name, skip and users change every file that names it."""
    return sorted((q, f.new_name, f.skip, sorted(f.users)) for q, f in typer.project.factories.items())


def _plan(project) -> dict:
    from .factories import plan_factories

    return plan_factories(project.index, project.typer, project.options.flag("keep-names"))


INFO = PassInfo(
    code="QS004",
    name="module-queryset-to-factory",
    summary="module-level QuerySet -> a factory function; every reference in the project becomes a call",
    safety="safe or unsafe",
    what=(
        "Finds module-level `NAME = <QuerySet>` assignments (annotated ones, and ones built "
        "from other module-level QuerySets too) and turns each into a function returning the "
        "same expression (`ACTIVE_ORDERS` -> `active_orders()`, or `get_<name>()` when the "
        "lower-case name is taken: a builtin such as `open`, a keyword, or a name the module "
        "or a module naming the constant binds or reads). Every reference in the scanned "
        "project follows: uses in "
        "the module, `from m import NAME` (with `as` aliases and relative imports), "
        "`import m` / `m.NAME`, re-exports in `__init__.py`, `__all__` entries, class bodies "
        "and other module-level QuerySets. It also reports, without a fix, an import of a "
        "name that a project module no longer defines where that module defines the factory "
        "the name would have become: a change left half-done by another tool."
    ),
    why=(
        "A module-level QuerySet is built once, at import. The first time anything evaluates "
        "it, its rows are cached on that one object; every request after that reads the same "
        "rows until the process restarts, and filter values computed at import "
        "(`timezone.now()`) freeze with it. A factory builds a fresh QuerySet at each use."
    ),
    fix_safety=(
        "Safe when the value is a QuerySet beyond doubt and every file that names it is "
        "scanned, parses and is being rewritten: the change spans files, is presented and "
        "accepted as one unit, and is all or nothing. The whole constant is skipped, with the "
        "reason, when a call would be wrong or the tool cannot see every use: reassigned, "
        "mutated, declared `global`, imported with `*`, used as a default argument value "
        "(the call would still run once, at import), named by a file outside the given "
        "paths or one that does not parse, or suppressed on its line. Class bodies and form "
        "fields get the call too: they are evaluated at import either way, and QS003 moves a "
        "view's queryset into `get_queryset()`."
    ),
    references=(
        "https://docs.djangoproject.com/en/stable/topics/db/queries/#caching-and-querysets",
        "https://docs.djangoproject.com/en/stable/ref/models/querysets/#when-querysets-are-evaluated",
    ),
    examples=(
        Example(
            "constant_and_its_uses",
            """\
            from shop.models import Order

            ACTIVE_ORDERS = Order.objects.filter(status="active")
            RECENT_ACTIVE = ACTIVE_ORDERS.order_by("-created")


            def newest():
                return RECENT_ACTIVE.first()
            """,
            """\
            from shop.models import Order


            def active_orders():
                return Order.objects.filter(status="active")


            def recent_active():
                return active_orders().order_by("-created")


            def newest():
                return recent_active().first()
            """,
        ),
        Example(
            "used_as_a_default_argument",
            """\
            from shop.models import Order

            OPEN = Order.objects.filter(status="open")


            def report(orders=OPEN):
                return list(orders)
            """,
        ),
        Example(
            "reassigned",
            """\
            from shop.models import Order

            CURRENT = Order.objects.all()
            CURRENT = CURRENT.filter(status="open")
            """,
        ),
        Example(
            "not_a_queryset",
            """\
            STATUSES = ["active", "shipped"]
            """,
        ),
    ),
    visitor=ModuleQuerysetToFactory,
    options=(
        PassOption(
            "keep-names",
            help="keep the old names importable through a module `__getattr__` (for libraries)",
            in_cache_key=True,  # the plan's units and skips change with it
        ),
    ),
    words=(),
    more_words=_more_words,
    dependency_facts=_dependency_facts,
    suppressed_at_definition=True,
    plan=_plan,
    provides="factories",
)
ModuleQuerysetToFactory.info = INFO
