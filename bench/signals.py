"""How fast ``cockpit demo`` stops on SIGTERM, SIGINT and SIGHUP, and whether it gives the
terminal back: a real terminal (tmux), the demo running as a person starts it.

For each signal (``--runs`` times): start the demo in a fresh tmux session, wait for the
overview, send the signal to the cockpit process and time until it is gone (polled
every 10 ms from ``/proc``). Then tmux says whether the alternate screen, mouse
tracking and the hidden cursor were switched off again. SIGHUP is also sent by tmux
itself, the way an SSH drop does it: the session is killed with the confirm dialog open.

Budget: every exit within 2 s, and the terminal given back every time. Prints one line
per signal and PASS/FAIL (exit 1 on FAIL).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

BUDGET_S = 2.0
START_TIMEOUT = 90.0
FLAGS = ("alternate_on", "cursor_flag", "mouse_any_flag", "mouse_all_flag")
GIVEN_BACK = {"alternate_on": "0", "cursor_flag": "1", "mouse_any_flag": "0", "mouse_all_flag": "0"}


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.01)


def exited(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def start(session: str, command: str) -> None:
    tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "120",
        "-y",
        "36",
        f"unset COLUMNS LINES; {command}",
    )
    wait(
        lambda: "checkout" in tmux("capture-pane", "-p", "-t", session),
        START_TIMEOUT,
        "the demo's overview",
    )


def demo() -> str:
    return f"cd {REPO} && PYTHONPATH={REPO} {sys.executable} -m cockpit demo"


def by_signal(signum: signal.Signals) -> tuple[float, bool]:
    """Seconds from the signal to the exit, and whether the terminal was given back."""
    session = f"bench-signal-{uuid.uuid4().hex[:8]}"
    start(session, f"{demo()}; exec cat")
    try:
        shell = int(tmux("display", "-p", "-t", session, "#{pane_pid}"))
        found = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True)
        (cockpit,) = (int(pid) for pid in found.stdout.split())
        began = time.monotonic()
        os.kill(cockpit, signum)
        wait(lambda: exited(cockpit), 30, f"cockpit to exit on {signum.name}")
        took = time.monotonic() - began
        shown = tmux("display", "-p", "-t", session, " ".join(f"#{{{n}}}" for n in FLAGS))
        return took, dict(zip(FLAGS, shown.split(), strict=True)) == GIVEN_BACK
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def by_hang_up() -> float:
    """Seconds from the terminal going away (confirm dialog open) to the exit."""
    session = f"bench-hangup-{uuid.uuid4().hex[:8]}"
    start(session, f"exec env PYTHONPATH={REPO} {sys.executable} -m cockpit demo")
    try:
        cockpit = int(tmux("display", "-p", "-t", session, "#{pane_pid}"))
        tmux("send-keys", "-t", session, "r")
        wait(
            lambda: "esc cancel" in tmux("capture-pane", "-p", "-t", session),
            30,
            "the confirm dialog",
        )
        began = time.monotonic()
        tmux("kill-session", "-t", session)
        wait(lambda: exited(cockpit), 30, "cockpit to exit when its terminal hung up")
        return time.monotonic() - began
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per signal (default 3)")
    args = parser.parse_args()
    ok = True
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        runs = [by_signal(signum) for _ in range(args.runs)]
        times = [took for took, _ in runs]
        given_back = all(back for _, back in runs)
        ok = ok and max(times) <= BUDGET_S and given_back
        print(
            f"{signum.name:8} exit median {statistics.median(times):.2f} s  max {max(times):.2f} s  "
            f"terminal given back: {'yes' if given_back else 'NO'}"
        )
    hang_ups = [by_hang_up() for _ in range(args.runs)]
    ok = ok and max(hang_ups) <= BUDGET_S
    print(
        f"{'hang-up':8} exit median {statistics.median(hang_ups):.2f} s  "
        f"max {max(hang_ups):.2f} s  (terminal gone, confirm dialog open)"
    )
    print(
        f"{'PASS' if ok else 'FAIL'}  every exit within {BUDGET_S:.0f} s, the terminal given back"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
