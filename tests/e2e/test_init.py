"""``cockpit init`` against the simulator, end to end, as a person runs it.

The acceptance: with only the variables ``cockpit sim`` writes to ``DIR/env``,
``cockpit init --group shop`` writes a configuration with which ``cockpit status``
shows every row (service × environment, workload, health query) that the simulator's
hand-written configuration shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cockpit.sim.server import Simulator
from tests.helpers import REPO


def sim_env(directory: Path) -> dict[str, str]:
    """The environment after ``set -a; . DIR/env``."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("COCKPIT_CONFIG", "GITLAB_URL", "GITLAB_TOKEN", "KUBECONFIG", "PROMETHEUS_URL"):
        env.pop(name, None)
    for line in (directory / "env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    return env


def cockpit(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def rows(done: subprocess.CompletedProcess[str]) -> dict[tuple[str, str], dict[str, Any]]:
    assert done.stdout, done.stderr
    return {
        (row["service"], row["environment"]): {
            "workload": {k: (row["rollout"] or {}).get(k) for k in ("kind", "name", "namespace")},
            "threshold": (row["health"] or {}).get("threshold"),
            "has_pipeline": row["pipeline"] is not None,
        }
        for row in json.loads(done.stdout)
    }


def test_init_writes_a_config_that_shows_every_row_of_the_demo_config(
    world: tuple[Simulator, Path], tmp_path: Path
) -> None:
    sim, directory = world
    env = sim_env(directory)
    done = cockpit(env, tmp_path, "init", "--group", "shop")
    assert done.returncode == 0, done.stderr
    written = tmp_path / "cockpit.toml"
    assert written.exists()
    text = written.read_text()
    assert len(text.splitlines()) < 80
    assert "[defaults.environment]" in text
    assert sim.tokens.gitlab not in text + done.stdout + done.stderr

    summary = done.stderr
    assert "24 matched, 0 unmatched, 0 ambiguous" in summary
    assert "shop/checkout production → Rollout production/checkout" in summary
    assert "by app.gitlab.com annotations" in summary
    # reviews carries no annotations: found by the environment's namespace and its name.
    assert (
        "shop/reviews staging → Rollout staging/reviews (context cockpit-sim) by the "
        "environment's namespace and the name" in summary
    )
    assert 'prometheus: chose service="{service}", environment="{environment}"' in summary

    theirs = rows(
        cockpit(env, tmp_path, "status", "--json", "--config", str(directory / "cockpit.toml"))
    )
    ours = rows(cockpit(env, tmp_path, "status", "--json", "--config", str(written)))
    assert len(theirs) == 24
    assert ours == theirs


def test_init_never_overwrites_without_force_and_dry_run_prints(
    world: tuple[Simulator, Path], tmp_path: Path
) -> None:
    _, directory = world
    env = sim_env(directory)
    existing = tmp_path / "cockpit.toml"
    existing.write_text("# mine\n")
    refused = cockpit(env, tmp_path, "init", "--group", "shop")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "--force" in refused.stderr
    assert existing.read_text() == "# mine\n"

    dry = cockpit(env, tmp_path, "init", "--group", "shop", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("# cockpit configuration written by")
    assert existing.read_text() == "# mine\n"

    forced = cockpit(env, tmp_path, "init", "--group", "shop", "--force")
    assert forced.returncode == 0 and existing.read_text() == dry.stdout


def test_init_failures_are_one_line(world: tuple[Simulator, Path], tmp_path: Path) -> None:
    _, directory = world
    env = sim_env(directory)
    unknown = cockpit(env, tmp_path, "init", "--group", "nope", "--dry-run")
    assert unknown.returncode == 1 and unknown.stderr.count("\n") == 1
    assert "no group 'nope'" in unknown.stderr
    del env["GITLAB_TOKEN"]
    no_token = cockpit(env, tmp_path, "init", "--group", "shop", "--dry-run")
    assert no_token.returncode == 2 and no_token.stderr.count("\n") == 1
    assert "GITLAB_TOKEN is not set" in no_token.stderr
