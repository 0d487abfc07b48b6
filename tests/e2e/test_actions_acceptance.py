"""Writes from a shell, as a person runs them: ``cockpit sim --scenario bad-canary`` in one
process, ``cockpit rollback checkout --env production --yes`` in another; kubectl sees the
canary aborted with weight 0 and ``cockpit audit --json`` shows one record; the same with
``--read-only`` exits non-zero and changes nothing; a signal while the write is in flight
leaves it on record as sent; two rollbacks at once are one write."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from tests.e2e.actions_world import bad_canary
from tests.helpers import require, wait_until

pytestmark = [pytest.mark.slow]

ROLLBACK = ("rollback", "checkout", "--env", "production", "--yes")


def test_rollback_from_the_shell_aborts_the_bad_canary_and_is_audited_once(
    tmp_path: Path,
) -> None:
    require(shutil.which("kubectl") is not None, "kubectl is not installed")
    with bad_canary(tmp_path) as world:
        done = world.cockpit(*ROLLBACK, "--config", world.config)
        assert done.returncode == 0, done.stderr
        assert "abort accepted" in done.stdout
        status = world.aborted()
        assert status["abort"] is True
        assert status["canary"]["weights"]["canary"]["weight"] == 0
        (record,) = world.audit()
        assert (record["action"], record["result"], record["service"], record["environment"]) == (
            "abort",
            "ok",
            "checkout",
            "production",
        )
        # The simulated world's writes stay in its own log, naming the cluster acted on.
        assert record["context"] == "cockpit-sim"
        assert record["server"].startswith("https://127.0.0.1:")
        assert not (tmp_path / "state" / "cockpit" / "audit.jsonl").exists()
        token = (world.directory / "gitlab-token").read_text().strip()
        assert token not in (world.directory / "audit.jsonl").read_text()


def test_the_same_rollback_read_only_exits_non_zero_and_changes_nothing(tmp_path: Path) -> None:
    require(shutil.which("kubectl") is not None, "kubectl is not installed")
    with bad_canary(tmp_path) as world:
        before = world.rollout()
        refused = world.cockpit(*ROLLBACK, "--read-only", "--config", world.config)
        assert refused.returncode != 0
        assert "read-only" in refused.stderr
        after = world.rollout()
        assert after["spec"] == before["spec"]
        assert "abort" not in after["status"]
        assert after["status"]["currentStepIndex"] == before["status"]["currentStepIndex"]
        (record,) = world.audit()
        assert record["result"] == "refused"


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_while_the_write_is_in_flight_leaves_a_pending_record(
    tmp_path: Path, signal_number: int
) -> None:
    require(shutil.which("kubectl") is not None, "kubectl is not installed")
    with bad_canary(tmp_path) as world:
        # The cluster serves reads but holds every write for a minute.
        world.admin("PUT", "/faults/kube", {"kind": "latency", "seconds": 60, "writes_only": True})
        process = world.start_cockpit(*ROLLBACK, "--config", world.config)
        try:
            wait_until(
                lambda: any(w["method"] == "PATCH" for w in world.writes_received()),
                timeout=60,
                message="the abort PATCH to reach the cluster",
            )
            process.send_signal(signal_number)
            process.wait(15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
        (record,) = world.audit()
        assert (record["action"], record["result"], record["intent"]) == (
            "abort",
            "pending",
            "rollback",
        )
        assert record["requests"] == [
            "PATCH /apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout/status"
        ]
        table = world.cockpit("audit", "--config", world.config)
        assert "sent, outcome unknown" in table.stdout


def test_two_rollbacks_at_once_are_one_write(tmp_path: Path) -> None:
    require(shutil.which("kubectl") is not None, "kubectl is not installed")
    with bad_canary(tmp_path) as world:
        processes = [world.start_cockpit(*ROLLBACK, "--config", world.config) for _ in range(2)]
        outputs = [process.communicate(timeout=120) for process in processes]
        assert [p.returncode for p in processes] == [0, 0], outputs
        assert [w["method"] for w in world.writes_received()] == ["PATCH"]
        said = " ".join(out for out, _ in outputs)
        assert "abort accepted" in said and "already" in said
        # Once aborted, a rollback says so and writes nothing; going further back names
        # its revision.
        again = world.cockpit(*ROLLBACK, "--config", world.config)
        assert again.returncode == 0 and "already rolled back" in again.stdout
        assert "--to-revision N" in again.stdout
        assert len(world.writes_received()) == 1
