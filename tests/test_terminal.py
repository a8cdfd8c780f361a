"""qsfix on a real (pseudo-)terminal, as people first meet it, and on the pipes CI gives it.

Every test runs the CLI in a child process whose stdin and stderr (and stdout, unless a test
redirects it to a file as `qsfix diff . > fix.patch` does) are a pty of 40x120, on a project
of 64 files, so that the progress display starts. Cold runs use a fresh cache folder; warm
runs repeat in the same one.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO

QSFIX = [sys.executable, "-c", "import cli; cli.main()"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
SERVICE_COPIES, PADDING_COPIES = 4, 24
PROMPT = "Apply this change?"


def make_big_project(root: Path) -> Path:
    """The samples plus copies of shop modules under other names: 64 files, 30-odd changes."""
    shutil.copytree(REPO / "samples", root, ignore=shutil.ignore_patterns("__pycache__"))
    shop = root / "shop"
    for i in range(SERVICE_COPIES):
        shutil.copy(shop / "services.py", shop / f"services_{i}.py")
    for i in range(PADDING_COPIES):
        shutil.copy(shop / "admin.py", shop / f"admin_{i}.py")
        shutil.copy(shop / "forms.py", shop / f"forms_{i}.py")
    return root


def python_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))}


@dataclass
class Session:
    status: int
    screen: str  # everything the terminal received, `\r\n` as `\n`
    prompts: int  # questions answered

    @property
    def text(self) -> str:
        """The screen without colours and cursor movements."""
        return ANSI.sub("", self.screen)


def _controlling_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def on_terminal(
    cwd: Path, *args: str, env: dict, answers: tuple[str, ...] = (), prompt: str = PROMPT,
    stdout: Path | None = None, rows: int = 40, timeout: float = 240,
) -> Session:
    """Run qsfix on a pty; each time `prompt` appears, type the next answer (the last one
    again when they run out)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 120, 0, 0))
    out = open(stdout, "wb") if stdout is not None else None
    proc = subprocess.Popen(
        QSFIX + list(args), cwd=cwd, env=env, stdin=slave, stdout=out or slave, stderr=slave,
        preexec_fn=_controlling_terminal,
    )
    os.close(slave)
    if out is not None:
        out.close()
    received = b""
    asked = 0
    deadline = time.monotonic() + timeout
    try:
        while True:
            assert time.monotonic() < deadline, f"no end after {timeout} s: {received[-2000:]!r}"
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every end of the terminal is closed
                break
            if not chunk:
                break
            received += chunk
            if answers and received.count(prompt.encode()) > asked:
                os.write(master, (answers[min(asked, len(answers) - 1)] + "\n").encode())
                asked += 1
        status = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return Session(status, received.decode("utf-8", "replace").replace("\r\n", "\n"), asked)


def on_pipe(cwd: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(QSFIX + list(args), cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return make_big_project(tmp_path_factory.mktemp("terminal") / "pristine")


OUTSIDE_SETTINGS = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES", "QSFIX_PAGER")


def clean_env(cache: Path) -> dict:
    """A cache of its own, no pager, and no colour settings from the outside."""
    base = {k: v for k, v in os.environ.items() if k not in OUTSIDE_SETTINGS}
    return {**base, "XDG_CACHE_HOME": str(cache), "TERM": "xterm-256color", "PAGER": ""}


@pytest.fixture
def env(tmp_path) -> dict:
    """A fresh cache: the first run of a test is cold."""
    return clean_env(tmp_path / "cache")


@dataclass
class Expected:
    check: subprocess.CompletedProcess  # on a pipe
    diff: subprocess.CompletedProcess  # on a pipe
    applied: dict[str, bytes]  # the files `apply --yes` writes


@pytest.fixture(scope="module")
def expected(pristine, tmp_path_factory) -> Expected:
    """What qsfix prints and writes on pipes, to compare the terminal runs with."""
    base = tmp_path_factory.mktemp("expected")
    env = clean_env(base / "cache")
    copy = Path(shutil.copytree(pristine, base / "applied"))
    check, diff = on_pipe(copy, "check", env=env), on_pipe(copy, "diff", env=env)
    assert check.returncode == diff.returncode == 1
    assert diff.stdout.startswith(b"--- a/")
    applied = on_pipe(copy, "apply", "--yes", env=env)
    assert applied.returncode == 0, applied.stderr
    return Expected(check, diff, python_files(copy))


@pytest.fixture
def work(pristine, tmp_path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "work"))


def assert_no_crash(session: Session) -> None:
    assert "Traceback" not in session.text
    assert "internal error" not in session.text
    assert "lost sys.stderr" not in session.text


# -- check and diff, cold and warm -------------------------------------------------------------
def finding_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"shop/\S+\.py:\d+:\d+: QS00\d ", line)]


