"""Leaving the terminal as it was, however cockpit is stopped.

SIGTERM (``kill``, a service manager, a container stop), SIGHUP (the SSH connection
dropped, the terminal window closed) and SIGINT (``kill -INT``: in the app ``ctrl+c`` is
a key) end a Python process at once by default: Textual never leaves application mode,
and the alternate screen, mouse tracking and the hidden cursor stay on in the user's
terminal. :func:`run_until_signalled` turns each of them into ``App.exit``; Textual then
restores the terminal through its driver (``LinuxDriver.stop_application_mode``) and
cockpit stops the engine as on ``q``.

When the terminal is gone (a hung-up tty: every write fails with EIO), nothing may be
written to it, and nothing may wait on it. Textual writes each frame from a thread
(textual/drivers/_writer_thread.py): a write that raises ends that thread, and the app
then blocks once its queue of 30 frames is full. :class:`TerminalOutput` swallows the
failure instead, and on a signal, with the terminal gone, the standard streams are pointed
at ``/dev/null`` so that whatever is still printed on the way out goes nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from textual.app import App
    from textual.driver import Driver

#: The signals that end cockpit as ``q`` does, each with exit status 128 + its number.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

#: The standard streams, by file descriptor.
STANDARD_FDS = (0, 1, 2)


class TerminalOutput:
    """The terminal's output for Textual's writer thread: once a write fails (the
    terminal is gone), every later write and flush does nothing, and ``on_gone`` is
    called (from the writer thread), once. ``writing_since`` says since when a write has
    been waiting for the terminal (a slow link), for :class:`SlowLine`."""

    def __init__(self, file: IO[str], on_gone: Callable[[], None] = lambda: None) -> None:
        self._file = file
        self._on_gone = on_gone
        #: True from the first failed write.
        self.gone = False
        #: ``time.monotonic()`` when the write in progress began; None between writes.
        self.writing_since: float | None = None

    def write(self, text: str) -> int:
        if not self.gone:
            self.writing_since = time.monotonic()
            try:
                return self._file.write(text)
            except OSError:
                self._lost()
            finally:
                self.writing_since = None
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except OSError:
                self._lost()

    def _lost(self) -> None:
        self.gone = True
        self._on_gone()

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return True


def tolerant_driver(
    driver_class: type[Driver], on_gone: Callable[[], None] = lambda: None
) -> type[Driver]:
    """Textual's Linux driver, writing through :class:`TerminalOutput`; any other driver
    (one chosen with ``TEXTUAL_DRIVER``, or Windows') as it is."""
    from textual.drivers.linux_driver import LinuxDriver

    if driver_class is not LinuxDriver:
        return driver_class

    class TolerantLinuxDriver(LinuxDriver):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # The file the writer thread writes every frame to (textual/drivers/
            # linux_driver.py: ``self._file = sys.__stderr__``, ``WriterThread(self._file)``).
            self.output = TerminalOutput(cast("IO[str]", self._file), on_gone)
            # Any: the writer thread only writes, flushes and asks for the fileno.
            self._file = cast(Any, self.output)

    return TolerantLinuxDriver


class SlowLine:
    """Frames held while the terminal cannot keep up (a slow SSH link, a 9600 baud line).

    Textual queues up to 30 frames for its writer thread and then blocks the app until
    the terminal takes them (textual/drivers/_writer_thread.py): on a saturated link the
    screen shows what was true a minute ago and keys wait. Checked every ``CHECK``
    seconds: while a write has been waiting for the terminal longer than ``BLOCKED``,
    the app holds its frames (``App.batch_update``: changes accumulate, nothing is
    queued); once the terminal has taken it, one frame carries everything that changed.
    """

    CHECK = 0.1
    BLOCKED = 0.1

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._held: contextlib.AbstractContextManager[None] | None = None

    def check(self) -> None:
        output = getattr(self.app._driver, "output", None)
        since = getattr(output, "writing_since", None)
        blocked = since is not None and time.monotonic() - since > self.BLOCKED
        if blocked and self._held is None:
            self._held = self.app.batch_update()
            self._held.__enter__()
        elif not blocked and self._held is not None:
            held, self._held = self._held, None
            held.__exit__(None, None, None)

    @property
    def holding(self) -> bool:
        return self._held is not None


def terminals() -> tuple[int, ...]:
    """The standard streams that are terminals now."""
    return tuple(fd for fd in STANDARD_FDS if os.isatty(fd))


def gone(ttys: tuple[int, ...]) -> bool:
    """Whether one of these terminals hung up (``isatty`` fails on a hung-up tty: its
    ``tcgetattr`` does)."""
    return any(not os.isatty(fd) for fd in ttys)


def detach_standard_streams() -> None:
    """Point stdin, stdout and stderr at ``/dev/null``."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in STANDARD_FDS:
            with contextlib.suppress(OSError):
                os.dup2(null, fd)
    finally:
        os.close(null)


def run_until_signalled(app: App[Any]) -> int:
    """Run ``app`` until it exits or one of ``STOP_SIGNALS`` stops it; the exit status."""
    ttys = terminals()
    loop: asyncio.AbstractEventLoop | None = None

    def stop(signum: int) -> None:
        if gone(ttys):
            detach_standard_streams()
        app.exit(return_code=128 + signum)

    def terminal_gone() -> None:
        """From Textual's writer thread: the terminal hung up, and no SIGHUP came (a
        parent that ignores it, as ``nohup`` does): stop as if it had."""
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: cockpit is gone
                loop.call_soon_threadsafe(stop, signal.SIGHUP)

    app.driver_class = tolerant_driver(app.driver_class, terminal_gone)

    async def main() -> None:
        nonlocal loop
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stop, signum)
        try:
            await app.run_async()
        finally:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)

    asyncio.run(main())
    return app.return_code or 0
