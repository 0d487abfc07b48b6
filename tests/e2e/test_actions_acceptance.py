"""Issue 6's acceptance, as a person would run it: ``cockpit sim --scenario bad-canary``
in one process, ``cockpit rollback checkout --env production --yes`` in another; kubectl
sees the canary aborted with weight 0 and ``cockpit audit --json`` shows one record; the
same with ``--read-only`` exits non-zero and changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.actions_world import bad_canary
from tests.helpers import require

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
