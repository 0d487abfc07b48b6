"""``cockpit sim`` in its own process, read by kubectl and by ``cockpit status``, then stopped.

These run the command line exactly as a person would: separate processes, the state
directory's kubeconfig and cockpit.toml, and SIGINT to stop the simulator.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import require, wait_until


@pytest.fixture(scope="module")
def running_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One ``cockpit sim`` for the module: these tests only read (or dry-run)."""
    state = tmp_path_factory.mktemp("sim") / "state"
    process = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "sim", "--state-dir", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: (state / "env").exists() or process.poll() is not None,
            timeout=60,
            message="cockpit sim to write its state directory",
        )
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield state
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
            assert code == 0, "cockpit sim must exit 0 on SIGINT"


def test_kubectl_lists_the_demo_rollouts_from_the_state_directory(running_sim: Path) -> None:
    require(shutil.which("kubectl") is not None, "kubectl is not installed")
    result = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(running_sim / "kubeconfig"),
            "get",
            "rollouts.argoproj.io",
            "-A",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    names = {
        (i["metadata"]["namespace"], i["metadata"]["name"])
        for i in json.loads(result.stdout)["items"]
    }
    assert ("production", "checkout") in names
    assert ("staging", "api") in names
    # auth, inventory and notifications roll out as plain Deployments, not Rollouts.
    assert len(names) == 18
    table = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(running_sim / "kubeconfig"),
            "get",
            "rollouts.argoproj.io",
            "-A",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert table.stdout.splitlines()[0].split()[:3] == ["NAMESPACE", "NAME", "DESIRED"]


def test_status_json_lists_every_row_with_numeric_success_rates(running_sim: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "status",
            "--json",
            "--config",
            str(running_sim / "cockpit.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    rows = json.loads(result.stdout)
    assert len(rows) == 24
    # The bad canary and the failed pipeline make the status fail.
    assert result.returncode == 1, result.stderr
    by_key = {(r["service"], r["environment"]): r for r in rows}
    for key, row in by_key.items():
        rate = row["health"]["success_rate"]
        if key == ("notifications", "staging"):
            assert rate is None and row["health"]["status"] == "no-traffic"
        else:
            assert isinstance(rate, float) and 0.9 < rate <= 1.0, (key, rate)
        assert all(s["state"] == "ok" for s in row["sources"].values()), (key, row["sources"])
    checkout = by_key[("checkout", "production")]
    assert checkout["health"]["status"] == "bad"
    assert checkout["rollout"]["strategy"] == "canary"
    assert checkout["rollout"]["canary_weight"] == 20
    assert checkout["rollout"]["paused"] is True
    assert by_key[("search", "production")]["pipeline"]["status"] == "failed"
    assert by_key[("auth", "production")]["rollout"]["strategy"] == "rolling"
    assert by_key[("web", "production")]["rollout"]["strategy"] == "bluegreen"
    assert rows[0]["service"] == "checkout"  # the rows that need a person come first


def test_status_for_one_environment_prints_a_table(running_sim: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "status",
            "--env",
            "staging",
            "--config",
            str(running_sim / "cockpit.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["SERVICE", "ENV"]
    assert len(lines) == 13
    assert all(" staging " in line for line in lines[1:])


def test_status_with_an_unknown_environment_is_a_usage_error(running_sim: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "status",
            "--env",
            "prod",
            "--config",
            str(running_sim / "cockpit.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "production" in result.stderr


def cockpit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args], capture_output=True, text=True, timeout=120
    )


def test_maturity_of_payments_is_level_3_for_its_manual_production_gate(running_sim: Path) -> None:
    result = cockpit(
        "maturity", "payments", "--json", "--config", str(running_sim / "cockpit.toml")
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["level"] == 3
    missing = {item["key"]: item["reason"] for item in report["missing"]}
    assert list(missing) == ["continuous_deployment"]
    assert "deploy_production" in missing["continuous_deployment"]
    assert "manual" in missing["continuous_deployment"]
    assert report["unknown"] == []


def test_dora_of_payments_production_gives_four_classed_figures(running_sim: Path) -> None:
    result = cockpit(
        "dora",
        "payments",
        "--env",
        "production",
        "--json",
        "--config",
        str(running_sim / "cockpit.toml"),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "time_to_restore",
    }
    # payments has an incident in every demo history (incidents = 1), so all four are
    # measured, whatever day the simulator starts on.
    for key, figure in report.items():
        assert isinstance(figure["value"], float), key
        assert figure["class"] in ("elite", "high", "medium", "low"), key
        assert figure["unit"]
    assert report["change_failure_rate"]["value"] > 0


def test_rolling_orders_back_warns_of_the_destructive_migration(running_sim: Path) -> None:
    result = cockpit(
        "rollback",
        "orders",
        "--env",
        "production",
        "--dry-run",
        "--config",
        str(running_sim / "cockpit.toml"),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "rollback crosses 2 migrations (1 destructive: drop_legacy_state_from_orders)" in out
    assert "contract: drop_legacy_state_from_orders" in out
    assert "PATCH https://" in out and "application/json-patch+json" in out
    assert "dry run: nothing was sent" in out
