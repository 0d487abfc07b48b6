"""The simulated Argo Rollouts controller answers the kubectl plugin's patches as Argo does.

Every check is against argo-rollouts itself: the status fields of
``pkg/apis/rollouts/v1alpha1/types.go``, the reactions to the plugin's patches
(``rollout/{pause,canary,bluegreen}.go``), the phase and message of
``CalculateRolloutPhase`` and what ``get rollout`` shows (``pkg/kubectl-argo-rollouts/info``). Time is a manual clock: pauses, readiness and
measurements happen because the test moves simulated time, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from cockpit.sim import scenario as scenarios
from cockpit.sim.kube.store import (
    ANALYSIS_RUN,
    ANALYSIS_TEMPLATE,
    POD,
    REPLICASET,
    ROLLOUT,
    SERVICE,
)
from cockpit.sim.scenario import StepSpec, VersionProfile
from tests.argo_plugin import Plugin
from tests.cluster_world import ClusterWorld, only, sha_for
from tests.helpers import load_fixture
from tests.shapes import shape_mismatches

NS = "production"
STABLE = VersionProfile(success_rate=0.9995, latency_ms=120.0)
GOOD = VersionProfile(success_rate=0.9996, latency_ms=110.0)
BAD = VersionProfile(success_rate=0.80, latency_ms=400.0)

#: The article's canary with every pause waiting for a human.
WALK = (
    StepSpec(set_weight=5),
    StepSpec(pause=""),
    StepSpec(set_weight=20),
    StepSpec(pause=""),
    StepSpec(set_weight=50),
    StepSpec(pause=""),
    StepSpec(set_weight=100),
)


def world_with(
    service: str = "checkout", scenario: str = "healthy", **changes: Any
) -> ClusterWorld:
    """A world with one service, its production environment changed as given."""
    base = only(scenarios.load(scenario), [service])
    spec = base.service(service)
    production = replace(spec.env(NS), **changes) if changes else spec.env(NS)
    staging = spec.env("staging")
    edited = replace(spec, environments=(staging, production))
    return ClusterWorld(replace(base, services=(edited,)))


class Canary:
    """Handles on one rollout: the plugin, the store, and readings of status."""

    def __init__(self, world: ClusterWorld, name: str = "checkout") -> None:
        self.world = world
        self.name = name
        self.store = world.kube.store
        self.plugin = Plugin(self.store, NS, name)

    @property
    def rollout(self) -> dict[str, Any]:
        return self.store.get(ROLLOUT, NS, self.name)

    @property
    def status(self) -> dict[str, Any]:
        return self.rollout["status"]

    def condition(self, kind: str) -> dict[str, Any]:
        return next(c for c in self.status["conditions"] if c["type"] == kind)

    def weights(self) -> tuple[int, int]:
        weights = self.status["canary"]["weights"]
        return weights["canary"]["weight"], weights["stable"]["weight"]

    def replicaset(self, template_hash: str) -> dict[str, Any]:
        return self.store.get(REPLICASET, NS, f"{self.name}-{template_hash}")

    def pods(self, template_hash: str) -> list[dict[str, Any]]:
        items, _ = self.store.list(
            POD, NS, label_selector=f"rollouts-pod-template-hash={template_hash}"
        )
        return items

    def revision(self, template_hash: str) -> int:
        return int(
            self.replicaset(template_hash)["metadata"]["annotations"][
                "rollout.argoproj.io/revision"
            ]
        )

    def step(self) -> None:
        self.world.step()

    def advance_until(
        self, check: Callable[[], Any], *, limit: float = 1800, step: float = 2
    ) -> None:
        """Move simulated time until ``check()`` holds (fail after ``limit`` seconds)."""
        waited = 0.0
        while not check():
            assert waited < limit, f"not reached within {limit} simulated seconds"
            self.world.advance(step)
            waited += step

    def paused_at(self, index: int) -> bool:
        status = self.status
        return status.get("currentStepIndex") == index and bool(status.get("pauseConditions"))

    def split(self) -> dict[str, float]:
        return dict(self.world.kube.traffic_split(self.name, NS))


def deploy(
    world: ClusterWorld, profile: VersionProfile, label: str = "v2", service: str = "checkout"
) -> str:
    sha = world.register(service, sha_for(service, label), profile)
    world.kube.deploy(service, NS, sha)
    world.step()
    return sha


# --------------------------------------------------------------------------- the walk


def test_canary_walks_5_20_50_100_by_promote_with_argo_status_at_every_step() -> None:
    world = world_with(steps=WALK, analysis_from_step=-1, replicas=10, candidate=None)
    canary = Canary(world)
    stable_hash = canary.status["stableRS"]
    stable_sha = world.gitlab.deployed("checkout", NS)[-1]
    revision_before = int(canary.rollout["metadata"]["annotations"]["rollout.argoproj.io/revision"])
    assert canary.status["phase"] == "Healthy"
    assert canary.status["currentStepIndex"] == len(WALK)

    new_sha = deploy(world, GOOD)
    current = canary.status["currentPodHash"]
    assert current != stable_hash
    assert canary.status["stableRS"] == stable_hash
    assert canary.status["currentStepIndex"] == 0
    assert canary.condition("Progressing")["reason"] in (
        "NewReplicaSetCreated",
        "ReplicaSetUpdated",
    )
    assert canary.revision(current) == revision_before + 1
    assert canary.rollout["metadata"]["annotations"]["rollout.argoproj.io/revision"] == str(
        revision_before + 1
    )
    # The canary ReplicaSet is owned by the rollout, as a real one is.
    owner = canary.replicaset(current)["metadata"]["ownerReferences"][0]
    assert owner["controller"] is True and owner["uid"] == canary.rollout["metadata"]["uid"]
    # Pods are not ready yet: the weight has not moved (traffic only follows available pods).
    assert canary.weights() == (0, 100)
    assert canary.status["phase"] == "Progressing"

    for index, weight in ((1, 5), (3, 20), (5, 50)):
        canary.advance_until(lambda index=index: canary.paused_at(index))
        status = canary.status
        assert [p["reason"] for p in status["pauseConditions"]] == ["CanaryPauseStep"]
        assert status["controllerPause"] is True
        assert (status["phase"], status["message"]) == ("Paused", "CanaryPauseStep")
        assert canary.condition("Paused")["status"] == "True"
        assert canary.condition("Progressing")["status"] == "Unknown"
        assert canary.condition("Progressing")["reason"] == "RolloutPaused"
        assert canary.condition("Completed")["status"] == "False"
        assert canary.weights() == (weight, 100 - weight)
        assert canary.plugin.set_weight() == weight
        assert canary.plugin.actual_weight() == weight
        assert status["stableRS"] == stable_hash and status["currentPodHash"] == current
        # ceil(weight × 10 replicas) canary pods, all ten stable pods kept.
        expected = -(-10 * weight // 100)
        assert canary.replicaset(current)["spec"]["replicas"] == expected
        assert canary.replicaset(stable_hash)["spec"]["replicas"] == 10
        assert status["updatedReplicas"] == expected
        assert canary.split() == pytest.approx(
            {new_sha: weight / 100, stable_sha: 1 - weight / 100}
        )

        canary.plugin.promote()
        assert canary.plugin.sent[-1] == ("status", {"status": {"pauseConditions": None}})
        canary.step()
        assert canary.status["currentStepIndex"] == index + 1
        assert "pauseConditions" not in canary.status
        assert "controllerPause" not in canary.status

    canary.advance_until(lambda: canary.status["stableRS"] == current)
    status = canary.status
    assert status["currentStepIndex"] == len(WALK)
    assert canary.weights() == (0, 100)
    assert status["canary"]["weights"]["canary"]["podTemplateHash"] == current
    assert canary.plugin.set_weight() == 100 and canary.plugin.actual_weight() == 100
    assert canary.split() == {new_sha: 1.0}
    assert canary.condition("Completed")["status"] == "True"
    # The old stable keeps its pods for scaleDownDelaySeconds (30 s), then goes.
    assert canary.replicaset(stable_hash)["spec"]["replicas"] == 10
    world.advance(29)
    assert canary.replicaset(stable_hash)["spec"]["replicas"] == 10
    canary.advance_until(lambda: canary.replicaset(stable_hash)["spec"]["replicas"] == 0, limit=10)
    canary.advance_until(lambda: canary.condition("Healthy")["status"] == "True", limit=30)
    assert canary.status["phase"] == "Healthy" and "message" not in canary.status
    assert canary.condition("Progressing")["reason"] == "NewReplicaSetAvailable"
    assert canary.condition("Paused")["status"] == "False"
    assert canary.status["observedGeneration"] == str(canary.rollout["metadata"]["generation"])
    assert not canary.pods(stable_hash)


def test_a_paused_canary_looks_like_argos_own_paused_rollout() -> None:
    """Every status field of Argo's captured paused canary is there, with the same JSON type."""
    fixture = load_fixture(
        "argo-rollouts/argo-cd-health-testdata/Rollout/suspended_v1.0_pausedRollout.yaml"
    )
    world = world_with(scenario="bad-canary")
    ours = Canary(world).rollout
    mismatches = shape_mismatches(fixture["status"], ours["status"], "status")
    assert not mismatches, mismatches
    assert isinstance(ours["status"]["observedGeneration"], str)
    assert ours["metadata"]["annotations"]["rollout.argoproj.io/revision"].isdigit()


