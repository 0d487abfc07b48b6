"""The low-bandwidth preset reaches Textual, and never overrides the user's own settings."""

from __future__ import annotations

import subprocess
import sys

from cockpit.ui.run import apply_low_bandwidth
from tests.helpers import REPO


def test_low_bandwidth_keeps_what_the_user_set() -> None:
    environ = {"TEXTUAL_FPS": "30"}
    apply_low_bandwidth(environ)
    assert environ == {"TEXTUAL_FPS": "30", "TEXTUAL_COLOR_SYSTEM": "256"}


def test_low_bandwidth_takes_effect_because_textual_is_imported_after_it() -> None:
    code = (
        "import os, sys; from cockpit.ui import run; "
        "assert 'textual' not in sys.modules; "
        "run.apply_low_bandwidth(os.environ); "
        "from textual import constants; print(constants.COLOR_SYSTEM, constants.MAX_FPS)"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("TEXTUAL_")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split() == ["256", "10"]
