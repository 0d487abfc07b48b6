"""Writing to a terminal that hung up: cockpit neither crashes nor blocks, and stops."""

from __future__ import annotations

import io

from cockpit.ui.terminal import TerminalOutput


class HungUpTerminal(io.StringIO):
    """A tty after its hangup: every write and flush fails with EIO."""

    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")

    def flush(self) -> None:
        raise OSError(5, "Input/output error")


def test_output_to_a_live_terminal_passes_through() -> None:
    terminal = io.StringIO()
    output = TerminalOutput(terminal)
    output.write("\x1b[?1049h")
    output.flush()
    assert terminal.getvalue() == "\x1b[?1049h" and not output.gone


def test_output_to_a_hung_up_terminal_is_dropped_and_reported_once() -> None:
    told: list[str] = []
    output = TerminalOutput(HungUpTerminal(), lambda: told.append("gone"))
    for frame in ("frame 1", "frame 2", "frame 3"):
        assert output.write(frame) == len(frame)
        output.flush()
    assert output.gone
    assert told == ["gone"]