def test_check_on_a_terminal_cold_then_warm(work, env, expected):
    summary = expected.check.stderr.decode().splitlines()[-1]
    sessions = {run: on_terminal(work, "check", env=env) for run in ("cold", "warm")}
    for run, session in sessions.items():
        assert_no_crash(session)
        assert session.status == 1, (run, session.text[-2000:])
        assert finding_lines(session.text) == finding_lines(expected.check.stdout.decode()), run
        assert session.text.rstrip("\n").endswith(summary), run
    # the cold run drew the progress display, where the crash was
    assert "indexing" in sessions["cold"].text and "analysing" in sessions["cold"].text


@pytest.mark.slow
@pytest.mark.parametrize("run", ["cold", "warm"])
def test_diff_to_a_file_with_stderr_on_a_terminal_is_the_whole_patch(work, env, expected, tmp_path, run):
    """`qsfix diff . > fix.patch` on a terminal: the patch is what a pipe gets, never empty."""
    if run == "warm":
        on_pipe(work, "diff", env=env)  # fills the cache
    patch = tmp_path / "fix.patch"
    session = on_terminal(work, "diff", ".", env=env, stdout=patch)
    assert_no_crash(session)
    assert session.status == 1, session.text[-2000:]
    assert patch.read_bytes() == expected.diff.stdout
    assert session.text.rstrip("\n").endswith(expected.diff.stderr.decode().splitlines()[-1])


def patch_headers(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.startswith("+++ b/")]


@pytest.mark.slow
@pytest.mark.parametrize("run", ["cold", "warm"])
def test_diff_on_a_terminal_shows_every_change(work, env, expected, run):
    if run == "warm":
        on_pipe(work, "diff", env=env)  # fills the cache
    session = on_terminal(work, "diff", env=env)
    assert_no_crash(session)
    assert session.status == 1
    headers = patch_headers(expected.diff.stdout.decode())
    assert len(headers) >= SERVICE_COPIES
    assert patch_headers(session.text) == headers


@pytest.mark.slow
@pytest.mark.parametrize(("variable", "command"), [("FORCE_COLOR", "diff"), ("TTY_COMPATIBLE", "check")])
def test_ci_colour_variables_on_a_pipe(work, env, expected, variable, command):
    """CI sets FORCE_COLOR=1 or TTY_COMPATIBLE=1 on a pipe: no crash, no progress display,
    and `diff` still prints a plain patch."""
    plain = getattr(expected, command)
    coloured = on_pipe(work, command, env={**env, variable: "1"})  # cold
    assert coloured.returncode == plain.returncode == 1, coloured.stderr[-2000:]
    assert coloured.stdout == plain.stdout
    assert coloured.stderr.decode().splitlines()[-1] == plain.stderr.decode().splitlines()[-1]
    assert b"\x1b[?25l" not in coloured.stderr  # rich hides the cursor for a progress display
    assert b"Traceback" not in coloured.stderr and b"internal error" not in coloured.stderr


def has_colour(screen: str) -> bool:
    """Any foreground colour (30-38, 90-97) among the screen's SGR sequences."""
    for params in re.findall(r"\x1b\[([0-9;]*)m", screen):
        if any(p.isdigit() and (30 <= int(p) <= 38 or 90 <= int(p) <= 97) for p in params.split(";")):
            return True
    return False


@pytest.mark.slow
def test_no_color_on_a_terminal(work, env):
    session = on_terminal(work, "diff", env={**env, "NO_COLOR": "1"})
    assert_no_crash(session)
    assert session.status == 1
    assert not has_colour(session.screen)
    assert "+++ b/shop/services_0.py" in session.text
    coloured = on_terminal(work, "diff", env=env)
    assert has_colour(coloured.screen)  # the control: the same without NO_COLOR


# -- apply -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_apply_answering_yes_writes_what_apply_yes_writes(work, env, expected):
    session = on_terminal(work, "apply", env=env, answers=("y",), prompt="Write ")
    assert_no_crash(session)
    assert session.status == 0, session.text[-2000:]
    assert session.prompts == 1
    assert python_files(work) == expected.applied
    # the failures and the summary come before the question, the files written after it
    text = session.text
    question = text.index("Write ")
    assert text.index("files would change") < question
    assert text.index("fixes per pass: QS001 ") < question
    assert text.rstrip("\n").endswith("files written")


