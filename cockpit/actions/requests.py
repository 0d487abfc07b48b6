"""The exact writes behind each action, as the reference tools send them.

Pure functions from API objects (plain dicts, as the Kubernetes API serves them) to
:class:`Write` values; nothing here does I/O. The bodies are the reference tools' own, to the letter:

* Argo Rollouts, as ``kubectl argo rollouts`` sends them (argo-rollouts
  ``pkg/kubectl-argo-rollouts/cmd/{promote,abort,retry}/*.go``): ``promote`` by rules
  a–d (status subresource first, the spec un-pause second), ``promote --full``,
  ``abort``, ``retry rollout`` — all ``application/merge-patch+json``, the status ones
  with the plugin's fallback (the unified body to the main resource when ``.../status``
  answers 404) — and ``undo`` as a JSON patch replacing ``/spec/template``;
* ``kubectl rollout undo`` for a Deployment (kubectl
  ``pkg/polymorphichelpers/rollback.go``): its refusals (paused, no history, template
  already matches) and its JSON patch that also replaces the annotations;
* GitLab job play / retry / cancel (GitLab's jobs API), re-deploy = retry the
  deployable job (as GitLab's environment page does: ``doc/ci/environments/
  deployments.md``), and the feature flag update (the feature flags API), built by
  :mod:`cockpit.sources.gitlab`; a POST without parameters is described as
  python-gitlab sends it, an empty JSON object.

Bodies are dicts in the plugin's key order; the HTTP client serialises them compactly,
which is byte for byte the plugin's text except for the one space the plugin's
``"pauseConditions":null, "currentStepIndex":N`` literals carry after their comma.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from cockpit.model import Deployment, SourceName
from cockpit.sources.gitlab import feature_flag_request, job_action_request, redeploy_request
from cockpit.sources.kube import PatchKind, patch_request
from cockpit.sources.writes import WriteRequest

WorkloadKind = Literal["Rollout", "Deployment"]

ROLLOUT_REVISION = "rollout.argoproj.io/revision"
DEPLOYMENT_REVISION = "deployment.kubernetes.io/revision"
ROLLOUT_HASH_LABEL = "rollouts-pod-template-hash"
DEPLOYMENT_HASH_LABEL = "pod-template-hash"

#: Annotations ``kubectl rollout undo`` keeps from the Deployment instead of the ReplicaSet.
KUBECTL_UNDO_KEEPS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
)


class Refusal(Exception):
    """The action cannot be done on the object as it is; the message says why (and what to do).

    ``satisfied``: what the action was for is already true (an abort of a rollout that is
    aborted): nothing to send, and nothing went wrong.
    """

    def __init__(self, message: str, *, satisfied: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.satisfied = satisfied


@dataclass(frozen=True)
class KubeTarget:
    """The workload a Kubernetes write goes to."""

    context: str | None
    namespace: str
    kind: WorkloadKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Write:
    """One HTTP write and where it goes.

    ``kube`` writes name their workload, patch type and subresource; a status write may
    carry the plugin's ``fallback`` (sent to the main resource when the status
    subresource answers 404). GitLab writes name their ``project``.
    """

    request: WriteRequest
    kube: KubeTarget | None = None
    patch_type: PatchKind | None = None
    subresource: str | None = None
    fallback: WriteRequest | None = None
    project: str | None = None

    def line(self, base_url: str = "") -> str:
        """``METHOD URL  content-type  body``: one printable line, never a token."""
        return request_line(self.request, base_url)


def request_line(request: WriteRequest, base_url: str = "") -> str:
    parts = [f"{request.method} {base_url}{request.path}"]
    if request.content_type:
        parts.append(request.content_type)
    if request.body is not None:
        parts.append(body_text(request))
    return "  ".join(parts)


def body_text(request: WriteRequest) -> str:
    """The body as its client puts it on the wire: python-gitlab's ``requests`` writes JSON
    with spaces after separators, lightkube's ``httpx`` compactly."""
    if request.source is SourceName.GITLAB:
        return json.dumps(request.body)
    return compact_json(request.body)


