"""The CI reader and the insights stay pure: no terminal UI, no network clients."""

from __future__ import annotations

import subprocess
import sys

PURE_MODULES = (
    "cockpit.ciexpr",
    "cockpit.ciconfig",
    "cockpit.insights.job_roles",
    "cockpit.insights.maturity",
    "cockpit.insights.dora",
    "cockpit.insights.migrations",
    "cockpit.insights.rollback_safety",
    "cockpit.insights.health_guard",
)


def test_importing_the_insights_loads_no_ui_and_no_network_client() -> None:
    script = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in PURE_MODULES)
        + "print(sorted(m for m in ('textual', 'rich', 'httpx', 'gitlab', 'lightkube', "
        "'cockpit.sources', 'cockpit.engine') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
