"""The command line: help, version, and one clear line for every usage mistake."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cockpit import __version__
from cockpit.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args], capture_output=True, text=True, timeout=60
    )


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"cockpit {__version__}"


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "usage: cockpit" in out
    assert "sim" in out


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["--no-such-flag"],
        ["sim", "--seed", "seven", "--state-dir", "x"],
        ["rollback", "checkout", "--to-revision", "0"],
        ["dora", "checkout", "--days", "x" * 5000],
    ],
    ids=["unknown-subcommand", "unknown-flag", "bad-value", "revision-0", "huge-days"],
)
def test_usage_mistakes_give_one_line_on_stderr_and_exit_2(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cockpit")
    assert "error" in lines[0] and len(lines[0]) < 300  # a huge value is never echoed whole
    assert result.stdout == ""


def test_python_dash_m_runs_the_same_command() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"cockpit {__version__}"