def compact_json(body: Any) -> str:
    """JSON as httpx sends it: no spaces, keys in order, UTF-8 as is."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- reading objects


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _steps(rollout: Mapping[str, Any]) -> list[Any]:
    return list(_get(rollout, "spec", "strategy", "canary", "steps") or [])


def _is_canary(rollout: Mapping[str, Any]) -> bool:
    return _get(rollout, "spec", "strategy", "canary") is not None


def _next_step(rollout: Mapping[str, Any]) -> int:
    """``currentStepIndex + 1`` (0 when absent), capped at ``len(steps)`` as the plugin does."""
    index = _int(_get(rollout, "status", "currentStepIndex")) or 0
    return min(index + 1, len(_steps(rollout)))


# --------------------------------------------------------------------------- Argo Rollouts


def _status_write(target: KubeTarget, body: Any, fallback: Any) -> Write:
    return Write(
        request=patch_request(
            target.namespace, "Rollout", target.name, body, patch_type="merge", subresource="status"
        ),
        kube=target,
        patch_type="merge",
        subresource="status",
        fallback=patch_request(target.namespace, "Rollout", target.name, fallback),
    )


def _spec_write(target: KubeTarget, body: Any) -> Write:
    return Write(
        request=patch_request(target.namespace, "Rollout", target.name, body, patch_type="merge"),
        kube=target,
        patch_type="merge",
    )


def promote_writes(target: KubeTarget, rollout: Mapping[str, Any]) -> tuple[Write, ...]:
    """``kubectl argo rollouts promote``: the status patch (rules a–d), then the spec patch.

    Empty when the plugin would send nothing (rule d with ``spec.paused`` false).
    """
    status = rollout.get("status") or {}
    pauses = status.get("pauseConditions") or []
    spec_paused = bool(_get(rollout, "spec", "paused"))
    status_body: dict[str, Any] | None
    unified: dict[str, Any] = {"spec": {"paused": False}, "status": {"pauseConditions": None}}
    inconclusive = _get(status, "canary", "currentStepAnalysisRunStatus", "status")
    if (
        _is_canary(rollout)
        and inconclusive == "Inconclusive"
        and pauses
        and status.get("controllerPause")
    ):
        step = _next_step(rollout)  # rule a
        status_body = {
            "status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": step}
        }
        unified = {
            "spec": {"paused": False},
            "status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": step},
        }
    elif pauses:
        status_body = {"status": {"pauseConditions": None}}  # rule b
    elif _is_canary(rollout) and _steps(rollout):
        step = _next_step(rollout)  # rule c
        status_body = {"status": {"pauseConditions": None, "currentStepIndex": step}}
        unified = {
            "spec": {"paused": False},
            "status": {"pauseConditions": None, "currentStepIndex": step},
        }
    else:
        status_body = None  # rule d
    writes: list[Write] = []
    if status_body is not None:
        writes.append(_status_write(target, status_body, unified))
    if spec_paused:
        writes.append(_spec_write(target, {"spec": {"paused": False}}))
    return tuple(writes)


def promote_full_writes(target: KubeTarget, rollout: Mapping[str, Any]) -> tuple[Write, ...]:
    """``promote --full``: ``promoteFull`` on the status (only while the canary is not
    stable yet), and the spec un-paused if it is paused."""
    status = rollout.get("status") or {}
    writes: list[Write] = []
    if status.get("currentPodHash") != status.get("stableRS"):
        writes.append(
            _status_write(
                target,
                {"status": {"promoteFull": True}},
                {"spec": {"paused": False}, "status": {"promoteFull": True}},
            )
        )
    if _get(rollout, "spec", "paused"):
        writes.append(_spec_write(target, {"spec": {"paused": False}}))
    return tuple(writes)


def abort_writes(target: KubeTarget) -> tuple[Write, ...]:
    """``kubectl argo rollouts abort``."""
    body = {"status": {"abort": True}}
    return (_status_write(target, body, body),)


def retry_writes(target: KubeTarget) -> tuple[Write, ...]:
    """``kubectl argo rollouts retry rollout``."""
    body = {"status": {"abort": False}}
    return (_status_write(target, body, body),)


# --------------------------------------------------------------------------- undo


@dataclass(frozen=True)
class Undo:
    """An undo worked out: the write, and the revision it goes back to."""

    write: Write
    revision: int
    #: The ReplicaSet of that revision (its images and pod hash say what comes back).
    replicaset: Mapping[str, Any]


def _controlled_by(child: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    uid = _get(owner, "metadata", "uid")
    name = _get(owner, "metadata", "name")
    kind = owner.get("kind")
    for ref in _get(child, "metadata", "ownerReferences") or ():
        if not ref.get("controller", False):
            continue
        if uid and ref.get("uid") == uid:
            return True
        if not uid and ref.get("name") == name and (kind is None or ref.get("kind") == kind):
            return True
    return False


def _revision_of(rs: Mapping[str, Any], annotation: str) -> int | None:
    return _int((_get(rs, "metadata", "annotations") or {}).get(annotation))


def pick_revision(
    replicasets: Iterable[Mapping[str, Any]],
    owner: Mapping[str, Any],
    annotation: str,
    to_revision: int = 0,
) -> tuple[Mapping[str, Any], int] | None:
    """The ReplicaSet to go back to: the exact revision, or (0) the second-highest one."""
    ranked: list[tuple[int, Mapping[str, Any]]] = []
    for rs in replicasets:
        if not _controlled_by(rs, owner):
            continue
        revision = _revision_of(rs, annotation)
        if revision is None:
            continue
        if to_revision and revision == to_revision:
            return rs, revision
        ranked.append((revision, rs))
    if to_revision or len(ranked) < 2:
        return None
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    revision, rs = ranked[1]
    return rs, revision


def _without_label(template: Mapping[str, Any], label: str) -> dict[str, Any]:
    copied = copy.deepcopy(dict(template))
    labels = (copied.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(label, None)
    return copied


def _pruned(value: Any) -> Any:
    """Empty and null values dropped, as the API's semantic equality ignores them."""
    if isinstance(value, Mapping):
        pruned = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list | tuple):
        return [_pruned(v) for v in value]
    return value


