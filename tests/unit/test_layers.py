"""The dependency rules of the design hold: a headless core, and a simulator on its own.

Each module is imported alone in a fresh interpreter, and what it pulled in is read
from ``sys.modules``: the core (model, config, sources, engine, actions, insights, the
command-line commands that print) never loads Textual, so ``cockpit status --json``
starts fast; ``cockpit.sim`` loads nothing from the rest of cockpit, so the real clients
meet it over HTTP only.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import cockpit
from tests.helpers import REPO

ALL = sorted(info.name for info in pkgutil.walk_packages(cockpit.__path__, prefix="cockpit."))
CORE = [
    name
    for name in ALL
    if not name.startswith(("cockpit.ui", "cockpit.sim"))
    and name not in ("cockpit.__main__", "cockpit.commands.demo")
]
SIM = [name for name in ALL if name.startswith("cockpit.sim")]


def loaded_after_import(module: str) -> list[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_layers_are_where_the_design_puts_them() -> None:
    assert "cockpit.engine" in CORE and "cockpit.actions" in CORE and "cockpit.config" in CORE
    assert "cockpit.sim.server" in SIM and "cockpit.sim.kube.api" in SIM


@pytest.mark.parametrize("module", CORE)
def test_the_core_never_loads_textual(module: str) -> None:
    loaded = loaded_after_import(module)
    assert not [name for name in loaded if name == "textual" or name.startswith("textual.")]


@pytest.mark.parametrize("module", SIM)
def test_the_simulator_loads_nothing_else_from_cockpit(module: str) -> None:
    loaded = loaded_after_import(module)
    outside = [
        name
        for name in loaded
        if name.startswith("cockpit.") and not name.startswith("cockpit.sim")
    ]
    assert outside == []