@pytest.mark.slow
@pytest.mark.parametrize("answer", ["N", ""])
def test_apply_answering_no_writes_nothing(work, pristine, env, answer):
    on_pipe(work, "diff", env=env)  # warm: the cache is filled
    session = on_terminal(work, "apply", env=env, answers=(answer,), prompt="Write ")
    assert_no_crash(session)
    assert session.status == 0
    assert python_files(work) == python_files(pristine)
    assert session.text.rstrip("\n").endswith("nothing written")


@pytest.mark.slow
def test_apply_interactive_no_to_all_writes_nothing(work, pristine, env):
    session = on_terminal(work, "apply", "--interactive", env=env, answers=("n",))
    assert_no_crash(session)
    assert session.status == 0, session.text[-2000:]
    assert python_files(work) == python_files(pristine)
    changes = int(re.search(r"change 1 of (\d+)", session.text).group(1))
    assert session.prompts == changes > SERVICE_COPIES
    # the summary counts what was accepted: nothing
    assert re.search(r"\(0 fixed in the diff\), .*, 0 files written$", session.text.rstrip("\n").splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("run", ["cold", "warm"])
def test_apply_interactive_all_writes_what_apply_yes_writes(work, env, expected, run):
    if run == "warm":
        on_pipe(work, "diff", env=env)  # fills the cache
    session = on_terminal(work, "apply", "-i", env=env, answers=("a",))
    assert_no_crash(session)
    assert session.status == 0, session.text[-2000:]
    assert session.prompts == 1
    assert python_files(work) == expected.applied


@pytest.mark.slow
def test_apply_interactive_quit_stops_asking(work, pristine, env):
    session = on_terminal(work, "apply", "-i", env=env, answers=("y", "q"))
    assert_no_crash(session)
    assert session.status == 0, session.text[-2000:]
    assert session.prompts == 2
    changed = [path for path, data in python_files(work).items() if data != python_files(pristine)[path]]
    assert len(changed) == 1  # the first change, accepted before quitting
    assert session.text.rstrip("\n").endswith("1 file written")


# -- the pager ---------------------------------------------------------------------------------
RECORDING_PAGER = """\
import os, sys
with open(os.environ["PAGED_TO"], "ab") as paged:
    paged.write(sys.stdin.buffer.read())
"""


@pytest.fixture
def pager_env(env, tmp_path) -> dict:
    """A pager that records what it is given (and shows nothing)."""
    script = tmp_path / "pager.py"
    script.write_text(RECORDING_PAGER)
    return {**env, "PAGER": f"{sys.executable} {script}", "PAGED_TO": str(tmp_path / "paged")}


@pytest.mark.slow
def test_apply_pages_a_diff_longer_than_the_screen(work, pristine, expected, pager_env, tmp_path):
    headers = patch_headers(expected.diff.stdout.decode())
    session = on_terminal(work, "apply", env=pager_env, answers=("n",), prompt="Write ")
    assert_no_crash(session)
    assert session.status == 0
    paged = ANSI.sub("", (tmp_path / "paged").read_text())
    assert patch_headers(paged) == headers
    assert "+++ b/" not in session.text  # the diff went to the pager, not past the question
    assert "fixes per pass: " in session.text.split("Write ")[0]
    assert python_files(work) == python_files(pristine)


@pytest.mark.slow
def test_apply_does_not_page_a_diff_that_fits_the_screen(work, pager_env, tmp_path):
    session = on_terminal(work, "apply", "shop/api.py", env=pager_env, answers=("n",), prompt="Write ")
    assert session.status == 0
    assert not (tmp_path / "paged").exists()
    assert "+++ b/shop/api.py" in session.text.split("Write ")[0]


@pytest.mark.slow
def test_apply_does_not_page_when_stdout_is_not_a_terminal(work, expected, pager_env, tmp_path):
    out = tmp_path / "stdout"
    session = on_terminal(work, "apply", env=pager_env, answers=("n",), prompt="Write ", stdout=out)
    assert session.status == 0
    assert not (tmp_path / "paged").exists()
    assert out.read_bytes() == expected.diff.stdout  # the plain patch, as `diff` prints it