def templates_equal(a: Mapping[str, Any], b: Mapping[str, Any], hash_label: str) -> bool:
    """Pod templates equal ignoring the pod-template-hash label (kubectl's equalIgnoreHash)."""
    return bool(_pruned(_without_label(a, hash_label)) == _pruned(_without_label(b, hash_label)))


def _no_history(kind: str, name: str) -> Refusal:
    return Refusal(
        f"no rollout history found for {kind.lower()} {name!r}: there is no earlier revision "
        "to go back to"
    )


def rollout_undo(
    target: KubeTarget,
    rollout: Mapping[str, Any],
    replicasets: Sequence[Mapping[str, Any]],
    to_revision: int = 0,
) -> Undo:
    """``kubectl argo rollouts undo``: replace ``/spec/template`` with an earlier revision's."""
    if _get(rollout, "spec", "workloadRef") is not None:
        raise Refusal(
            f"{target} takes its pod template from a workloadRef: undo the referenced "
            f"{_get(rollout, 'spec', 'workloadRef', 'kind') or 'workload'} instead"
        )
    picked = pick_revision(
        replicasets, {"kind": "Rollout", **rollout}, ROLLOUT_REVISION, to_revision
    )
    if picked is None:
        if to_revision:
            raise Refusal(f"unable to find specified revision {to_revision} in history")
        raise _no_history("Rollout", target.name)
    rs, revision = picked
    template = _get(rs, "spec", "template") or {}
    if templates_equal(template, _get(rollout, "spec", "template") or {}, ROLLOUT_HASH_LABEL):
        raise Refusal(f"skipped rollback (current template already matches revision {revision})")
    body = [
        {
            "op": "replace",
            "path": "/spec/template",
            "value": _without_label(template, ROLLOUT_HASH_LABEL),
        }
    ]
    write = Write(
        request=patch_request(target.namespace, "Rollout", target.name, body, patch_type="json"),
        kube=target,
        patch_type="json",
    )
    return Undo(write, revision, rs)


def deployment_undo(
    target: KubeTarget,
    deployment: Mapping[str, Any],
    replicasets: Sequence[Mapping[str, Any]],
    to_revision: int = 0,
) -> Undo:
    """``kubectl rollout undo deployment/x``: template and annotations, with its refusals."""
    picked = pick_revision(
        replicasets, {"kind": "Deployment", **deployment}, DEPLOYMENT_REVISION, to_revision
    )
    if picked is None:
        if to_revision:
            raise Refusal(f"unable to find specified revision {to_revision} in history")
        raise _no_history("Deployment", target.name)
    rs, revision = picked
    if _get(deployment, "spec", "paused"):
        raise Refusal(
            "you cannot rollback a paused deployment; resume it first with "
            f"'kubectl rollout resume deployment/{target.name}' and try again"
        )
    template = _get(rs, "spec", "template") or {}
    if templates_equal(template, _get(deployment, "spec", "template") or {}, DEPLOYMENT_HASH_LABEL):
        raise Refusal(f"skipped rollback (current template already matches revision {revision})")
    own = _get(deployment, "metadata", "annotations") or {}
    annotations = {key: own[key] for key in KUBECTL_UNDO_KEEPS if key in own}
    for key, value in (_get(rs, "metadata", "annotations") or {}).items():
        if key not in KUBECTL_UNDO_KEEPS:
            annotations[key] = value
    body = [
        {
            "op": "replace",
            "path": "/spec/template",
            "value": _without_label(template, DEPLOYMENT_HASH_LABEL),
        },
        # Go's encoding/json writes map keys sorted.
        {
            "op": "replace",
            "path": "/metadata/annotations",
            "value": dict(sorted(annotations.items())),
        },
    ]
    write = Write(
        request=patch_request(target.namespace, "Deployment", target.name, body, patch_type="json"),
        kube=target,
        patch_type="json",
    )
    return Undo(write, revision, rs)


def selector_labels(workload: Mapping[str, Any]) -> dict[str, str]:
    """``spec.selector.matchLabels``: how the plugin and kubectl find the ReplicaSets."""
    return dict(_get(workload, "spec", "selector", "matchLabels") or {})


# --------------------------------------------------------------------------- GitLab


def _as_sent(request: WriteRequest) -> WriteRequest:
    """A parameterless GitLab POST as python-gitlab puts it on the wire: ``{}`` as JSON."""
    return replace(request, body={}, content_type="application/json")


def job_write(project: str, job_id: int, action: Literal["play", "retry", "cancel"]) -> Write:
    return Write(request=_as_sent(job_action_request(project, job_id, action)), project=project)


def redeploy_write(project: str, deployment: Deployment) -> Write:
    return Write(request=_as_sent(redeploy_request(project, deployment)), project=project)


def flag_write(project: str, name: str, active: bool) -> Write:
    return Write(request=feature_flag_request(project, name, active), project=project)
