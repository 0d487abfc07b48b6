"""The command line that prints never loads Textual, even through a third-party package.

The import contracts in ``pyproject.toml`` (checked by ``lint-imports``) see only
cockpit's own import statements. What they cannot see is checked here, in one fresh
interpreter: a dependency that loads Textual behind cockpit's back, and the command
modules that ``cockpit.cli`` reaches by name through ``importlib``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO

# What `cockpit status --json`, `cockpit promote ...` and friends load on their way.
PRINTING = (
    "cockpit.cli",
    "cockpit.commands.status",
    "cockpit.commands.actions",
    "cockpit.commands.audit",
    "cockpit.commands.dora",
    "cockpit.commands.maturity",
    "cockpit.config",
    "cockpit.engine",
    "cockpit.actions",
    "cockpit.sources.gitlab",
    "cockpit.sources.kube",
    "cockpit.sources.prometheus",
)


def test_the_printing_commands_load_no_textual() -> None:
    code = (
        "import json, sys\n"
        + "".join(f"import {module}\n" for module in PRINTING)
        + "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
