"""Small, exact test helpers in the style of django-upgrade's `check_transformed`/`check_noop`.

Each call builds a throwaway project on disk (the pass examples' `shop/models.py`, plus any
other files given), runs the real engine over it, and returns what it made of one file.
"""

from __future__ import annotations

import ast
import os
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from codemods import engine
from codemods.base import EXAMPLE_MODELS
from codemods.findings import Finding

REPO = Path(__file__).resolve().parent.parent
DJAPP_MODELS = (REPO / "tests" / "djapp" / "models.py").read_text()


@dataclass
class Outcome:
    source: str
    output: str
    findings: list[Finding]
    result: engine.RunResult

    def codes(self, active_only: bool = True) -> list[str]:
        return [f.code for f in self.findings if f.is_active or not active_only]

    def skipped(self) -> list[str]:
        return [f.skip_reason for f in self.findings if f.skip_reason]


def write_project(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        # every folder on the way is a package, as in a Django project
        folder = path.parent
        while folder != root:
            init = folder / "__init__.py"
            if not init.exists():
                init.write_text("")
            folder = folder.parent


def run_in(root: Path, **options) -> engine.RunResult:
    """The engine over the project in `root`, run from inside it (as `qsfix` in that folder)."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return engine.run(["."], engine.Options(**options))
    finally:
        os.chdir(cwd)


# Throwaway projects are made below pytest's own temporary folder (tests/conftest.py sets
# it), which pytest prunes: a test run leaves no folders behind in /tmp.
PROJECTS_ROOT: Optional[Path] = None


def new_project_folder(prefix: str = "qsfix-test-") -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=PROJECTS_ROOT))


def run_project(files: dict[str, str], **options) -> tuple[Path, engine.RunResult]:
    root = new_project_folder()
    write_project(root, files)
    return root, run_in(root, **options)


def rewrite(
    source: str,
    *,
    path: str = "shop/example.py",
    files: Optional[dict[str, str]] = None,
    **options,
) -> Outcome:
    """Run the engine over `source` (at `path`) inside a project with the example models."""
    project = {"shop/models.py": EXAMPLE_MODELS, **(files or {})}
    project[path] = source
    _, result = run_project(project, **options)
    for file_result in result.files:
        assert file_result.error is None, file_result.error
    target = next(r for r in result.files if r.path == path)
    source_text = textwrap.dedent(source)
    output = target.new.decode() if target.changed else source_text
    return Outcome(source_text, output, target.findings, result)


def check_transformed(before: str, after: str, **kwargs) -> Outcome:
    """`before` becomes exactly `after`, which parses, and a second run changes nothing."""
    after = textwrap.dedent(after)
    outcome = rewrite(before, **kwargs)
    assert outcome.output == after
    ast.parse(after)
    again = rewrite(after, **kwargs)
    assert again.output == after, "not idempotent: a second run changed the output"
    return outcome


def check_noop(source: str, **kwargs) -> Outcome:
    """Nothing changes, whatever is reported."""
    outcome = rewrite(source, **kwargs)
    assert outcome.output == textwrap.dedent(source)
    return outcome


def rewrite_project(files: dict[str, str], **options) -> tuple[dict[str, str], engine.RunResult]:
    """Run the engine over a project (with the example models); every file's text after."""
    project = {"shop/models.py": EXAMPLE_MODELS, **files}
    root, result = run_project(project, **options)
    for file_result in result.files:
        assert file_result.error is None, file_result.error
    out = {}
    by_path = {r.path: r for r in result.files}
    for rel in files:
        r = by_path[rel]
        out[rel] = r.new.decode() if r.changed else textwrap.dedent(files[rel])
    return out, result


def check_project(before: dict[str, str], after: dict[str, str], **options) -> engine.RunResult:
    """Every file of `before` becomes exactly `after[file]` (unchanged when not listed), the
    output parses, and running again on the output changes nothing."""
    output, result = rewrite_project(before, **options)
    expected = {k: textwrap.dedent(after.get(k, v)) for k, v in before.items()}
    for path in before:
        assert output[path] == expected[path], f"{path} differs"
        ast.parse(output[path])
    again, _ = rewrite_project(output, **options)
    assert again == output, "not idempotent: a second run changed the output"
    return result
