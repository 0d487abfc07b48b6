"""``cockpit demo`` stopped by a signal in a real terminal (tmux): the terminal is given back.

SIGTERM, SIGINT and SIGHUP stop cockpit as ``q`` does: the alternate
screen, mouse tracking and the hidden cursor are switched off again, and the exit
status says which signal it was (128 + its number). When the terminal itself goes
away (an SSH connection dropping: tmux closes the pane, and the kernel hangs up its
tty), cockpit exits too, even with the confirm dialog open, and leaves no process
behind.

The demo runs as ``python -m cockpit`` with this checkout first on ``PYTHONPATH``, so
the code under test is this one, whatever ``cockpit`` is installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers import REPO, require, wait_until
from tests.tmux import new_session, screen, tmux

pytestmark = [pytest.mark.tmux, pytest.mark.slow]

#: How long the test waits for cockpit to be gone: a deadline for a hang, not a timing
#: (bench/signals.py measures how fast it exits, against its 2 s budget).
EXIT_DEADLINE = 15.0


def _demo_command() -> str:
    return f"PYTHONPATH={REPO} {sys.executable} -m cockpit demo"


def _exited(pid: int) -> bool:
    """The process ended (gone, or a zombie its parent has not reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def _flags(session: str) -> dict[str, str]:
    names = ("alternate_on", "cursor_flag", "mouse_any_flag", "mouse_all_flag")
    shown = tmux("display", "-p", "-t", session, " ".join(f"#{{{name}}}" for name in names))
    return dict(zip(names, shown.split(), strict=True))


def _wait_for_the_overview(session: str) -> None:
    wait_until(
        lambda: any(
            line.startswith("›⚠ checkout") and "production" in line
            for line in screen(session).splitlines()
        ),
        timeout=60,
        message="the overview, the failing checkout canary selected",
    )


def _require_tools() -> None:
    require(shutil.which("tmux") is not None, "tmux is not installed")
    require(shutil.which("pgrep") is not None, "pgrep (procps) is not installed")


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name
)
def test_a_signal_stops_the_demo_and_gives_the_terminal_back(
    signum: signal.Signals, tmp_path: Path
) -> None:
    _require_tools()
    status_file = tmp_path / "exit-status"
    session = f"cockpit-signal-{uuid.uuid4().hex[:8]}"
    # After cockpit, the shell waits on ``cat`` so that the pane (and its modes) stay.
    new_session(session, f"{_demo_command()}; echo $? > {status_file}; exec cat")
    try:
        _wait_for_the_overview(session)
        assert _flags(session)["alternate_on"] == "1"
        shell = int(tmux("display", "-p", "-t", session, "#{pane_pid}"))
        (cockpit,) = _children(shell)
        os.kill(cockpit, signum)
        wait_until(
            lambda: _exited(cockpit),
            timeout=EXIT_DEADLINE,
            message=f"cockpit to exit on {signum.name}",
        )
        wait_until(status_file.exists, timeout=10, message="the shell to record the exit status")
        assert status_file.read_text().strip() == str(128 + signum)
        assert _flags(session) == {
            "alternate_on": "0",
            "cursor_flag": "1",
            "mouse_any_flag": "0",
            "mouse_all_flag": "0",
        }
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_a_terminal_that_hangs_up_with_the_confirm_dialog_open_ends_cockpit() -> None:
    _require_tools()
    session = f"cockpit-hangup-{uuid.uuid4().hex[:8]}"
    # ``exec``: cockpit leads the terminal's session, as ``ssh host cockpit`` does.
    new_session(session, f"exec env {_demo_command()}")
    cockpit: int | None = None
    try:
        _wait_for_the_overview(session)
        cockpit = int(tmux("display", "-p", "-t", session, "#{pane_pid}"))
        tmux("send-keys", "-t", session, "r")
        wait_until(
            lambda: "esc cancel" in screen(session), timeout=20, message="the confirm dialog"
        )
        children = _children(cockpit)
        tmux("kill-session", "-t", session)  # the terminal goes away: SIGHUP
        wait_until(
            lambda: _exited(cockpit),
            timeout=EXIT_DEADLINE,
            message="cockpit to exit when its terminal hung up",
        )
        assert all(_exited(child) for child in children)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        if cockpit is not None and not _exited(cockpit):
            os.kill(cockpit, signal.SIGKILL)
