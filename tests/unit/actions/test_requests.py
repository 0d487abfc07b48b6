"""The exact writes: the Argo Rollouts plugin's patch bodies and kubectl's undo.

The plugin's are those of argo-rollouts ``pkg/kubectl-argo-rollouts/cmd/*/*.go``;
kubectl's undo is ``DeploymentRollbacker`` in kubectl ``pkg/polymorphichelpers/rollback.go``.

Bodies are compared as the bytes the HTTP client sends (compact JSON, keys in order)
with the plugin's literals.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cockpit.actions.requests import (
    KubeTarget,
    Refusal,
    abort_writes,
    compact_json,
    deployment_undo,
    promote_full_writes,
    promote_writes,
    retry_writes,
    rollout_undo,
)

ROLLOUT = KubeTarget("prod-eu", "checkout", "Rollout", "checkout")
DEPLOYMENT = KubeTarget("prod-eu", "auth", "Deployment", "auth")
STATUS_PATH = "/apis/argoproj.io/v1alpha1/namespaces/checkout/rollouts/checkout/status"
MAIN_PATH = "/apis/argoproj.io/v1alpha1/namespaces/checkout/rollouts/checkout"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def canary(
    *,
    index: int | None = 3,
    pauses: tuple[str, ...] = ("CanaryPauseStep",),
    spec_paused: bool = False,
    steps: int = 7,
    **status: Any,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": "Rollout",
        "metadata": {"name": "checkout", "namespace": "checkout", "uid": "ro-1"},
        "spec": {
            "paused": spec_paused,
            "strategy": {"canary": {"steps": [{"setWeight": 10 * i} for i in range(steps)]}},
        },
        "status": {
            "pauseConditions": [{"reason": r, "startTime": "2026-11-26T02:56:00Z"} for r in pauses],
            "currentPodHash": "new",
            "stableRS": "old",
            **status,
        },
    }
    if index is not None:
        obj["status"]["currentStepIndex"] = index
    return obj


def wire(writes: Any) -> list[tuple[str, str, str | None, str]]:
    return [
        (w.request.method, w.request.path, w.request.content_type, compact_json(w.request.body))
        for w in writes
    ]


def test_promote_at_a_pause_step_clears_the_pause_conditions_on_the_status_subresource() -> None:
    writes = promote_writes(ROLLOUT, canary())
    assert wire(writes) == [("PATCH", STATUS_PATH, MERGE, '{"status":{"pauseConditions":null}}')]
    fallback = writes[0].fallback
    assert fallback is not None and fallback.path == MAIN_PATH
    assert (
        compact_json(fallback.body) == '{"spec":{"paused":false},"status":{"pauseConditions":null}}'
    )


def test_promote_of_a_manually_paused_rollout_also_unpauses_the_spec_after_the_status() -> None:
    writes = promote_writes(ROLLOUT, canary(spec_paused=True))
    assert wire(writes) == [
        ("PATCH", STATUS_PATH, MERGE, '{"status":{"pauseConditions":null}}'),
        ("PATCH", MAIN_PATH, MERGE, '{"spec":{"paused":false}}'),
    ]


def test_promote_after_an_inconclusive_step_analysis_moves_to_the_next_step_itself() -> None:
    obj = canary(
        index=2,
        pauses=("InconclusiveAnalysisRun",),
        controllerPause=True,
        canary={"currentStepAnalysisRunStatus": {"name": "run-1", "status": "Inconclusive"}},
    )
    writes = promote_writes(ROLLOUT, obj)
    assert wire(writes) == [
        (
            "PATCH",
            STATUS_PATH,
            MERGE,
            '{"status":{"pauseConditions":null,"controllerPause":false,"currentStepIndex":3}}',
        )
    ]


def test_promote_mid_step_without_a_pause_skips_the_running_step_capped_at_the_end() -> None:
    assert wire(promote_writes(ROLLOUT, canary(index=1, pauses=()))) == [
        ("PATCH", STATUS_PATH, MERGE, '{"status":{"pauseConditions":null,"currentStepIndex":2}}')
    ]
    assert wire(promote_writes(ROLLOUT, canary(index=7, pauses=()))) == [
        ("PATCH", STATUS_PATH, MERGE, '{"status":{"pauseConditions":null,"currentStepIndex":7}}')
    ]
    # no currentStepIndex yet counts as step 0
    assert 'currentStepIndex":1' in compact_json(
        promote_writes(ROLLOUT, canary(index=None, pauses=()))[0].request.body
    )


def test_promote_sends_nothing_to_a_blue_green_rollout_that_is_not_paused() -> None:
    obj = canary(pauses=())
    obj["spec"]["strategy"] = {"blueGreen": {"activeService": "web"}}
    assert promote_writes(ROLLOUT, obj) == ()
    obj["spec"]["paused"] = True
    assert wire(promote_writes(ROLLOUT, obj)) == [
        ("PATCH", MAIN_PATH, MERGE, '{"spec":{"paused":false}}')
    ]


def test_full_promotion_asks_for_promote_full_only_while_the_new_version_is_not_stable() -> None:
    writes = promote_full_writes(ROLLOUT, canary(spec_paused=True))
    assert wire(writes) == [
        ("PATCH", STATUS_PATH, MERGE, '{"status":{"promoteFull":true}}'),
        ("PATCH", MAIN_PATH, MERGE, '{"spec":{"paused":false}}'),
    ]
    assert compact_json(writes[0].fallback.body) == (  # type: ignore[union-attr]
        '{"spec":{"paused":false},"status":{"promoteFull":true}}'
    )
    done = canary(pauses=(), currentPodHash="same", stableRS="same")
    assert promote_full_writes(ROLLOUT, done) == ()


def test_abort_and_retry_are_the_plugins_status_patches_with_the_same_body_as_fallback() -> None:
    (abort,) = abort_writes(ROLLOUT)
    (retry,) = retry_writes(ROLLOUT)
    assert wire([abort]) == [("PATCH", STATUS_PATH, MERGE, '{"status":{"abort":true}}')]
    assert wire([retry]) == [("PATCH", STATUS_PATH, MERGE, '{"status":{"abort":false}}')]
    assert abort.fallback is not None and abort.fallback.path == MAIN_PATH
    assert compact_json(abort.fallback.body) == '{"status":{"abort":true}}'


# --------------------------------------------------------------------------- undo


def template(image: str, pod_hash: str | None, label: str) -> dict[str, Any]:
    labels = {"app": "checkout"}
    if pod_hash:
        labels[label] = pod_hash
    return {
        "metadata": {"labels": labels, "annotations": {"team": "shop"}},
        "spec": {"containers": [{"name": "app", "image": image, "env": []}]},
    }


def replicaset(
    revision: int,
    image: str,
    *,
    owner: str = "ro-1",
    kind: str = "Rollout",
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    label = "rollouts-pod-template-hash" if kind == "Rollout" else "pod-template-hash"
    revision_key = (
        "rollout.argoproj.io/revision" if kind == "Rollout" else "deployment.kubernetes.io/revision"
    )
    return {
        "metadata": {
            "name": f"rs-{revision}",
            "annotations": {revision_key: str(revision), **(annotations or {})},
            "ownerReferences": [{"kind": kind, "name": "x", "uid": owner, "controller": True}],
        },
        "spec": {"template": template(image, f"h{revision}", label)},
    }


def rollout_with(image: str) -> dict[str, Any]:
    obj = canary(pauses=())
    obj["spec"]["template"] = template(image, None, "rollouts-pod-template-hash")
    return obj


def test_rollout_undo_replaces_the_template_with_the_second_highest_revision_minus_its_hash() -> (
    None
):
    sets = [
        replicaset(3, "app:3"),
        replicaset(1, "app:1"),
        replicaset(2, "app:2"),
        replicaset(9, "app:9", owner="someone-else"),
    ]
    undo = rollout_undo(ROLLOUT, rollout_with("app:3"), sets)
    assert undo.revision == 2
    request = undo.write.request
    assert (request.method, request.path, request.content_type) == ("PATCH", MAIN_PATH, JSON_PATCH)
    expected = template("app:2", None, "")
    expected["metadata"]["labels"] = {"app": "checkout"}
    assert request.body == [{"op": "replace", "path": "/spec/template", "value": expected}]
    assert compact_json(request.body).startswith(
        '[{"op":"replace","path":"/spec/template","value":'
    )


def test_rollout_undo_refuses_when_there_is_no_history_or_the_template_already_matches() -> None:
    with pytest.raises(Refusal, match="no rollout history found"):
        rollout_undo(ROLLOUT, rollout_with("app:3"), [replicaset(3, "app:3")])
    # empty lists and nulls do not count, like the API's semantic equality
    current = rollout_with("app:2")
    current["spec"]["template"]["spec"]["containers"][0].pop("env")
    with pytest.raises(
        Refusal, match=r"skipped rollback \(current template already matches revision 2\)"
    ):
        rollout_undo(ROLLOUT, current, [replicaset(3, "app:3"), replicaset(2, "app:2")])
    with pytest.raises(Refusal, match="unable to find specified revision 7"):
        rollout_undo(ROLLOUT, rollout_with("app:3"), [replicaset(3, "app:3")], to_revision=7)


def deployment(**annotations: str) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {
            "name": "auth",
            "namespace": "auth",
            "uid": "dep-1",
            "annotations": annotations,
        },
        "spec": {"paused": False, "template": template("auth:5", None, "pod-template-hash")},
    }


def test_deployment_undo_is_kubectls_json_patch_with_the_annotations_replaced_wholesale() -> None:
    current = deployment(
        **{
            "deployment.kubernetes.io/revision": "5",
            "deployment.kubernetes.io/revision-history": "2",
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
            "owner": "current-team",
        }
    )
    old = replicaset(
        4,
        "auth:4",
        owner="dep-1",
        kind="Deployment",
        annotations={"kubernetes.io/change-cause": "bump to 4", "owner": "old-team"},
    )
    newest = replicaset(5, "auth:5", owner="dep-1", kind="Deployment")
    undo = deployment_undo(DEPLOYMENT, current, [newest, old])
    assert undo.revision == 4
    request = undo.write.request
    assert request.path == "/apis/apps/v1/namespaces/auth/deployments/auth"
    assert request.content_type == JSON_PATCH
    template_op, annotations_op = request.body
    assert template_op["op"] == "replace" and template_op["path"] == "/spec/template"
    assert template_op["value"]["metadata"]["labels"] == {"app": "checkout"}
    assert template_op["value"]["spec"]["containers"][0]["image"] == "auth:4"
    assert annotations_op == {
        "op": "replace",
        "path": "/metadata/annotations",
        "value": {
            "deployment.kubernetes.io/revision": "5",
            "deployment.kubernetes.io/revision-history": "2",
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
            "kubernetes.io/change-cause": "bump to 4",
            "owner": "old-team",
        },
    }
    # Go writes map keys sorted: so do we.
    assert list(annotations_op["value"]) == sorted(annotations_op["value"])


def test_deployment_undo_refuses_a_paused_deployment_as_kubectl_does() -> None:
    paused = deployment()
    paused["spec"]["paused"] = True
    sets = [
        replicaset(5, "auth:5", owner="dep-1", kind="Deployment"),
        replicaset(4, "auth:4", owner="dep-1", kind="Deployment"),
    ]
    with pytest.raises(Refusal) as refused:
        deployment_undo(DEPLOYMENT, paused, sets)
    assert refused.value.message == (
        "you cannot rollback a paused deployment; resume it first with "
        "'kubectl rollout resume deployment/auth' and try again"
    )


def test_undo_leaves_the_objects_it_read_untouched() -> None:
    sets = [replicaset(3, "app:3"), replicaset(2, "app:2")]
    before = copy.deepcopy(sets)
    rollout_undo(ROLLOUT, rollout_with("app:3"), sets)
    assert sets == before
