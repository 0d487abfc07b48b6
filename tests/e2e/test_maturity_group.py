"""``cockpit maturity --group shop`` against the simulator, end to end.

Every project of the group in one table, each assessed as ``cockpit maturity SERVICE``
assesses it; a project the configuration leaves out is still assessed from GitLab alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.sim.background import BackgroundSimulator
from tests.helpers import REPO


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    background = BackgroundSimulator("demo")
    sim = background.start()
    directory = tmp_path_factory.mktemp("sim")
    background.call(sim.write_state_dir, directory)
    try:
        yield directory
    finally:
        background.stop()


def cockpit(directory: Path, *args: str, config: str = "cockpit.toml") -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("COCKPIT_CONFIG", "GITLAB_URL", "GITLAB_TOKEN"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", *args, "--config", str(directory / config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def by_project(output: str) -> dict[str, dict[str, Any]]:
    return {row["project"]: row for row in json.loads(output)}


def test_every_project_of_the_group_is_assessed_as_its_service_would_be(
    state_dir: Path,
) -> None:
    rows = by_project(cockpit(state_dir, "maturity", "--group", "shop", "--json"))
    assert len(rows) == 12
    assert all(row["error"] is None for row in rows.values())
    for service in ("payments", "api"):
        alone = json.loads(cockpit(state_dir, "maturity", service, "--json"))
        assert rows[f"shop/{service}"]["report"] == alone
        assert rows[f"shop/{service}"]["service"] == service


def test_the_table_and_the_markdown_list_every_project(state_dir: Path) -> None:
    table = cockpit(state_dir, "maturity", "--group", "shop").splitlines()
    assert table[0].split() == ["project", "level", "maturity", "next", "step"]
    payments = next(line for line in table if line.startswith("shop/payments "))
    assert payments.split()[1:4] == ["3", "continuous", "delivery"]
    assert table[-1] == "12 projects in shop"

    markdown = cockpit(state_dir, "maturity", "--group", "shop", "--markdown").splitlines()
    assert markdown[:4] == [
        "## Continuous deployment maturity: shop",
        "",
        "| Project | Level | Maturity | Next step |",
        "|---|---|---|---|",
    ]
    assert len(markdown) == 4 + 12
    assert "| shop/payments | 3 | continuous delivery |" in "\n".join(markdown)


def test_a_project_the_configuration_leaves_out_is_assessed_from_gitlab(
    state_dir: Path,
) -> None:
    text = (state_dir / "cockpit.toml").read_text(encoding="utf-8")
    (state_dir / "without-payments.toml").write_text(
        text.replace('  { name = "payments" },\n', ""), encoding="utf-8"
    )
    rows = by_project(
        cockpit(state_dir, "maturity", "--group", "shop", "--json", config="without-payments.toml")
    )
    payments = rows["shop/payments"]
    assert payments["service"] is None
    report = payments["report"]
    assert report["level"] == 3, "its CI file and deployments come from GitLab all the same"
    unknown = {item["key"]: item["reason"] for item in report["unknown"]}
    assert unknown["monitoring"] == (
        "the project is not a service of cockpit's configuration (no health query)"
    )
    present = {item["key"] for item in report["present"]}
    assert "rollback_path" in present, "production's deployments were read"


def test_without_a_configuration_the_variables_cockpit_sim_writes_are_enough(
    state_dir: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("COCKPIT_CONFIG", None)
    for line in (state_dir / "env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "maturity", "--group", "shop", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    rows = by_project(done.stdout)
    assert len(rows) == 12
    assert all(row["service"] is None and row["report"] for row in rows.values())
    payments = rows["shop/payments"]["report"]
    assert payments["level"] == 3
    assert "rollback_path" in {item["key"] for item in payments["present"]}
