"""Driving cockpit in a real terminal: tmux sessions for the end-to-end tests."""

from __future__ import annotations

import subprocess


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def new_session(name: str, command: str, *, width: int = 120, height: int = 36) -> None:
    """A detached session of ``width``×``height`` running ``command``.

    The test process may carry ``COLUMNS``/``LINES`` (the snapshot plugin's 80×24), and
    a tmux server passes its first client's environment on to every session; a
    program that reads them (Python's ``shutil.get_terminal_size`` prefers them to the
    terminal's own size) would draw 80×24 inside a larger pane. The command runs
    without them, so the pane's size is the only size.
    """
    tmux(
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        str(width),
        "-y",
        str(height),
        f"unset COLUMNS LINES; {command}",
    )


def screen(name: str) -> str:
    return tmux("capture-pane", "-p", "-t", name)
