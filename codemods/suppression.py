"""Suppression comments: `# qsfix: ignore`, `# qsfix: ignore[QS001,QS002]`, `# noqa: QS001`.

They apply to findings that start on the same line. A bare `# noqa` is not honoured: in most
projects it silences flake8 for an unrelated reason, and a user who wants qsfix silent there
can say so.

Also here: the rule for a comment that says an evaluation is deliberate (QS001/QS002 leave
such a site alone). It needs one of a few explicit words, so that a note that merely talks
about evaluation (`# TODO: evaluate moving this to a celery task`) silences nothing.
"""

from __future__ import annotations

import io
import re
import tokenize

from .files import split_lines
from .findings import SUPPRESSED  # the skip reason, kept with the findings
from typing import Optional

ALL = frozenset({"*"})
# Words that say the evaluation is on purpose; a to-do note or a negation never does.
_DELIBERATE = re.compile(r"\b(deliberate|deliberately|intentional|intentionally|on purpose)\b", re.IGNORECASE)
_NEGATED = re.compile(r"(\bnot|\bnever|n't)\s+(deliberate|deliberately|intentional|intentionally|on purpose)\b",
                      re.IGNORECASE)
_TODO = re.compile(r"^\W*(todo|fixme|xxx|hack)\b", re.IGNORECASE)

_QSFIX = re.compile(r"qsfix\s*:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)
_NOQA = re.compile(r"noqa\s*:\s*([A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)


def _codes(text: str) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in re.split(r"[\s,]+", text) if c.strip())


def suppressions(text: str) -> dict[int, frozenset[str]]:
    """Line number -> suppressed codes (`{"*"}` for all) from the comments of `text`."""
    lowered = text.lower()
    if "qsfix" not in lowered and "noqa" not in lowered:
        return {}
    found: dict[int, frozenset[str]] = {}
    # Only lines that mention the words are tokenized (a whole file through the pure-Python
    # tokenizer cost seconds on large projects); a line inside a multi-line string that
    # looks like a comment may then count too, which can only make the tool do less.
    for number, line in enumerate(split_lines(text), 1):
        lowered = line.lower()
        if "#" not in line or ("qsfix" not in lowered and "noqa" not in lowered):
            continue
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(line.lstrip()).readline))
        except (tokenize.TokenError, SyntaxError, IndentationError):
            tokens = [tokenize.TokenInfo(tokenize.COMMENT, line[line.index("#"):], (1, 0), (1, 0), line)]
        for token in tokens:
            if token.type == tokenize.COMMENT:
                _record(found, number, token.string)
    return found


def _record(found: dict[int, frozenset[str]], line: int, comment: str) -> None:
    codes: frozenset[str] = frozenset()
    match = _QSFIX.search(comment)
    if match:
        codes = ALL if match.group(1) is None else _codes(match.group(1))
    match = _NOQA.search(comment)
    if match:
        codes = codes | _codes(match.group(1))
    if codes:
        found[line] = found.get(line, frozenset()) | codes


def suppressed(table: dict[int, frozenset[str]], line: int, code: str) -> Optional[str]:
    codes = table.get(line)
    if not codes:
        return None
    if "*" in codes or code in codes:
        return SUPPRESSED
    return None


def deliberate_rule(code: str) -> str:
    """The rule of `says_deliberate`, in words: for `qsfix explain` of the passes that follow it."""
    return (
        "A site is left alone (listed by `--show-skipped`) when a comment on its lines, or in "
        "the comment lines right above its statement, says the evaluation is deliberate: it "
        "contains one of the words `deliberate`, `deliberately`, `intentional`, "
        "`intentionally` or `on purpose` (for example `# len() on purpose: the rows are "
        "rendered below`). A comment that starts with `TODO`, `FIXME`, `XXX` or `HACK`, or "
        "says `not deliberate`, does not count, and other words (`# evaluate ...`) do not "
        f"either. `# qsfix: ignore[{code}]` or `# noqa: {code}` silences a line whatever else it says."
    )


def says_deliberate(comment: str) -> bool:
    """The comment's text (after `#`) says the evaluation is on purpose (`deliberate_rule`)."""
    if _TODO.match(comment) or _NEGATED.search(comment):
        return False
    return _DELIBERATE.search(comment) is not None
