"""``cockpit demo`` in a real terminal (tmux): the overview appears, enter opens a detail, q quits with 0.

Runs the ``cockpit`` console script installed beside this Python, as a person does (not
one found on ``PATH``, which may belong to another installation). Without it, or
without tmux, the test skips — except under ``CI=true``, where
either is a failure: the end-to-end test must not silently vanish.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers import require, wait_until
from tests.tmux import new_session, tmux

pytestmark = [pytest.mark.tmux, pytest.mark.slow]


def _console_script() -> str | None:
    beside_python = Path(sys.executable).parent / "cockpit"
    return str(beside_python) if beside_python.exists() else None


def test_demo_overview_detail_and_quit(tmp_path: Path) -> None:
    require(shutil.which("tmux") is not None, "tmux is not installed")
    script = _console_script()
    require(
        script is not None,
        "the cockpit console script is not installed (pip install -e '.[test]')",
    )
    status_file = tmp_path / "exit-status"
    session = f"cockpit-e2e-{uuid.uuid4().hex[:8]}"
    command = f"{script} demo; echo $? > {status_file}"
    new_session(session, command)
    try:

        def screen() -> str:
            return tmux("capture-pane", "-p", "-t", session)

        wait_until(
            lambda: "SERVICE" in screen() and "checkout" in screen(),
            timeout=60,
            message="the overview",
        )
        # The bad canary is the top row, and the cursor is on it.
        wait_until(
            lambda: any(
                line.startswith("›⚠ checkout") and "production" in line
                for line in screen().splitlines()
            ),
            timeout=20,
            message="the failing checkout canary first, selected",
        )
        tmux("send-keys", "-t", session, "Enter")
        wait_until(
            lambda: "Rollout" in screen() and "Pipeline" in screen(),
            timeout=20,
            message="a detail screen",
        )
        tmux("send-keys", "-t", session, "Escape")
        wait_until(lambda: "SERVICE" in screen(), timeout=20, message="back on the overview")
        tmux("send-keys", "-t", session, "q")
        wait_until(status_file.exists, timeout=30, message="cockpit demo to exit")
        assert status_file.read_text().strip() == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
