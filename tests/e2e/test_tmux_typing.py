"""Typing into the filter at full speed in a real terminal: ``/api`` and Enter arrive as
one burst, 50 times over, with the failing checkout canary selected; the filter reads
``api`` each time and no confirm dialog ever opens (a write key never gets a keystroke
typed for the filter)."""

from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.actions_world import bad_canary
from tests.helpers import REPO, require, wait_until
from tests.tmux import new_session, tmux

pytestmark = [pytest.mark.tmux, pytest.mark.slow]

RUNS = 50


def test_slash_api_enter_at_full_speed_only_ever_filters(tmp_path: Path) -> None:
    require(shutil.which("tmux") is not None, "tmux is not installed")
    with bad_canary(tmp_path) as world:
        session = f"cockpit-typing-{uuid.uuid4().hex[:8]}"
        command = (
            f"cd {REPO} && XDG_STATE_HOME={world.state_home} {sys.executable} -m cockpit "
            f"--config {world.config}; sleep 60"
        )
        new_session(session, command)
        seen: list[str] = []

        def screen() -> str:
            text = tmux("capture-pane", "-p", "-t", session)
            seen.append(text)
            return text

        def status_line() -> str:
            lines = [line for line in screen().splitlines() if line.strip()]
            return lines[-2] if len(lines) > 1 else ""

        try:
            wait_until(lambda: "paused" in screen(), timeout=60, message="the overview")
            wait_until(
                lambda: "checkout/production" in status_line(),
                timeout=30,
                message="the failing canary selected",
            )
            for run in range(RUNS):
                # One send-keys call: the five keys reach the terminal as one burst.
                tmux("send-keys", "-t", session, "/", "a", "p", "i", "Enter")
                wait_until(
                    lambda: _filter_line(screen()) == "api",
                    timeout=20,
                    message=f"run {run}: the filter reading 'api'",
                )
                tmux("send-keys", "-t", session, "Escape")
                wait_until(
                    lambda: _filter_line(screen()) is None,
                    timeout=20,
                    message=f"run {run}: the filter cleared",
                )
            assert not any("Abort canary" in text or "PRODUCTION ▲" in text for text in seen)
            assert world.writes_received() == []
            assert world.audit() == []
        finally:
            tmux("kill-session", "-t", session)


def _filter_line(text: str) -> str | None:
    """What the filter field reads (the line under the header and the source bar), or None
    while it is hidden and the table's header stands there."""
    lines = text.splitlines()
    if len(lines) < 3 or lines[2].split()[:2] == ["SERVICE", "ENV"]:
        return None
    return lines[2].strip()
