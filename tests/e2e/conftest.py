"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.sim.background import BackgroundSimulator
from cockpit.sim.server import Simulator


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Simulator, Path]]:
    """The demo world on its own thread, its state directory written (kubeconfig,
    cockpit.toml, env), for the commands a module runs against it."""
    background = BackgroundSimulator("demo")
    sim = background.start()
    directory = tmp_path_factory.mktemp("sim")
    background.call(sim.write_state_dir, directory)
    try:
        yield sim, directory
    finally:
        background.stop()
