"""The parts of the UI that the command line shares never load Textual.

``cockpit status`` uses the triage order and words; importing them must not pay for
Textual (start-up time) nor tie the core to it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO

HEADLESS = (
    "cockpit.triage",
    "cockpit.ui.presenters",
    "cockpit.ui.trace",
    "cockpit.ui.insight_rows",
    "cockpit.ui.action_port",
)


@pytest.mark.parametrize("module", HEADLESS)
def test_module_does_not_import_textual(module: str) -> None:
    code = f"import sys, {module}; print('textual' in sys.modules or 'rich' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False", f"{module} pulled in Textual or Rich"
