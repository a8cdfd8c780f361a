"""Show that the cheap checks never hide a finding: every project analysed twice, with them
(as qsfix runs) and without them (every file and every function analysed fully), and the
findings compared.

    bash ../shared/corpus.sh        # once: downloads Django, DRF, oscar, wagtail, pretix
    python scripts/prefilter_check.py [FOLDER ...] [--jobs N]

With no folder: each project of the corpus (`QSFIX_CORPUS`, default ~/.cache/qsfix-corpus).
The cheap checks (codemods.engine.PREFILTER): a file whose text names nothing relevant (no
model, manager, QuerySet function or constant of the project, no `QuerySet`/`get_queryset`)
is not analysed, and neither is the body of a function or method that names nothing
relevant. Findings are compared whole (file, position, code, message, skip reason, fix
applicability); every option that adds findings is on (--unsafe, --all-views). Exit 1 if a
finding of the full analysis is missing with the checks on (or one appears only with them).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from codemods import engine  # noqa: E402

PROJECTS = ("django", "drf", "oscar", "wagtail", "pretix")


def findings(folder: str, prefilter: bool, jobs: int) -> tuple[set, int, float]:
    engine.PREFILTER = prefilter  # worker processes fork after this and see it too
    start = time.perf_counter()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = engine.run(
            ["."], engine.Options(jobs=jobs, unsafe=True, all_views=True, build_fixes=False),
        )
    finally:
        os.chdir(cwd)
        engine.PREFILTER = True
    seconds = time.perf_counter() - start
    found = {
        (f.path, f.line, f.column, f.code, f.message, f.skip_reason,
         f.fix.applicability if f.fix else None)
        for f in result.findings
    }
    return found, len(result.files), seconds


def compare(folder: str, jobs: int = 1) -> dict:
    full, files, full_seconds = findings(folder, False, jobs)
    cheap, _, cheap_seconds = findings(folder, True, jobs)
    return {
        "files": files,
        "full": len(full),
        "cheap": len(cheap),
        "missing": sorted(full - cheap),
        "extra": sorted(cheap - full),
        "full_seconds": full_seconds,
        "cheap_seconds": cheap_seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--corpus", default=os.environ.get("QSFIX_CORPUS", os.path.expanduser("~/.cache/qsfix-corpus")))
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    folders = args.folders or [
        os.path.join(args.corpus, p) for p in PROJECTS if os.path.isdir(os.path.join(args.corpus, p))
    ]
    if not folders:
        print("no folder given and no corpus found (bash ../shared/corpus.sh)", file=sys.stderr)
        return 2
    print(f"{'project':12} {'files':>6} {'findings':>8} {'with checks':>11} {'missing':>7} {'extra':>5} "
          f"{'full s':>7} {'checked s':>9}")
    bad = False
    for folder in folders:
        row = compare(folder, args.jobs)
        name = os.path.basename(os.path.normpath(folder))
        print(f"{name:12} {row['files']:>6} {row['full']:>8} {row['cheap']:>11} {len(row['missing']):>7} "
              f"{len(row['extra']):>5} {row['full_seconds']:>7.1f} {row['cheap_seconds']:>9.1f}", flush=True)
        for label in ("missing", "extra"):
            for item in row[label]:
                print(f"  {label}: {item}")
        bad = bad or bool(row["missing"] or row["extra"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
