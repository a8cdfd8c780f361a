"""Recall of QS001/QS002 on hand-labelled sites of real projects, and the wrong fixes among them.

    bash ../shared/corpus.sh        # once, with QSFIX_CORPUS_SET=all
    python scripts/recall.py [--corpus DIR] [--projects a,b] [--labels FILE] [--json] [--sites]

The labels file (tests/data/recall_sites.tsv by default) holds one truthiness or `len()` site
a line, read and judged by hand, in the projects' non-test code:

    project  path  line  code  label  source  reason

`label` is one of
  beneficial  a QuerySet whose rows are not used afterwards: `.exists()`/`.count()` is correct
              and strictly cheaper
  neutral     a QuerySet, but the rewrite gains nothing (the rows are already fetched)
  must-not    not a QuerySet (list, manager, RawQuerySet, dict, ...) or the rewrite would
              change meaning (`qs[::2]`, distinct with a to-many ordering, ...)
  adds-query  a QuerySet whose rows or cache are used later: the rewrite adds a query
`source` is the site's line, stripped: when the project's code moved, the site is found again
by that text (the nearest line with the same text); a site whose text is gone is "lost".

qsfix runs once per project over the whole project folder (so its index sees every model), as
`qsfix check --format json --unsafe --show-skipped --no-cache`, from the checkout this script
belongs to. Each labelled site then gets what qsfix made of it, matched by (path, line, code):
  safe     a finding with a safe fix (applied by default)
  unsafe   a finding with an unsafe fix (applied only with --unsafe)
  skipped  a finding without a fix (reported under --show-skipped with its reason)
  missed   no finding at all
The tables give those counts per project and label, the recall of beneficial sites (safe only,
and safe or unsafe), and the safe fixes on must-not and adds-query sites (goal: none).
--cache lets qsfix use its cache (it then writes `.qsfix_cache` into the corpus folders).
Exit status: 0 when the tables are printed, 2 for a missing project, a bad labels file or a
qsfix run that gave no JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CORPUS = os.environ.get("QSFIX_CORPUS", os.path.expanduser("~/.cache/qsfix-corpus"))
DEFAULT_LABELS = os.path.join(REPO, "tests", "data", "recall_sites.tsv")

COLUMNS = ("project", "path", "line", "code", "label", "source", "reason")
CODES = ("QS001", "QS002")
LABELS = ("beneficial", "neutral", "must-not", "adds-query")
OUTCOMES = ("safe", "unsafe", "skipped", "missed", "lost")
# A finding's kind, best first: where two findings share a site, the better one counts.
RANK = {"safe": 0, "unsafe": 1, "skipped": 2}


class RecallError(Exception):
    """A problem the user must fix (missing project, bad labels file, failed run)."""


@dataclass(frozen=True)
class Site:
    project: str
    path: str
    line: int
    code: str
    label: str
    source: str
    reason: str


@dataclass
class Result:
    site: Site
    outcome: str
    line: Optional[int]  # where the site is today (None when lost)
    message: str = ""


def load_labels(path: str) -> list[Site]:
    try:
        with open(path, encoding="utf-8") as handle:
            rows = handle.read().splitlines()
    except OSError as exc:
        raise RecallError(f"cannot read the labels file {path}: {exc.strerror}") from None
    if not rows or tuple(rows[0].split("\t")) != COLUMNS:
        raise RecallError(f"{path}: the first line must be the header {' '.join(COLUMNS)} (tab-separated)")
    sites, keys = [], set()
    for number, row in enumerate(rows[1:], start=2):
        if not row.strip() or row.startswith("#"):
            continue
        site = _parse_row(path, number, row)
        key = (site.project, site.path, site.line, site.code)
        if key in keys:
            raise RecallError(f"{path}:{number}: the site {site.path}:{site.line} {site.code} is labelled twice")
        keys.add(key)
        sites.append(site)
    return sites


def _parse_row(path: str, number: int, row: str) -> Site:
    fields = row.split("\t")
    if len(fields) != len(COLUMNS):
        raise RecallError(f"{path}:{number}: {len(fields)} tab-separated fields, expected {len(COLUMNS)}")
    values = dict(zip(COLUMNS, fields))
    if not values["line"].isdigit():
        raise RecallError(f"{path}:{number}: line {values['line']!r} is not a number")
    if values["code"] not in CODES:
        raise RecallError(f"{path}:{number}: code {values['code']!r} is not one of {', '.join(CODES)}")
    if values["label"] not in LABELS:
        raise RecallError(f"{path}:{number}: label {values['label']!r} is not one of {', '.join(LABELS)}")
    if not values["reason"].strip() or not values["source"].strip():
        raise RecallError(f"{path}:{number}: the source line and the reason must not be empty")
    return Site(**{**values, "line": int(values["line"]), "path": os.path.normpath(values["path"])})


def anchor(site: Site, folder: str) -> Optional[int]:
    """The line the site is on today: its labelled line if the text still matches, else the
    nearest line with the same stripped text, else None."""
    try:
        with open(os.path.join(folder, site.path), encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle.read().splitlines()]
    except OSError:
        return None
    same = [number for number, text in enumerate(lines, start=1) if text == site.source]
    if not same:
        return None
    return min(same, key=lambda number: (abs(number - site.line), number))


def run_qsfix(folder: str, use_cache: bool, jobs: Optional[int]) -> dict:
    args = ["check", "--format", "json", "--unsafe", "--show-skipped", "."]
    if not use_cache:
        args.insert(-1, "--no-cache")
    if jobs:
        args[-1:-1] = ["-j", str(jobs)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        cwd=folder, capture_output=True, text=True, env=env,
    )
    try:
        return json.loads(done.stdout)
    except ValueError:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RecallError(f"qsfix gave no JSON in {folder} (exit {done.returncode}): {tail}") from None


def finding_kind(finding: dict) -> str:
    fix = finding.get("fix")
    reason = finding.get("skip_reason")
    if fix and (reason is None or reason.startswith("unsafe fix")):
        return "safe" if fix["applicability"] == "safe" else "unsafe"
    return "skipped"


def best_findings(findings: list[dict]) -> dict[tuple[str, int, str], dict]:
    """The best finding per (path, line, code)."""
    best: dict[tuple[str, int, str], dict] = {}
    for finding in findings:
        key = (os.path.normpath(finding["path"]), finding["line"], finding["code"])
        if key not in best or RANK[finding_kind(finding)] < RANK[finding_kind(best[key])]:
            best[key] = finding
    return best


def judge(sites: list[Site], folder: str, findings: list[dict]) -> list[Result]:
    best = best_findings(findings)
    results = []
    for site in sites:
        line = anchor(site, folder)
        if line is None:
            results.append(Result(site, "lost", None, "the labelled source line is no longer in the file"))
            continue
        finding = best.get((site.path, line, site.code))
        if finding is None:
            results.append(Result(site, "missed", line))
        else:
            message = finding.get("skip_reason") or finding.get("message") or ""
            results.append(Result(site, finding_kind(finding), line, message))
    return results


def count(results: list[Result]) -> dict[str, dict[str, int]]:
    counts = Counter((r.site.label, r.outcome) for r in results)
    return {label: {outcome: counts[label, outcome] for outcome in OUTCOMES} for label in LABELS}


def metrics(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    beneficial = counts["beneficial"]
    return {
        "beneficial": sum(beneficial.values()),
        "beneficial_safe": beneficial["safe"],
        "beneficial_safe_or_unsafe": beneficial["safe"] + beneficial["unsafe"],
        "must_not": sum(counts["must-not"].values()),
        "must_not_safe": counts["must-not"]["safe"],
        "adds_query": sum(counts["adds-query"].values()),
        "adds_query_safe": counts["adds-query"]["safe"],
        "neutral": sum(counts["neutral"].values()),
        "neutral_safe": counts["neutral"]["safe"],
    }


def percent(part: int, whole: int) -> str:
    return f"{part}/{whole} {100 * part / whole:3.0f}%" if whole else f"{part}/0    -"


def render(per_project: dict[str, dict[str, dict[str, int]]]) -> str:
    """The counts table (label x outcome per project, then the total) and the summary table."""
    rows = dict(per_project)
    rows["total"] = {
        label: {o: sum(c[label][o] for c in per_project.values()) for o in OUTCOMES} for label in LABELS
    }
    width = max(len("project"), *(len(name) for name in rows))
    out = [f"{'project':{width}}  {'label':10} {'sites':>5} " + " ".join(f"{o:>7}" for o in OUTCOMES)]
    for name, counts in rows.items():
        for label in LABELS:
            sites = sum(counts[label].values())
            out.append(f"{name:{width}}  {label:10} {sites:>5} " + " ".join(f"{counts[label][o]:>7}" for o in OUTCOMES))
    out.append("")
    out.append(
        f"{'project':{width}}  {'recall (safe)':>14}  {'recall (safe or unsafe)':>23}  "
        f"{'safe on must-not':>16}  {'safe on adds-query':>18}  {'safe on neutral':>15}"
    )
    for name, counts in rows.items():
        m = metrics(counts)
        out.append(
            f"{name:{width}}  {percent(m['beneficial_safe'], m['beneficial']):>14}  "
            f"{percent(m['beneficial_safe_or_unsafe'], m['beneficial']):>23}  "
            f"{str(m['must_not_safe']) + '/' + str(m['must_not']):>16}  "
            f"{str(m['adds_query_safe']) + '/' + str(m['adds_query']):>18}  "
            f"{str(m['neutral_safe']) + '/' + str(m['neutral']):>15}"
        )
    return "\n".join(out)


def render_sites(results: list[Result]) -> str:
    """Every site that is not where it should be: beneficial sites without a safe fix, and
    safe fixes on must-not or adds-query sites."""
    out = []
    for r in results:
        wrong_fix = r.site.label in ("must-not", "adds-query") and r.outcome == "safe"
        if (r.site.label == "beneficial" and r.outcome != "safe") or wrong_fix or r.outcome == "lost":
            where = f"{r.site.project}/{r.site.path}:{r.line or r.site.line}"
            out.append(f"{where}: {r.site.code} {r.site.label} -> {r.outcome}  {r.site.source}")
            if r.message:
                out.append(f"    qsfix: {r.message}")
    return "\n".join(out)


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="folder holding one folder per project")
    parser.add_argument("--projects", help="comma-separated projects (default: every labelled one)")
    parser.add_argument("--labels", default=DEFAULT_LABELS, help="the labelled sites (TSV)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the tables")
    parser.add_argument("--sites", action="store_true", help="also list beneficial sites without a safe fix and wrong safe fixes")
    parser.add_argument("--cache", action="store_true", help="let qsfix use its cache (written into the corpus)")
    parser.add_argument("-j", "--jobs", type=int, help="qsfix worker processes (default: qsfix's own)")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    try:
        sites = load_labels(args.labels)
        labelled = sorted({s.project for s in sites})
        projects = args.projects.split(",") if args.projects else labelled
        missing = [p for p in projects if not os.path.isdir(os.path.join(args.corpus, p))]
        if missing:
            raise RecallError(
                f"not in the corpus {args.corpus}: {', '.join(missing)} "
                "(fetch it with ../shared/corpus.sh, QSFIX_CORPUS_SET=all, or pass --corpus)"
            )
        unlabelled = [p for p in projects if p not in labelled]
        if unlabelled:
            raise RecallError(f"no labelled sites for: {', '.join(unlabelled)}")
        results: list[Result] = []
        per_project = {}
        for project in projects:
            folder = os.path.join(args.corpus, project)
            findings = run_qsfix(folder, args.cache, args.jobs)["findings"]
            project_results = judge([s for s in sites if s.project == project], folder, findings)
            per_project[project] = count(project_results)
            results.extend(project_results)
    except RecallError as exc:
        print(f"recall.py: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        total = count(results)
        print(json.dumps({
            "projects": {p: {"counts": c, "metrics": metrics(c)} for p, c in per_project.items()},
            "total": {"counts": total, "metrics": metrics(total)},
            "sites": [{**asdict(r.site), "outcome": r.outcome, "line_now": r.line, "qsfix": r.message} for r in results],
        }, indent=2))
        return 0
    print(render(per_project))
    if args.sites:
        print()
        print(render_sites(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
