"""GitLab job logs as a person would have seen them in a terminal."""

from __future__ import annotations

from cockpit.ui.trace import clean_lines, plain

RAW = (
    "\x1b[0KRunning with gitlab-runner 17.5.0\n"
    "section_start:1764126000:prepare_script\r\x1b[0K\x1b[36;1mPreparing environment\x1b[0;m\n"
    "Running on runner-abc\n"
    "section_end:1764126001:prepare_script\r\x1b[0K\n"
    "compiling 42%\rcompiling 100%\n"
    "\x1b[32;1mJob succeeded\x1b[0;m\n"
    "partial line"
)


def test_section_markers_and_erase_codes_are_removed_colours_kept() -> None:
    lines, _ = clean_lines(RAW)
    assert [plain(line) for line in lines] == [
        "Running with gitlab-runner 17.5.0",
        "Preparing environment",
        "Running on runner-abc",
        "compiling 100%",
        "Job succeeded",
    ]
    assert lines[1].startswith("\x1b[36;1m")  # colour survives for the screen to render
    assert not any("section_" in line or "\x1b[0K" in line for line in lines)


def test_the_unfinished_last_line_is_held_back() -> None:
    _, tail = clean_lines(RAW)
    assert tail == "partial line"


def test_a_carriage_return_keeps_the_last_rewrite() -> None:
    lines, _ = clean_lines("10%\r50%\r100%\r\n")
    assert lines == ["100%"]


def test_an_empty_log_has_no_lines() -> None:
    assert clean_lines("") == ([], "")
