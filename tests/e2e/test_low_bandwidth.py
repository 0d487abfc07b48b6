"""``--low-bandwidth`` over a 9600 baud line: cockpit in a pseudo-terminal whose other end
reads at most 960 bytes a second (what a 9600 baud serial line carries), into a terminal
emulator (pyte). The screen still comes, keys still work while the line is saturated,
and ``q`` still quits: a slow link makes cockpit slow to draw, never stuck."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import sys
import termios
import threading
import time

import pyte
import pytest

from tests.helpers import REPO, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

COLUMNS, LINES = 80, 24
#: 9600 baud: ten bits a character on the wire.
BYTES_PER_SECOND = 960
TICK = 0.05


class SlowLine:
    """The terminal's side of the pty: reads at ``BYTES_PER_SECOND`` into an emulator."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        self.received = 0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        budget = int(BYTES_PER_SECOND * TICK)
        while not self._done.is_set():
            try:
                chunk = os.read(self.fd, budget)
            except OSError:  # the other side closed: cockpit exited
                return
            if not chunk:
                return
            with self._lock:
                self.stream.feed(chunk)
                self.received += len(chunk)
            time.sleep(TICK)

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.screen.display)

    def stop(self) -> None:
        self._done.set()


def test_low_bandwidth_over_a_9600_baud_line_stays_usable() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: cockpit, as a person on a slow link starts it
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env |= {"TERM": "xterm-256color", "PYTHONPATH": str(REPO)}
        os.chdir(REPO)
        os.execvpe(
            sys.executable,
            [
                sys.executable,
                "-m",
                "cockpit",
                "demo",
                "--low-bandwidth",
                "--scenario",
                "bad-canary",
                "--time-scale",
                "1",
            ],
            env,
        )
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    line = SlowLine(fd)
    try:
        wait_until(
            lambda: "checkout" in line.text() and "production" in line.text(),
            timeout=120,
            message="the overview through a 9600 baud line",
        )
        os.write(fd, b"/cart\r")  # typed while the line may still be busy
        wait_until(
            lambda: (
                any(row.lstrip("› ").startswith("cart") for row in line.text().splitlines())
                and "checkout" not in line.text().split("SERVICE", 1)[-1]
            ),
            timeout=120,
            message="the filter applied through the slow line",
        )
        os.write(fd, b"q")
        wait_until(
            lambda: os.waitpid(pid, os.WNOHANG)[0] == pid,
            timeout=120,
            message="cockpit to quit through the slow line",
        )
        pid = 0
    finally:
        line.stop()
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
