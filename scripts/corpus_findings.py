"""Findings per corpus project: active safe, unsafe (left alone), skipped, by pass.

    bash ../shared/corpus.sh            # once: downloads Django, DRF, oscar, wagtail, pretix
    python scripts/corpus_findings.py [CORPUS_DIR] [--sample N]

Runs `qsfix check --format json` on each project (whole process, as a user would) and
prints a table; with --sample N it also prints N random safe rewrites (as `qsfix diff`
hunks) per project for reading by hand.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import subprocess
import sys

PROJECTS = ("django", "drf", "oscar", "wagtail", "pretix")


def qsfix(*args: str, cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        cwd=cwd, capture_output=True, text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", default=os.environ.get("QSFIX_CORPUS", os.path.expanduser("~/.cache/qsfix-corpus")))
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'project':10} {'files':>6} {'failed':>6}  {'code':5} {'safe':>5} {'unsafe':>6} {'skipped':>7}")
    for project in PROJECTS:
        folder = os.path.join(args.corpus, project)
        if not os.path.isdir(folder):
            continue
        done = qsfix("check", "--format", "json", ".", cwd=folder)
        data = json.loads(done.stdout)
        counts = collections.Counter()
        for f in data["findings"]:
            if f["skip_reason"] is None:
                kind = f["fix"]["applicability"] if f["fix"] else "nofix"
            elif f["fix"] and f["fix"]["applicability"] == "unsafe" and f["skip_reason"].startswith("unsafe fix"):
                kind = "unsafe"
            else:
                kind = "skipped"
            counts[f["code"], kind] += 1
        for code in sorted({c for c, _ in counts} or {"-"}):
            print(
                f"{project:10} {data['files']['scanned']:>6} {len(data['files']['failed']):>6}  {code:5} "
                f"{counts[code, 'safe']:>5} {counts[code, 'unsafe']:>6} {counts[code, 'skipped']:>7}"
            )
        if args.sample:
            safe = [f for f in data["findings"] if f["skip_reason"] is None]
            random.Random(args.seed).shuffle(safe)
            for f in safe[: args.sample]:
                print(f"  {f['path']}:{f['line']}: {f['code']} {f['fix']['title']}")


if __name__ == "__main__":
    main()