# --------------------------------------------------------------------------- abort / retry


def test_abort_sends_traffic_to_stable_at_once_and_retry_restarts_the_steps() -> None:
    world = world_with(steps=WALK, analysis_from_step=-1, replicas=4, candidate=None)
    canary = Canary(world)
    stable_sha = world.gitlab.deployed("checkout", NS)[-1]
    new_sha = deploy(world, GOOD)
    current = canary.status["currentPodHash"]
    canary.advance_until(lambda: canary.paused_at(1))
    canary.plugin.promote()
    canary.advance_until(lambda: canary.paused_at(3))
    assert canary.weights() == (20, 80)

    aborted_at = world.clock.now()
    canary.plugin.abort()
    canary.step()
    status = canary.status
    assert status["abort"] is True
    assert status["abortedAt"] == aborted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert status["currentStepIndex"] == 0
    assert "pauseConditions" not in status and "controllerPause" not in status
    assert canary.weights() == (0, 100)
    assert canary.plugin.set_weight() == 0
    assert canary.split() == {stable_sha: 1.0}
    revision = canary.revision(current)
    assert status["phase"] == "Degraded"
    assert status["message"] == f"RolloutAborted: Rollout aborted update to revision {revision}"
    progressing = canary.condition("Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "RolloutAborted")
    # The template still holds the new version; its pods stay for abortScaleDownDelaySeconds.
    assert canary.replicaset(current)["spec"]["replicas"] == 1
    world.advance(28)
    assert canary.replicaset(current)["spec"]["replicas"] == 1
    world.advance(4)
    assert canary.replicaset(current)["spec"]["replicas"] == 0
    canary.advance_until(lambda: not canary.pods(current), limit=10)
    world.advance(600)
    assert canary.status["phase"] == "Degraded"  # an aborted rollout stays aborted

    canary.plugin.retry()
    assert canary.plugin.sent[-1] == ("status", {"status": {"abort": False}})
    canary.step()
    status = canary.status
    assert "abort" not in status and "abortedAt" not in status
    assert canary.condition("Progressing")["reason"] in ("RolloutRetry", "ReplicaSetUpdated")
    assert status["currentStepIndex"] == 0
    canary.advance_until(lambda: canary.paused_at(1))
    assert canary.weights() == (5, 95)
    assert canary.split() == pytest.approx({new_sha: 0.05, stable_sha: 0.95})


def test_promote_full_skips_the_remaining_steps_and_clears_an_abort() -> None:
    world = world_with(steps=WALK, analysis_from_step=-1, replicas=4, candidate=None)
    canary = Canary(world)
    deploy(world, GOOD)
    current = canary.status["currentPodHash"]
    canary.advance_until(lambda: canary.paused_at(1))
    canary.plugin.abort()
    canary.step()
    assert canary.status["abort"] is True

    canary.plugin.promote(full=True)
    assert canary.plugin.sent[-1] == ("status", {"status": {"promoteFull": True}})
    canary.step()
    assert "abort" not in canary.status
    assert canary.status["currentStepIndex"] == len(WALK)
    canary.advance_until(lambda: canary.status["stableRS"] == current, limit=60)
    assert "promoteFull" not in canary.status
    assert canary.condition("Completed")["status"] == "True"
    assert canary.replicaset(current)["spec"]["replicas"] == 4
    # Nothing left to promote: the plugin sends no status patch any more.
    sent = len(canary.plugin.sent)
    canary.plugin.promote(full=True)
    assert len(canary.plugin.sent) == sent


# --------------------------------------------------------------------------- undo / restart


def test_undo_after_a_promotion_reuses_the_old_replicaset_with_the_next_revision() -> None:
    world = world_with(
        steps=(StepSpec(set_weight=50), StepSpec(set_weight=100)),
        analysis_from_step=-1,
        replicas=2,
        candidate=None,
    )
    canary = Canary(world)
    old_hash = canary.status["stableRS"]
    old_revision = canary.revision(old_hash)
    deploy(world, GOOD)
    new_hash = canary.status["currentPodHash"]
    canary.advance_until(lambda: canary.status["stableRS"] == new_hash)
    canary.advance_until(lambda: not canary.pods(old_hash), limit=60)
    sets_before = {rs["metadata"]["name"] for rs in canary.plugin.replicasets()}

    assert canary.plugin.undo() == "rollout 'checkout' undo"
    assert canary.plugin.sent[-1][1][0]["path"] == "/spec/template"
    canary.step()
    assert canary.status["currentPodHash"] == old_hash
    assert {rs["metadata"]["name"] for rs in canary.plugin.replicasets()} <= sets_before
    notes = canary.replicaset(old_hash)["metadata"]["annotations"]
    assert notes["rollout.argoproj.io/revision"] == str(old_revision + 2)
    assert str(old_revision) in notes["rollout.argoproj.io/revision-history"].split(",")
    assert canary.rollout["metadata"]["annotations"]["rollout.argoproj.io/revision"] == str(
        old_revision + 2
    )
    # The old version is not the stable any more, so it goes through the steps again.
    assert canary.status["currentStepIndex"] == 0
    canary.advance_until(lambda: canary.status["stableRS"] == old_hash)
    # Undoing to the template already running is refused, as the plugin does.
    assert canary.plugin.undo(to_revision=old_revision + 2).startswith("skipped rollback")


def test_undo_in_the_middle_of_a_canary_goes_straight_back_to_the_stable() -> None:
    world = world_with(steps=WALK, analysis_from_step=-1, replicas=4, candidate=None)
    canary = Canary(world)
    stable_hash = canary.status["stableRS"]
    deploy(world, BAD)
    bad_hash = canary.status["currentPodHash"]
    canary.advance_until(lambda: canary.paused_at(1))

    canary.plugin.undo()
    canary.step()
    status = canary.status
    assert status["currentPodHash"] == stable_hash == status["stableRS"]
    assert status["currentStepIndex"] == len(
        WALK
    )  # "Rollback to stable ReplicaSets": steps skipped
    assert canary.weights() == (0, 100)
    assert canary.replicaset(bad_hash)["spec"]["replicas"] in (0, 1)  # scale-down delay
    canary.advance_until(lambda: canary.replicaset(bad_hash)["spec"]["replicas"] == 0, limit=40)


def test_restart_recreates_pods_in_place_without_a_new_revision() -> None:
    world = world_with(replicas=4, candidate=None)
    canary = Canary(world)
    stable_hash = canary.status["stableRS"]
    revision = canary.revision(stable_hash)
    before = {pod["metadata"]["name"] for pod in canary.pods(stable_hash)}
    sets_before = len(canary.plugin.replicasets())

    restart_at = world.clock.now()
    canary.plugin.restart(restart_at)
    canary.step()
    assert (canary.status["phase"], canary.status["message"]) == (
        "Progressing",
        "rollout is restarting",
    )
    most_unavailable = 0

    def restarted() -> bool:
        nonlocal most_unavailable
        pods = canary.pods(stable_hash)
        unready = sum(
            1
            for pod in pods
            if not any(
                c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"]
            )
        )
        most_unavailable = max(most_unavailable, unready + 4 - len(pods))
        return canary.status.get("restartedAt") == canary.rollout["spec"]["restartAt"]

    canary.advance_until(restarted, limit=120, step=1)
    after = {pod["metadata"]["name"] for pod in canary.pods(stable_hash)}
    assert not before & after and len(after) == 4
    assert most_unavailable <= 1  # maxUnavailable 25 % of 4
    assert canary.revision(stable_hash) == revision
    assert len(canary.plugin.replicasets()) == sets_before
    assert (canary.status["phase"], canary.status.get("message")) == ("Healthy", None)


# --------------------------------------------------------------------------- blue-green


def test_bluegreen_preview_then_promote_switches_active_and_scales_the_old_down() -> None:
    world = world_with(service="web", scenario="blue-green")
    canary = Canary(world, "web")
    status = canary.status
    stable, preview = status["stableRS"], status["currentPodHash"]
    assert stable != preview
    assert (status["phase"], status["message"]) == ("Paused", "BlueGreenPause")
    assert status["pauseConditions"][0]["reason"] == "BlueGreenPause"
    assert status["blueGreen"] == {"activeSelector": stable, "previewSelector": preview}
    active = canary.store.get(SERVICE, NS, "web-active")["spec"]["selector"]
    assert active["rollouts-pod-template-hash"] == stable
    assert (
        canary.store.get(SERVICE, NS, "web-preview")["spec"]["selector"][
            "rollouts-pod-template-hash"
        ]
        == preview
    )
    stable_sha, preview_sha = world.gitlab.deployed("web", NS)[-2:]
    assert canary.split() == {stable_sha: 1.0}
    world.advance(3600, step=60)
    assert canary.status["pauseConditions"][0]["reason"] == "BlueGreenPause"  # waits for a human

    canary.plugin.promote()
    canary.step()
    status = canary.status
    assert status["blueGreen"]["activeSelector"] == preview
    assert status["stableRS"] == preview
    assert (
        canary.store.get(SERVICE, NS, "web-active")["spec"]["selector"][
            "rollouts-pod-template-hash"
        ]
        == preview
    )
    assert canary.split() == {preview_sha: 1.0}
    assert canary.replicaset(stable)["spec"]["replicas"] == 6  # scaleDownDelaySeconds
    canary.advance_until(lambda: canary.replicaset(stable)["spec"]["replicas"] == 0, limit=40)
    canary.advance_until(lambda: canary.status["phase"] == "Healthy", limit=30)
    assert canary.condition("Healthy")["status"] == "True"


def test_bluegreen_deploy_brings_the_preview_up_then_pauses() -> None:
    world = world_with(service="web", strategy="bluegreen", candidate=None)
    canary = Canary(world, "web")
    active = canary.status["blueGreen"]["activeSelector"]
    deploy(world, GOOD, service="web")
    preview = canary.status["currentPodHash"]
    assert canary.status["phase"] == "Progressing"
    canary.advance_until(lambda: bool(canary.status.get("pauseConditions")), limit=60)
    assert canary.status["blueGreen"] == {"activeSelector": active, "previewSelector": preview}
    assert canary.status["message"] == "BlueGreenPause"

    canary.plugin.abort()
    canary.step()
    assert canary.status["phase"] == "Degraded"
    assert canary.status["blueGreen"]["activeSelector"] == active
    canary.advance_until(lambda: canary.replicaset(preview)["spec"]["replicas"] == 0, limit=40)


# --------------------------------------------------------------------------- analysis


def test_failing_background_analysis_aborts_the_rollout_with_the_measured_values() -> None:
    steps = (StepSpec(set_weight=20), StepSpec(pause="10m"), StepSpec(set_weight=100))
    world = world_with(steps=steps, analysis_from_step=1, replicas=5, candidate=None, rps=100.0)
    canary = Canary(world)
    deploy(world, BAD)
    current = canary.status["currentPodHash"]
    canary.advance_until(lambda: canary.status.get("abort") is True, limit=900, step=5)

    reference = canary.status["canary"].get("currentBackgroundAnalysisRunStatus")
    assert reference is None  # an aborted rollout lets go of its runs
    runs, _ = canary.store.list(ANALYSIS_RUN, NS, label_selector="rollout-type=Background")
    assert len(runs) == 1
    run = runs[0]
    assert run["metadata"]["labels"]["rollouts-pod-template-hash"] == current
    assert run["metadata"]["ownerReferences"][0]["uid"] == canary.rollout["metadata"]["uid"]
    assert run["status"]["phase"] == "Failed"
    assert run["status"]["message"] == (
        'Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)'
    )
    result = run["status"]["metricResults"][0]
    assert result["failed"] == 2
    failed = [m for m in result["measurements"] if m["phase"] == "Failed"]
    for measurement in failed:
        value = measurement["value"]
        assert value.startswith("[") and value.endswith("]")
        assert float(value[1:-1]) < 0.99
    # Measurements were taken a minute apart, at their scheduled instants.
    times = [m["startedAt"] for m in result["measurements"]]
    assert len(set(times)) == len(times)
    status = canary.status
    assert status["phase"] == "Degraded"
    assert status["message"].startswith("RolloutAborted: Rollout aborted update to revision")
    assert status["message"].endswith(
        ': Background analysis phase error/failed: Metric "success-rate" assessed Failed due to '
        "failed (2) > failureLimit (1)"
    )
    assert canary.weights() == (0, 100)


def test_the_demo_api_canary_moves_through_its_steps_with_succeeding_analysis() -> None:
    world = world_with(service="api", scenario="demo")
    canary = Canary(world, "api")
    assert canary.status["currentStepIndex"] == 2
    runs, _ = canary.store.list(ANALYSIS_RUN, NS, label_selector="rollout-type=Background")
    assert len(runs) == 1 and runs[0]["status"]["phase"] == "Running"
    # The seeded run measured the past minutes already, against the past traffic.
    assert runs[0]["status"]["metricResults"][0]["count"] >= 2
    current = canary.status["currentPodHash"]
    canary.advance_until(lambda: canary.status["stableRS"] == current, limit=3600, step=10)
    run = canary.store.get(ANALYSIS_RUN, NS, runs[0]["metadata"]["name"])
    result = run["status"]["metricResults"][0]
    assert result.get("failed", 0) == 0 and result["successful"] >= 15
    assert run["status"]["phase"] == "Successful"  # terminated once the rollout completed
    assert run["spec"]["terminate"] is True


def test_bad_canary_sits_paused_at_twenty_percent_with_no_analysis() -> None:
    world = world_with(scenario="bad-canary")
    canary = Canary(world)
    start = world.clock.now()
    status = canary.status
    paused_since = status["pauseConditions"][0]["startTime"]
    # Paused at 20 % for longer than the 5-minute rate window: the errors already show.
    assert start - timedelta(minutes=10) <= _time(paused_since) <= start - timedelta(minutes=5)
    world.advance(4 * 3600, step=120)
    status = canary.status
    assert canary.paused_at(3)
    assert status["pauseConditions"][0]["startTime"] == paused_since
    assert canary.weights() == (20, 80)
    assert canary.store.list(ANALYSIS_RUN, NS)[0] == []
    rate = world.traffic.success_rate("checkout", NS)
    assert rate is not None and rate < 0.99  # the on-call engineer's cue


def test_a_timed_pause_resumes_after_its_duration() -> None:
    steps = (StepSpec(set_weight=20), StepSpec(pause="2m"), StepSpec(set_weight=100))
    world = world_with(steps=steps, analysis_from_step=-1, replicas=5, candidate=None)
    canary = Canary(world)
    deploy(world, GOOD)
    canary.advance_until(lambda: canary.paused_at(1), step=1)
    started = _time(canary.status["pauseConditions"][0]["startTime"])
    world.clock.advance((started + timedelta(seconds=119) - world.clock.now()).total_seconds())
    world.step()
    assert canary.paused_at(1)
    world.advance(2)
    assert canary.status["currentStepIndex"] == 2
    assert "pauseConditions" not in canary.status


def test_manual_pause_holds_the_steps_until_promote() -> None:
    steps = (StepSpec(set_weight=20), StepSpec(pause="1m"), StepSpec(set_weight=100))
    world = world_with(steps=steps, analysis_from_step=-1, replicas=5, candidate=None)
    canary = Canary(world)
    deploy(world, GOOD)
    canary.plugin.pause()
    canary.step()
    assert (canary.status["phase"], canary.status["message"]) == ("Paused", "manually paused")
    world.advance(600, step=10)
    assert canary.status["currentStepIndex"] == 0
    canary.plugin.promote()
    assert ("", {"spec": {"paused": False}}) in canary.plugin.sent
    canary.advance_until(lambda: canary.status["currentStepIndex"] >= 1, limit=60)


def test_an_idle_cluster_writes_nothing() -> None:
    """At steady state a step is free: no object is rewritten, so watches stay quiet."""
    world = ClusterWorld(scenarios.load("healthy"))
    world.advance(120, step=5)  # let the seeded state settle (nothing should move)
    before = world.kube.store.resource_version
    world.advance(3600, step=30)
    assert world.kube.store.resource_version == before


def _time(text: str):  # type: ignore[no-untyped-def]
    from cockpit.sim.kube.objects import parse_time

    moment = parse_time(text)
    assert moment is not None
    return moment


def test_promote_at_a_set_weight_step_skips_it_with_the_index_the_plugin_sends() -> None:
    world = world_with(steps=WALK, analysis_from_step=-1, replicas=10, candidate=None)
    canary = Canary(world)
    deploy(world, GOOD)
    assert canary.status["currentStepIndex"] == 0 and not canary.status.get("pauseConditions")
    canary.plugin.promote()  # rule c: no pause condition, a canary with steps
    assert canary.plugin.sent[-1] == (
        "status",
        {"status": {"pauseConditions": None, "currentStepIndex": 1}},
    )
    canary.step()
    assert canary.paused_at(1)


def test_an_inconclusive_analysis_step_pauses_and_promote_moves_past_it() -> None:
    steps = (StepSpec(set_weight=50), StepSpec(analysis=True), StepSpec(set_weight=100))
    world = world_with(steps=steps, analysis_from_step=-1, replicas=4, candidate=None, rps=50.0)
    canary = Canary(world)

    # Between "clearly good" and "clearly bad" the verdict is Inconclusive.
    def narrow(template: dict[str, Any]) -> None:
        metric = template["spec"]["metrics"][0]
        metric["successCondition"] = "result[0] >= 0.99"
        metric["failureCondition"] = "result[0] < 0.9"

    canary.store.update(
        ANALYSIS_TEMPLATE,
        NS,
        "success-rate-step",
        narrow,
    )
    deploy(world, VersionProfile(success_rate=0.94, latency_ms=120.0))  # ≈ 0.97 at 50 %
    canary.advance_until(lambda: bool(canary.status.get("pauseConditions")), limit=900, step=5)
    status = canary.status
    assert status["currentStepIndex"] == 1
    assert [p["reason"] for p in status["pauseConditions"]] == ["InconclusiveAnalysisRun"]
    assert (status["phase"], status["message"]) == ("Paused", "InconclusiveAnalysisRun")
    reference = status["canary"]["currentStepAnalysisRunStatus"]
    assert reference["status"] == "Inconclusive"
    run = canary.store.get(ANALYSIS_RUN, NS, reference["name"])
    assert run["metadata"]["labels"]["rollout-type"] == "Step"
    assert run["metadata"]["labels"]["step-index"] == "1"
    assert run["status"]["message"].startswith('Metric "success-rate" assessed Inconclusive')

    canary.plugin.promote()  # rule a
    assert canary.plugin.sent[-1] == (
        "status",
        {"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 2}},
    )
    canary.step()
    assert canary.status["currentStepIndex"] == 2
    canary.advance_until(lambda: canary.status["stableRS"] == canary.status["currentPodHash"])


def test_a_first_deploy_creates_the_workload_and_brings_it_up() -> None:
    world = world_with()
    world.gitlab.history[("checkout", NS)] = []
    world.build()  # a cluster that never saw checkout in production
    assert world.kube.traffic_split("checkout", NS) == []
    sha = deploy(world, GOOD)
    canary = Canary(world)
    canary.advance_until(lambda: canary.status.get("phase") == "Healthy", limit=60)
    status = canary.status
    assert status["stableRS"] == status["currentPodHash"]
    assert status["currentStepIndex"] == len(world.env("checkout", NS).steps)
    assert canary.revision(status["currentPodHash"]) == 1
    assert canary.store.find(SERVICE, NS, "checkout-stable") is not None
    assert world.kube.traffic_split("checkout", NS) == [(sha, 1.0)]


def test_a_broken_rollout_is_retried_and_does_not_stop_the_others(caplog) -> None:
    world = ClusterWorld(only(scenarios.load("demo"), ["checkout", "api"]))
    api = Canary(world, "api")
    checkout = Canary(world)
    index = api.status["currentStepIndex"]
    checkout.store.update(
        ROLLOUT, NS, "checkout", lambda o: o["spec"].__setitem__("replicas", "many")
    )
    world.advance(120, step=5)
    assert "reconciling Rollout production/checkout failed" in caplog.text
    assert api.status["currentStepIndex"] > index  # the other rollout kept moving
    checkout.store.update(ROLLOUT, NS, "checkout", lambda o: o["spec"].__setitem__("replicas", 6))
    world.advance(20, step=5)
    assert checkout.status["observedGeneration"] == str(checkout.rollout["metadata"]["generation"])


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("kubectl-plugin-testdata/canary/canary-rs.yaml", REPLICASET),
        ("kubectl-plugin-testdata/canary/stable-pod1.yaml", POD),
        ("kubectl-plugin-testdata/rollout-aborted/analysisrun.yaml", ANALYSIS_RUN),
    ],
)
def test_replicasets_pods_and_analysisruns_look_like_captured_ones(fixture, kind) -> None:
    """Every field of the captured object is in ours with the same JSON type.

    Set aside: ``selfLink`` (Kubernetes stopped sending it in 1.20), the pod's token
    volume source (a Secret in 2019, a projected token since 1.24), and the captured
    run's provider (``web``; ours are Prometheus).
    """
    expected = load_fixture(f"argo-rollouts/{fixture}")
    expected["metadata"].pop("selfLink", None)
    if kind == POD:
        expected["spec"]["volumes"][0].pop("secret")
    if kind == ANALYSIS_RUN:
        expected["spec"]["metrics"][0].pop("provider")
    steps = (StepSpec(set_weight=20), StepSpec(pause="10m"), StepSpec(set_weight=100))
    world = world_with(steps=steps, analysis_from_step=1, replicas=5, candidate=None)
    deploy(world, BAD)
    canary = Canary(world)
    canary.advance_until(lambda: canary.status.get("abort") is True, limit=900, step=5)
    items, _ = world.kube.store.list(kind, NS)
    ours = next(item for item in items if (item.get("status") or {}).get("phase") != "Pending")
    mismatches = shape_mismatches(expected, ours)
    assert not mismatches, mismatches
