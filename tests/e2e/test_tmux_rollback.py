"""The 3 a.m. moment in a real terminal: cockpit against ``cockpit sim --scenario
bad-canary``; select checkout production, press ``r``, read the dialog, press ``y``; the
rollout is aborted with the canary weight at 0 and there is exactly one audit record."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.actions_world import bad_canary
from tests.helpers import REPO, require, wait_until
from tests.tmux import new_session, tmux

pytestmark = [pytest.mark.tmux, pytest.mark.slow]


def test_r_then_y_on_the_bad_canary_aborts_it_once(tmp_path: Path) -> None:
    require(shutil.which("tmux") is not None, "tmux is not installed")
    require(shutil.which("kubectl") is not None, "kubectl is not installed")
    with bad_canary(tmp_path) as world:
        session = f"cockpit-rollback-{uuid.uuid4().hex[:8]}"
        command = (
            f"cd {REPO} && XDG_STATE_HOME={world.state_home} {sys.executable} -m cockpit "
            f"--config {world.config}; sleep 60"
        )
        new_session(session, command)
        try:

            def screen() -> str:
                return tmux("capture-pane", "-p", "-t", session)

            def last_line() -> str:
                lines = [line for line in screen().splitlines() if line.strip()]
                return lines[-2] if len(lines) > 1 else ""

            wait_until(lambda: "paused" in screen(), timeout=60, message="the overview")
            tmux("send-keys", "-t", session, "/")
            wait_until(
                lambda: "filter: service or environment" in screen(),
                timeout=20,
                message="the filter field",
            )
            tmux("send-keys", "-t", session, "-l", "checkout")
            tmux("send-keys", "-t", session, "Enter")
            wait_until(
                lambda: "/2 checkout/" in last_line(),
                timeout=20,
                message="only the checkout rows",
            )
            if "checkout/production" not in last_line():
                tmux("send-keys", "-t", session, "j")
            wait_until(
                lambda: "checkout/production" in last_line(),
                timeout=20,
                message="checkout/production selected",
            )
            tmux("send-keys", "-t", session, "r")
            wait_until(
                lambda: (
                    "Abort canary checkout/production" in screen()
                    and "PRODUCTION" in screen()
                    and '{"status":{"abort":true}}' in screen()
                    and "y / enter confirm" in screen()  # offered once it could be read
                ),
                timeout=20,
                message="the confirm dialog naming the abort, ready for y",
            )
            tmux("send-keys", "-t", session, "y")
            wait_until(lambda: "abort accepted" in screen(), timeout=20, message="the result")
            tmux("send-keys", "-t", session, "y")  # a late second press does nothing
            status = world.aborted()
            assert status["abort"] is True
            assert status["canary"]["weights"]["canary"]["weight"] == 0
            records = world.audit()
            assert [(r["action"], r["result"]) for r in records] == [("abort", "ok")]
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
