"""Git, for `--changed-since`: which files changed since a revision. `subprocess` is imported
when git is run, never by a plain run."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterable, Optional

from codemods.files import discover

if TYPE_CHECKING:
    import subprocess


class GitError(Exception):
    """Git is missing, this is no repository, or the revision is unknown: the user's to fix,
    so the message is written for them (the command line shows it as a usage error)."""


def _git(*args: str, cwd: Optional[str] = None) -> subprocess.CompletedProcess:
    import subprocess  # imported when used, as everything a plain run does not need

    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise GitError(f"--changed-since needs git: {exc.strerror or exc}") from None


def _git_error(proc: subprocess.CompletedProcess) -> str:
    lines = os.fsdecode(proc.stderr).strip().splitlines()
    return lines[0] if lines else f"git exited with status {proc.returncode}"


def changed_targets(paths: Iterable[str], excludes: Iterable[str], ref: str) -> list[str]:
    """The files a plain run over `paths` would look at (defaults, .gitignore, --exclude) that
    changed since `ref`; the engine still indexes their whole project."""
    changed = changed_files(ref)
    return [p for p in discover(list(paths), list(excludes)) if os.path.realpath(p) in changed]


def changed_files(ref: str) -> set[str]:
    """Real paths of the files changed since `ref`: the working tree (staged or not) against the
    commit where the current branch left `ref` (`ref` itself when it is an ancestor, as
    `origin/main` usually is), plus untracked files that are not ignored. Deleted files are
    left out. Raises GitError outside a git repository or for an unknown revision."""
    top = _git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise GitError(f"--changed-since: not inside a git repository ({_git_error(top)})")
    root = os.fsdecode(top.stdout).rstrip("\n")
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=root)
    if ref.startswith("-") or commit.returncode != 0:
        raise GitError(f"--changed-since: unknown git revision: {ref}")
    base = os.fsdecode(commit.stdout).strip()
    fork = _git("merge-base", base, "HEAD", cwd=root)
    if fork.returncode == 0:  # no common history, or no commit yet: compare with REF itself
        base = os.fsdecode(fork.stdout).strip()
    names: list[bytes] = []
    for args in (
        ("diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", base, "--"),
        ("ls-files", "-z", "--others", "--exclude-standard"),
    ):
        proc = _git(*args, cwd=root)
        if proc.returncode != 0:
            raise GitError(f"--changed-since: git {args[0]} failed: {_git_error(proc)}")
        names.extend(n for n in proc.stdout.split(b"\0") if n)
    return {os.path.realpath(os.path.join(root, os.fsdecode(n))) for n in names}
