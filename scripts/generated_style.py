"""Does qsfix's output pass ruff's pycodestyle rules wherever its input did?

    python scripts/generated_style.py PROJECT [PROJECT ...] [--qsfix-arg=--all-views ...]

Each project is copied to a scratch folder; there `qsfix apply --yes --unsafe` (plus any
`--qsfix-arg`) rewrites it, and `ruff check --preview --select E,W --ignore E501` (line length
is a formatter's job; the E3 blank-line rules are preview rules) runs over every changed file
before and after. A changed file whose findings of any rule grew is a violation. Prints one
line per project (files changed, findings before and after) and each violation; exits 1 on any.
The test suite runs the same comparison on `samples/` (tests/test_generated_style.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

QSFIX = [sys.executable, "-c", "import cli; cli.main()"]
RUFF = [
    sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--preview",
    "--select", "E,W", "--ignore", "E501", "--output-format", "json", "--exit-zero",
]


def ruff_findings(text: str, name: str = "module.py") -> Counter:
    """{rule code: how many} for one module's text."""
    done = subprocess.run(
        [*RUFF, "--stdin-filename", name, "-"], input=text, capture_output=True, text=True,
        check=True,
    )
    return Counter(finding["code"] for finding in json.loads(done.stdout))


@dataclass
class Comparison:
    changed: int = 0
    before: Counter = field(default_factory=Counter)
    after: Counter = field(default_factory=Counter)
    # (path, rule, count before, count after) for every rule that grew in a file
    grown: list = field(default_factory=list)


def compare(project: Path, qsfix_args: tuple = ()) -> Comparison:
    """Rewrite a scratch copy of `project` and compare ruff's findings file by file."""
    result = Comparison()
    with tempfile.TemporaryDirectory(prefix="qsfix-style-") as scratch:
        copy = Path(scratch) / project.name
        shutil.copytree(project, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        originals = {p: p.read_bytes() for p in copy.rglob("*.py") if p.is_file() and not p.is_symlink()}
        subprocess.run(
            [*QSFIX, "apply", "--yes", "--unsafe", *qsfix_args, "."],
            cwd=copy, capture_output=True, check=False,
        )
        for path, old in sorted(originals.items()):
            new = path.read_bytes()
            if new == old:
                continue
            result.changed += 1
            rel = str(path.relative_to(copy))
            before = ruff_findings(old.decode("utf-8", "surrogateescape"), rel)
            after = ruff_findings(new.decode("utf-8", "surrogateescape"), rel)
            result.before += before
            result.after += after
            for rule in sorted(after):
                if after[rule] > before[rule]:
                    result.grown.append((rel, rule, before[rule], after[rule]))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", type=Path)
    parser.add_argument("--qsfix-arg", action="append", default=[], dest="qsfix_args")
    args = parser.parse_args(argv)
    failed = False
    for project in args.projects:
        found = compare(project.resolve(), tuple(args.qsfix_args))
        print(
            f"{project.name}: {found.changed} files changed; ruff E/W findings in them "
            f"{sum(found.before.values())} before, {sum(found.after.values())} after"
        )
        for rel, rule, before, after in found.grown:
            failed = True
            print(f"  {rel}: {rule} {before} -> {after}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
