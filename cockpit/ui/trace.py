"""GitLab job logs made readable: section markers removed, ``\\r`` overwrites applied.

A GitLab trace is the raw terminal output of the runner: ANSI colours, erase-line
codes, carriage returns for progress bars, and collapsible-section markers
(``section_start:<unix>:<name>\\r\\e[0K`` … ``section_end:<unix>:<name>\\r\\e[0K``).
``clean_lines`` turns it into the lines a person would have seen, keeping the colour
codes (SGR) for the screen to render and dropping everything else. Pure functions.
"""

from __future__ import annotations

import re

_SECTION = re.compile(r"section_(?:start|end):\d+:[A-Za-z0-9_.\-\[\]=,]+\r?(?:\x1b\[0K)?")
#: CSI sequences other than colours (SGR, ending in ``m``): erase line, cursor moves…
_NON_SGR_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z@`]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z@`]")


def _overwrite(line: str) -> str:
    """What a terminal shows for a line containing ``\\r``: the last rewrite wins."""
    if "\r" not in line:
        return line
    rewrites = [part for part in line.split("\r") if part]
    return rewrites[-1] if rewrites else ""


def clean_line(line: str) -> str:
    line = _SECTION.sub("", line)
    line = _overwrite(line.rstrip("\r"))
    return _NON_SGR_CSI.sub("", line)


def clean_lines(raw: str) -> tuple[list[str], str]:
    """Complete lines of ``raw``, cleaned, and the unfinished tail (no newline yet)."""
    *complete, tail = raw.split("\n")
    lines = [clean_line(line) for line in complete]
    # A line that held nothing but a section_end marker is noise, not a blank line.
    kept = [
        line
        for line, original in zip(lines, complete, strict=True)
        if line or not _SECTION.search(original)
    ]
    return kept, tail


def plain(line: str) -> str:
    """A cleaned line without its colour codes (for tests and NO_COLOR logs)."""
    return _ANSI.sub("", line)
