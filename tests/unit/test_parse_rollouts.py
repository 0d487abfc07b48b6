"""Rollouts, Deployments and AnalysisRuns parsed from real objects, as the plugin shows them.

The golden files are ``kubectl argo rollouts get rollout`` output for the same fixtures:
their header lines (Status, Message, Strategy, Step, SetWeight, ActualWeight, Images,
Replicas) must be what cockpit computes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from cockpit.model import Strategy
from cockpit.sources.kube import is_expired
from cockpit.sources.rollouts_parse import (
    duration_seconds,
    image_tags,
    parse_analysis_run,
    parse_deployment_workload,
    parse_revision,
    parse_rollout,
    parse_step,
)
from tests.helpers import SHARED_FIXTURES, fixture_files, load_fixture, shared_fixtures

PLUGIN = "argo-rollouts/kubectl-plugin-testdata"
ARGOCD = "argo-rollouts/argo-cd-health-testdata"


def objects(*paths: str) -> list[Any]:
    return [load_fixture(f"{PLUGIN}/{p}") for p in paths]


def documents_of_kind(kind: str) -> list[tuple[str, int]]:
    """(fixture path, document index) of every ``kind`` object in the Argo fixtures."""
    found = []
    for path in fixture_files("argo-rollouts", "**/*.yaml"):
        documents = yaml.safe_load_all((SHARED_FIXTURES / path).read_text(encoding="utf-8"))
        for index, document in enumerate(documents):
            if isinstance(document, dict) and document.get("kind") == kind:
                found.append((path, index))
    return found


def document(path: str, index: int) -> Any:
    shared_fixtures()
    text = (SHARED_FIXTURES / path).read_text(encoding="utf-8")
    return list(yaml.safe_load_all(text))[index]


# --------------------------------------------------------------------------- golden files

#: golden file → (rollout, replicasets, analysisruns, header lines we have the inputs for)
GOLDEN = {
    "get-rollout-canary-degraded.txt": (
        "canary/canary-rollout.yaml",
        ["canary/canary-rs.yaml", "canary/stable-rs.yaml", "canary/old-rs.yaml"],
        [],
        "all",
    ),
    "get-rollout-aborted.txt": (
        "rollout-aborted/rollout.yaml",
        ["rollout-aborted/rs1.yaml", "rollout-aborted/rs2.yaml"],
        ["rollout-aborted/analysisrun.yaml"],
        "all",
    ),
    "get-rollout-bluegreen-paused.txt": (
        "blue-green/bluegreen-rollout.yaml",
        ["blue-green/active-rs.yaml", "blue-green/preview-rs.yaml", "blue-green/old-rs.yaml"],
        [],
        "all",
    ),
    "get-rollout-invalid-spec.txt": ("rollout-invalid/rollout-invalid.yaml", [], [], "all"),
    # The ReplicaSets of these two are not among the fixtures: no Images / ActualWeight.
    "get-rollout-canary-progressing-experiment-job.txt": (
        "experiment-step/canary-demo.yaml",
        [],
        [],
        "no-images",
    ),
    "get-rollout-experiment-analysis-inconclusive.txt": (
        "experiment-analysis/rollout-experiment-analysis.yaml",
        [],
        ["experiment-analysis/canary-analysis.yaml"],
        "no-images-no-actual",
    ),
}

ICONS = "◌॥✔✖⚠?•"


def golden_header(text: str) -> dict[str, Any]:
    """The header of ``kubectl argo rollouts get rollout`` output, as key → value."""
    header: dict[str, Any] = {"Images": []}
    last = None
    for line in text.split("\n\n", 1)[0].splitlines():
        if line.startswith(" " * 10) and last == "Images":
            header["Images"].append(line.strip())
            continue
        key, _, value = line.strip().partition(":")
        last = key
        value = value.strip()
        if key == "Status":
            value = value.lstrip(ICONS).strip()
        if key == "Images":
            header["Images"].append(value)
        else:
            header[key] = value
    return header


def rendered_header(rollout: Any) -> dict[str, Any]:
    """What cockpit's Rollout says, in the plugin's words."""
    header: dict[str, Any] = {
        "Status": rollout.phase,
        "Strategy": "BlueGreen" if rollout.strategy is Strategy.BLUEGREEN else "Canary",
        "Desired": str(rollout.replicas),
        "Current": str(rollout.current_replicas),
        "Updated": str(rollout.updated_replicas),
        "Ready": str(rollout.ready_replicas),
        "Available": str(rollout.available_replicas),
        "Images": [
            f"{image} ({', '.join(tags)})" if tags else image for image, tags in image_tags(rollout)
        ],
    }
    if rollout.message:
        header["Message"] = rollout.message
    if rollout.strategy is Strategy.CANARY:
        header["Step"] = (
            f"{rollout.step_index}/{rollout.step_count}" if rollout.step_index is not None else ""
        )
        header["SetWeight"] = str(rollout.set_weight)
        header["ActualWeight"] = str(rollout.actual_weight)
    return header


@pytest.mark.parametrize("golden", sorted(GOLDEN))
def test_header_matches_plugin_golden_output(golden: str) -> None:
    rollout_file, rs_files, ar_files, compare = GOLDEN[golden]
    rollout = parse_rollout(objects(rollout_file)[0], objects(*rs_files), objects(*ar_files))
    expected = golden_header(load_fixture(f"argo-rollouts/golden/{golden}"))
    actual = rendered_header(rollout)
    for key in ("Name", "Namespace", "Replicas"):
        expected.pop(key, None)
    if compare != "all":
        expected.pop("Images")
        actual.pop("Images")
    if compare == "no-images-no-actual":
        expected.pop("ActualWeight")
        actual.pop("ActualWeight")
    assert actual == expected


def test_every_golden_file_is_checked() -> None:
    names = {p.name for p in (shared_fixtures() / "argo-rollouts" / "golden").glob("get-rollout-*")}
    assert names == set(GOLDEN)


# --------------------------------------------------------------------------- named states


def test_aborted_rollout() -> None:
    rollout = parse_rollout(
        *objects("rollout-aborted/rollout.yaml"),
        objects("rollout-aborted/rs1.yaml", "rollout-aborted/rs2.yaml"),
        objects("rollout-aborted/analysisrun.yaml"),
    )
    assert rollout.aborted
    assert rollout.aborted_at == datetime(2020, 9, 22, 9, 10, 5, tzinfo=UTC)
    assert rollout.phase == "Degraded"
    assert 'metric "web" assessed Failed' in rollout.message
    assert rollout.in_progress is False
    assert [(r.number, r.role) for r in rollout.revisions] == [(2, "canary"), (1, "stable")]
    assert rollout.stable_images == ("argoproj/rollouts-demo:blue",)
    assert rollout.images == ("argoproj/rollouts-demo:yellow",)
    (run,) = rollout.analysis_runs
    assert (run.phase, run.rollout_type, run.pod_hash) == ("Failed", "Background", "db976bc44")
    (metric,) = run.metrics
    assert (metric.name, metric.phase, metric.failed) == ("web", "Failed", 1)
    assert metric.measurements[0].value == "false"


def test_blue_green_preview_waits_for_the_switch() -> None:
    rollout = parse_rollout(
        *objects("blue-green/bluegreen-rollout.yaml"),
        objects(
            "blue-green/active-rs.yaml", "blue-green/preview-rs.yaml", "blue-green/old-rs.yaml"
        ),
    )
    assert rollout.strategy is Strategy.BLUEGREEN
    assert rollout.paused and rollout.pause_reasons == ("BlueGreenPause",)
    assert rollout.active_selector == "6cbccd9f99"
    assert rollout.preview_selector == "74b948fccb"
    assert rollout.preview_ready
    assert rollout.in_progress
    assert rollout.pause_ends_at is None  # autoPromotionEnabled: false waits for a person
    assert [(r.number, r.role) for r in rollout.revisions] == [
        (11, "preview"),
        (10, "active"),
        (8, "old"),
    ]


def test_canary_degraded_steps_rendered_like_the_plugin() -> None:
    rollout = parse_rollout(*objects("canary/canary-rollout.yaml"))
    assert [s.text for s in rollout.steps] == [
        "setWeight: 20",
        "pause",
        "setWeight: 40",
        "pause: 10s",
        "setWeight: 60",
        "pause: 10s",
        "setWeight: 80",
        "pause: 10s",
    ]
    assert rollout.steps[1].duration is None
    assert rollout.steps[3].duration == 10.0
    assert rollout.current_step is not None and rollout.current_step.weight == 20


def test_traffic_routed_canary_uses_the_weights_in_status() -> None:
    rollout = parse_rollout(*objects("canary/canary-rollout5.yaml"))
    assert (rollout.set_weight, rollout.actual_weight) == (20, 20)


def test_argo_cd_paused_canary_at_step_one() -> None:
    rollout = parse_rollout(load_fixture(f"{ARGOCD}/Rollout/suspended_v1.0_pausedRollout.yaml"))
    assert rollout.phase == "Paused" and rollout.message == "CanaryPauseStep"
    assert rollout.paused and rollout.pause_reasons == ("CanaryPauseStep",)
    assert rollout.step_index == 1
    assert rollout.current_step is not None and rollout.current_step.text == "pause"
    assert rollout.paused_at == datetime(2021, 7, 15, 21, 8, 55, tzinfo=UTC)
    assert rollout.set_weight == 21


def test_argo_cd_aborted_rollout_without_generation() -> None:
    rollout = parse_rollout(load_fixture(f"{ARGOCD}/Rollout/degraded_abortedRollout.yaml"))
    assert rollout.aborted and rollout.phase == "Degraded"
    assert rollout.message == "RolloutAborted: Rollout is aborted"
    assert rollout.stable_hash == "645d5dbc4c"  # the v0.9 status.canary.stableRS
    assert rollout.set_weight == 0


def test_argo_cd_progressing_canary_with_unquoted_timestamps() -> None:
    rollout = parse_rollout(load_fixture(f"{ARGOCD}/Rollout/canary_progressing_setWeightStep.yaml"))
    assert rollout.phase == "Progressing"
    assert rollout.message == "more replicas need to be updated"
    assert rollout.step_index == 3 and rollout.set_weight == 40
    assert rollout.steps[1].text == "pause: 20" and rollout.steps[1].duration == 20.0


def test_timed_pause_end_is_start_plus_duration() -> None:
    obj = load_fixture(f"{ARGOCD}/Rollout/suspended_v1.0_pausedRollout.yaml")
    obj["status"]["currentStepIndex"] = 3  # pause: {duration: 10}
    rollout = parse_rollout(obj)
    assert rollout.pause_ends_at == datetime(2021, 7, 15, 21, 9, 5, tzinfo=UTC)


def test_generation_not_yet_observed() -> None:
    obj = load_fixture(f"{ARGOCD}/Rollout/suspended_v1.0_pausedRollout.yaml")
    obj["metadata"]["generation"] = 6
    assert parse_rollout(obj).message == "waiting for rollout spec update to be observed"


def test_unpausing_after_promote() -> None:
    obj = load_fixture(f"{ARGOCD}/Rollout/suspended_v1.0_pausedRollout.yaml")
    obj["status"]["pauseConditions"] = None
    rollout = parse_rollout(obj)
    assert (rollout.phase, rollout.message) == ("Progressing", "waiting for rollout to unpause")


def test_replicasets_of_other_rollouts_are_ignored() -> None:
    rollout = parse_rollout(
        *objects("canary/canary-rollout.yaml"),
        objects("canary/canary-rs.yaml", "blue-green/active-rs.yaml"),
    )
    assert [r.number for r in rollout.revisions] == [31]


# --------------------------------------------------------------------------- every object


def test_fixture_sets_are_not_empty() -> None:
    shared_fixtures()
    assert len(documents_of_kind("Rollout")) >= 10
    assert len(documents_of_kind("AnalysisRun")) >= 8


@pytest.mark.parametrize(("path", "index"), documents_of_kind("Rollout"))
def test_every_rollout_fixture_parses(path: str, index: int) -> None:
    obj = document(path, index)
    rollout = parse_rollout(obj)
    assert rollout.phase in ("Healthy", "Progressing", "Paused", "Degraded")
    assert rollout.name == obj["metadata"]["name"]
    assert rollout.images


@pytest.mark.parametrize(("path", "index"), documents_of_kind("AnalysisRun"))
def test_every_analysis_run_fixture_parses(path: str, index: int) -> None:
    obj = document(path, index)
    run = parse_analysis_run(obj)
    assert run.phase == obj["status"]["phase"]
    assert run.metrics, "older spec.analysisSpec and current spec.metrics both name metrics"
    for metric, result in zip(run.metrics, obj["status"]["metricResults"], strict=True):
        assert metric.name == result["name"]
        assert len(metric.measurements) == len(result.get("measurements") or [])


def test_inconclusive_analysis_run_counters() -> None:
    run = parse_analysis_run(load_fixture(f"{PLUGIN}/experiment-analysis/canary-analysis.yaml"))
    assert run.phase == "Inconclusive"
    (metric,) = run.metrics
    # the plugin prints "✔ 4,✖ 4,? 1,⚠ 1"
    assert (metric.successful, metric.failed, metric.inconclusive, metric.error) == (4, 4, 1, 1)
    assert [m.phase for m in metric.measurements].count("Successful") == 4


def test_argo_cd_analysis_runs_in_the_older_layout() -> None:
    run = parse_analysis_run(load_fixture(f"{ARGOCD}/AnalysisRun/runningAnalysisRun.yaml"))
    assert run.phase == "Running"
    (metric,) = run.metrics
    assert metric.name == "memory-usage" and metric.successful == 2
    assert metric.measurements[0].value == "[0.9721293199554069]"
    error = parse_analysis_run(load_fixture(f"{ARGOCD}/AnalysisRun/errorAnalysisRun.yaml"))
    assert error.phase == "Error" and error.metrics[0].error == 5


def test_metric_without_result_yet_is_pending() -> None:
    obj = load_fixture(f"{PLUGIN}/rollout-aborted/analysisrun.yaml")
    obj["status"] = {"phase": "Running"}
    (metric,) = parse_analysis_run(obj).metrics
    assert (metric.name, metric.phase, metric.count) == ("web", "Pending", 0)


# --------------------------------------------------------------------------- steps


@pytest.mark.parametrize(
    ("step", "text", "kind"),
    [
        ({"setWeight": 20}, "setWeight: 20", "setWeight"),
        ({"pause": {}}, "pause", "pause"),
        ({"pause": {"duration": "10m"}}, "pause: 10m", "pause"),
        ({"pause": {"duration": 30}}, "pause: 30", "pause"),
        ({"analysis": {"templates": []}}, "analysis", "analysis"),
        ({"experiment": {"templates": []}}, "experiment", "experiment"),
        ({"setCanaryScale": {"weight": 20}}, "setCanaryScale{weight: 20}", "setCanaryScale"),
        ({"setCanaryScale": {"replicas": 2}}, "setCanaryScale{replicas: 2}", "setCanaryScale"),
        (
            {"setCanaryScale": {"matchTrafficWeight": True}},
            "setCanaryScale{matchTrafficWeight: true}",
            "setCanaryScale",
        ),
        ({"setHeaderRoute": {"name": "h"}}, "setHeaderRoute: h", "setHeaderRoute"),
        ({"setMirrorRoute": {"name": "m"}}, "setMirrorRoute: m", "setMirrorRoute"),
        ({"plugin": {"name": "p"}}, "plugin: p", "plugin"),
    ],
)
def test_canary_step_string(step: dict[str, Any], text: str, kind: str) -> None:
    parsed = parse_step(0, step)
    assert (parsed.text, parsed.kind) == (text, kind)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(30, 30.0), ("30", 30.0), ("30s", 30.0), ("10m", 600.0), ("1h", 3600.0), ("1m30s", 90.0)],
)
def test_pause_durations(value: Any, expected: float) -> None:
    assert duration_seconds(value) == expected


def test_unreadable_duration_is_none() -> None:
    assert duration_seconds("soon") is None


# --------------------------------------------------------------------------- Deployments


def test_deployment_complete() -> None:
    rollout = parse_deployment_workload(load_fixture("kubernetes/deployment-complete.json"))
    assert (rollout.kind, rollout.strategy) == ("Deployment", Strategy.ROLLING)
    assert rollout.phase == "Healthy"
    assert rollout.message == 'deployment "guestbook-ui" successfully rolled out'
    assert rollout.revision == 5
    assert rollout.images == ("gcr.io/heptio-images/ks-guestbook-demo:0.2",)
    assert rollout.in_progress is False


def test_deployment_progressing() -> None:
    rollout = parse_deployment_workload(load_fixture("kubernetes/deployment-progressing.yaml"))
    assert rollout.phase == "Progressing"
    assert rollout.message.endswith("1 old replicas are pending termination...")
    assert rollout.in_progress


def test_deployment_past_its_progress_deadline() -> None:
    obj = load_fixture("kubernetes/deployment-degraded-progress-deadline-exceeded.yaml")
    rollout = parse_deployment_workload(obj)
    assert rollout.phase == "Degraded"
    assert rollout.message == 'deployment "guestbook-ui" exceeded its progress deadline'


def test_deployment_revisions_from_its_replicasets() -> None:
    obj = load_fixture("kubernetes/deployment-progressing.yaml")
    uid = obj["metadata"]["uid"]

    def rs(revision: int, hash_: str, image: str, replicas: int) -> dict[str, Any]:
        return {
            "metadata": {
                "name": f"guestbook-ui-{hash_}",
                "labels": {"pod-template-hash": hash_},
                "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                "ownerReferences": [{"kind": "Deployment", "name": "guestbook-ui", "uid": uid}],
            },
            "spec": {"template": {"spec": {"containers": [{"image": image}]}}},
            "status": {"replicas": replicas},
        }

    rollout = parse_deployment_workload(
        obj, [rs(3, "old1", "demo:0.2", 1), rs(4, "new1", "demo:0.3", 1), rs(2, "older", "x", 0)]
    )
    assert [(r.number, r.role) for r in rollout.revisions] == [
        (4, "canary"),
        (3, "stable"),
        (2, "old"),
    ]
    assert rollout.current_hash == "new1" and rollout.stable_hash == "old1"
    assert rollout.stable_images == ("demo:0.2",)


def test_replicaset_revision_annotation() -> None:
    revision = parse_revision(load_fixture("kubernetes/replicaset-with-revision-annotation.json"))
    assert (revision.number, revision.pod_hash) == (1, "3338225024")
    assert revision.images == ("gcr.io/google-samples/gb-frontend:v4",)
    assert (revision.replicas, revision.ready) == (3, 3)


# --------------------------------------------------------------------------- watch errors


def test_410_watch_error_events_are_recognised() -> None:
    gone = load_fixture("kubernetes/watch-event-error-410-gone-recorded.json")
    assert gone["type"] == "ERROR" and is_expired(gone["object"])
    expired = json.loads(
        load_fixture("kubernetes/watch-stream-pods.ndjson").strip().splitlines()[-1]
    )
    assert is_expired(expired["object"])
    assert is_expired(load_fixture("kubernetes/status-410-expired-list.json"))
    assert not is_expired(load_fixture("kubernetes/status-404-notfound.json"))
