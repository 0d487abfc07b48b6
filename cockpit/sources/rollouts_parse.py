"""Kubernetes objects → :class:`cockpit.model.Rollout`, with no I/O (Argo Rollouts' pkg/apis/rollouts/v1alpha1/types.go and kubectl's rollout status).

A Rollout with its ReplicaSets and AnalysisRuns is read exactly as the Argo Rollouts
kubectl plugin reads it (``kubectl argo rollouts get rollout``): the client-side
``GetRolloutPhase`` rules (falling back to the controller's ``CalculateRolloutPhase`` for
objects written before ``status.phase`` existed), steps rendered like
``CanaryStepString``, SetWeight and ActualWeight by the plugin's rules, and revisions with
their role (stable, canary, active, preview, old). A Deployment with its ReplicaSets
becomes a rolling ``Rollout`` whose phase follows ``kubectl rollout status``.

Objects are plain dicts as the API serves them (YAML fixtures may carry datetimes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from cockpit.model import (
    AnalysisMetric,
    AnalysisRun,
    Measurement,
    Revision,
    Rollout,
    RolloutStep,
    Strategy,
)
from cockpit.sources.timestamps import parse_timestamp

JSON = Mapping[str, Any]

ROLLOUT_REVISION = "rollout.argoproj.io/revision"
DEPLOYMENT_REVISION = "deployment.kubernetes.io/revision"
ROLLOUT_HASH_LABEL = "rollouts-pod-template-hash"
DEPLOYMENT_HASH_LABEL = "pod-template-hash"


# --------------------------------------------------------------------------- small readers


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _int(value: Any, default: int = 0) -> int:
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _images(template: Any) -> tuple[str, ...]:
    containers = _get(template, "spec", "containers") or ()
    return tuple(str(c["image"]) for c in containers if isinstance(c, Mapping) and c.get("image"))


def _owned_by(child: JSON, owner: JSON, kind: str) -> bool:
    uid = _get(owner, "metadata", "uid")
    name = _get(owner, "metadata", "name")
    for ref in _get(child, "metadata", "ownerReferences") or ():
        if uid and ref.get("uid") == uid:
            return True
        if not uid and ref.get("kind") == kind and ref.get("name") == name:
            return True
    return False


def owned(children: Iterable[JSON], owner: JSON, kind: str) -> list[JSON]:
    """The objects among ``children`` whose ownerReferences point at ``owner``."""
    return [c for c in children if _owned_by(c, owner, kind)]


_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(value: Any) -> float | None:
    """A pause duration: an int or unit-less string is seconds; else a Go duration (``1m30s``)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


# --------------------------------------------------------------------------- steps


def parse_step(index: int, step: JSON) -> RolloutStep:
    """One canary step, its text as the plugin's ``CanaryStepString`` renders it."""
    if step.get("setWeight") is not None:
        weight = _int(step["setWeight"])
        return RolloutStep(index, "setWeight", f"setWeight: {weight}", weight=weight)
    if "pause" in step:
        raw = _get(step, "pause", "duration")
        text = "pause" if raw is None else f"pause: {raw}"
        return RolloutStep(index, "pause", text, duration=duration_seconds(raw))
    if "experiment" in step:
        return RolloutStep(index, "experiment", "experiment")
    if "analysis" in step:
        return RolloutStep(index, "analysis", "analysis")
    if "setCanaryScale" in step:
        scale = step.get("setCanaryScale") or {}
        if scale.get("weight") is not None:
            text = f"setCanaryScale{{weight: {_int(scale['weight'])}}}"
        elif scale.get("matchTrafficWeight"):
            text = "setCanaryScale{matchTrafficWeight: true}"
        elif scale.get("replicas") is not None:
            text = f"setCanaryScale{{replicas: {_int(scale['replicas'])}}}"
        else:
            text = "invalid"
        return RolloutStep(index, "setCanaryScale", text)
    for kind in ("setHeaderRoute", "setMirrorRoute", "plugin"):
        if kind in step:
            name = _get(step, kind, "name") or ""
            return RolloutStep(index, kind, f"{kind}: {name}".rstrip(": "))
    return RolloutStep(index, "invalid", "invalid")


# --------------------------------------------------------------------------- analysis runs


def parse_analysis_run(obj: JSON) -> AnalysisRun:
    """An AnalysisRun: run phase, and each metric with its counters and measurements.

    Metrics named in the spec (``spec.metrics``, or ``spec.analysisSpec.metrics`` in
    older objects) that have no result yet appear as Pending.
    """
    status = obj.get("status") or {}
    labels = _get(obj, "metadata", "labels") or {}
    results = {r.get("name"): r for r in status.get("metricResults") or ()}
    spec_metrics = _get(obj, "spec", "metrics") or _get(obj, "spec", "analysisSpec", "metrics")
    names = [m.get("name") for m in spec_metrics or ()]
    names += [n for n in results if n not in names]
    metrics = []
    for name in names:
        result = results.get(name) or {}
        measurements = tuple(
            Measurement(
                phase=str(m.get("phase") or "Pending"),
                value=None if m.get("value") is None else str(m["value"]),
                started_at=parse_timestamp(m.get("startedAt")),
                finished_at=parse_timestamp(m.get("finishedAt")),
                message=m.get("message"),
            )
            for m in result.get("measurements") or ()
        )
        metrics.append(
            AnalysisMetric(
                name=str(name),
                phase=str(result.get("phase") or "Pending"),
                count=_int(result.get("count")),
                successful=_int(result.get("successful")),
                failed=_int(result.get("failed")),
                inconclusive=_int(result.get("inconclusive")),
                error=_int(result.get("error")),
                message=result.get("message"),
                measurements=measurements,
            )
        )
    step = labels.get("step-index")
    return AnalysisRun(
        name=str(_get(obj, "metadata", "name") or ""),
        phase=str(status.get("phase") or "Pending"),
        message=status.get("message"),
        rollout_type=labels.get("rollout-type"),
        step_index=_int(step) if step is not None else None,
        pod_hash=labels.get(ROLLOUT_HASH_LABEL),
        started_at=parse_timestamp(status.get("startedAt"))
        or parse_timestamp(_get(obj, "metadata", "creationTimestamp")),
        completed_at=parse_timestamp(status.get("completedAt")),
        metrics=tuple(metrics),
    )


# --------------------------------------------------------------------------- phase


def _conditions(status: JSON) -> list[JSON]:
    return [c for c in status.get("conditions") or () if isinstance(c, Mapping)]


def _generation_observed(obj: JSON) -> bool:
    """``isGenerationObserved``: a hash (v0.9) or a newer observed generation counts as seen."""
    observed = _get(obj, "status", "observedGeneration")
    try:
        observed_number = int(str(observed))
    except ValueError:
        return True
    return observed_number >= _int(_get(obj, "metadata", "generation"))


def calculate_rollout_phase(obj: JSON) -> tuple[str, str]:
    """The controller's ``CalculateRolloutPhase`` (for objects without ``status.phase``)."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    for condition in _conditions(status):
        if condition.get("type") == "InvalidSpec":
            return "Degraded", f"InvalidSpec: {condition.get('message', '')}"
        if condition.get("reason") in ("RolloutAborted", "ProgressDeadlineExceeded"):
            return "Degraded", f"{condition['reason']}: {condition.get('message', '')}"
    if spec.get("paused"):
        return "Paused", "manually paused"
    for pause in status.get("pauseConditions") or ():
        return "Paused", str(pause.get("reason") or "")
    restart_at = parse_timestamp(spec.get("restartAt"))
    if restart_at is not None and restart_at != parse_timestamp(status.get("restartedAt")):
        return "Progressing", "rollout is restarting"
    updated = _int(status.get("updatedReplicas"))
    if updated < _int(spec.get("replicas"), 1):
        return "Progressing", "more replicas need to be updated"
    if _int(status.get("availableReplicas")) < updated:
        return "Progressing", "updated replicas are still becoming available"
    current = status.get("currentPodHash") or ""
    stable = _stable_hash(status) or ""
    blue_green = _get(spec, "strategy", "blueGreen")
    if blue_green is not None:
        active = _get(status, "blueGreen", "activeSelector") or ""
        if not active or active != current:
            return "Progressing", "active service cutover pending"
        if not stable or stable != current:
            post = _get(status, "blueGreen", "postPromotionAnalysisRunStatus", "status")
            if blue_green.get("postPromotionAnalysis") is not None and post not in (
                "Successful",
                "Failed",
                "Error",
                "Inconclusive",
            ):
                return "Progressing", "waiting for analysis to complete"
            return "Progressing", "waiting for post-promotion verification to complete"
    elif _get(spec, "strategy", "canary") is not None:
        no_routing = _get(spec, "strategy", "canary", "trafficRouting") is None
        if no_routing and _int(status.get("replicas")) > updated:
            return "Progressing", "old replicas are pending termination"
        if not stable or stable != current:
            return "Progressing", "waiting for all steps to complete"
    return "Healthy", ""


def rollout_phase(obj: JSON) -> tuple[str, str]:
    """The plugin's ``GetRolloutPhase``: generation and unpausing checks, then the phase."""
    status = obj.get("status") or {}
    if not _generation_observed(obj):
        return "Progressing", "waiting for rollout spec update to be observed"
    if status.get("controllerPause") and not status.get("pauseConditions"):
        return "Progressing", "waiting for rollout to unpause"
    workload_generation = _get(
        obj, "metadata", "annotations", "rollout.argoproj.io/workload-generation"
    )
    observed_workload = status.get("workloadObservedGeneration")
    if (
        _get(obj, "spec", "workloadRef") is not None
        and workload_generation is not None
        and observed_workload not in (None, "")
        and str(observed_workload).isdigit()
        and int(str(observed_workload)) != _int(workload_generation)
    ):
        return (
            "Progressing",
            "waiting for rollout spec update to be observed for the reference workload",
        )
    if status.get("phase"):
        return str(status["phase"]), str(status.get("message") or "")
    return calculate_rollout_phase(obj)


def _stable_hash(status: JSON) -> str | None:
    """``status.stableRS``; objects from v0.9 and older kept it in ``status.canary.stableRS``."""
    return status.get("stableRS") or _get(status, "canary", "stableRS") or None


# --------------------------------------------------------------------------- revisions


def _rs_hash(rs: JSON) -> str | None:
    labels = _get(rs, "metadata", "labels") or {}
    return labels.get(ROLLOUT_HASH_LABEL) or labels.get(DEPLOYMENT_HASH_LABEL)


def _rs_revision(rs: JSON) -> int:
    annotations = _get(rs, "metadata", "annotations") or {}
    return _int(annotations.get(ROLLOUT_REVISION) or annotations.get(DEPLOYMENT_REVISION))


def parse_revision(rs: JSON, role: str = "old") -> Revision:
    """One ReplicaSet as a revision: number, pod hash, images, replica counts."""
    status = rs.get("status") or {}
    return Revision(
        number=_rs_revision(rs),
        pod_hash=_rs_hash(rs) or "",
        images=_images(_get(rs, "spec", "template")),
        created_at=parse_timestamp(_get(rs, "metadata", "creationTimestamp")),
        replicas=_int(status.get("replicas")),
        ready=_int(status.get("readyReplicas")),
        role=role,
    )


def _rollout_role(rs_hash: str | None, strategy: Strategy, status: JSON) -> str:
    stable = _stable_hash(status)
    if strategy is Strategy.BLUEGREEN:
        if rs_hash and rs_hash == _get(status, "blueGreen", "activeSelector"):
            return "active"
        if rs_hash and rs_hash == _get(status, "blueGreen", "previewSelector"):
            return "preview"
        return "stable" if rs_hash and rs_hash == stable else "old"
    if rs_hash and rs_hash == stable:
        return "stable"
    if rs_hash and rs_hash == status.get("currentPodHash"):
        return "canary"
    return "old"


def _sorted_revisions(revisions: Iterable[tuple[Revision, JSON]]) -> list[tuple[Revision, JSON]]:
    return sorted(revisions, key=lambda pair: (-pair[0].number, pair[0].pod_hash))


# --------------------------------------------------------------------------- weights


def current_step_index(obj: JSON) -> int | None:
    value = _get(obj, "status", "currentStepIndex")
    return None if value is None else _int(value)


def set_weight(obj: JSON) -> int:
    """``GetCurrentSetWeight``: 0 when aborted, 100 past the last step, else the last setWeight."""
    if _get(obj, "status", "abort"):
        return 0
    steps = _get(obj, "spec", "strategy", "canary", "steps") or []
    index = current_step_index(obj) or 0
    if not steps or index >= len(steps):
        return 100
    for step in reversed(steps[: index + 1]):
        if step.get("setWeight") is not None:
            return _int(step["setWeight"])
    return 0


def actual_weight(obj: JSON, replicasets: Sequence[JSON]) -> int:
    """The plugin's ActualWeight: what share of traffic the canary really gets."""
    steps = _get(obj, "spec", "strategy", "canary", "steps") or []
    index = current_step_index(obj) or 0
    if not steps or index >= len(steps):
        return 100
    status = obj.get("status") or {}
    available = _int(status.get("availableReplicas"))
    if available <= 0:
        return 0
    if _get(obj, "spec", "strategy", "canary", "trafficRouting") is None:
        weight = 0
        for rs in replicasets:
            if _rollout_role(_rs_hash(rs), Strategy.CANARY, status) == "canary":
                weight = _int(_get(rs, "status", "availableReplicas")) * 100 // available
        return weight
    weights = _get(status, "canary", "weights")
    if weights is not None:
        return _int(_get(weights, "canary", "weight"))
    return set_weight(obj)


# --------------------------------------------------------------------------- the Rollout


def _pause_end(
    strategy: Strategy,
    spec: JSON,
    steps: Sequence[RolloutStep],
    step_index: int | None,
    conditions: Sequence[JSON],
) -> datetime | None:
    """When the current timed pause ends (canary pause step, or blue-green auto-promotion)."""
    for condition in conditions:
        started = parse_timestamp(condition.get("startTime"))
        if started is None:
            continue
        reason = condition.get("reason")
        if reason == "CanaryPauseStep" and step_index is not None and step_index < len(steps):
            duration = steps[step_index].duration
            if steps[step_index].kind == "pause" and duration is not None:
                return started + timedelta(seconds=duration)
        if reason == "BlueGreenPause" and strategy is Strategy.BLUEGREEN:
            blue_green = _get(spec, "strategy", "blueGreen") or {}
            delay = _int(blue_green.get("autoPromotionSeconds"))
            if blue_green.get("autoPromotionEnabled", True) and delay > 0:
                return started + timedelta(seconds=delay)
    return None


def parse_rollout(
    obj: JSON, replicasets: Iterable[JSON] = (), analysisruns: Iterable[JSON] = ()
) -> Rollout:
    """An Argo Rollout as ``kubectl argo rollouts get rollout`` shows it.

    ``replicasets`` and ``analysisruns`` may hold every object of the namespace: only
    those owned by this Rollout are used.
    """
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    metadata = obj.get("metadata") or {}
    strategy = (
        Strategy.BLUEGREEN if _get(spec, "strategy", "blueGreen") is not None else Strategy.CANARY
    )
    own_rs = owned(replicasets, obj, "Rollout")
    revisions = _sorted_revisions(
        (parse_revision(rs, _rollout_role(_rs_hash(rs), strategy, status)), rs) for rs in own_rs
    )
    runs = sorted(
        (parse_analysis_run(a) for a in owned(analysisruns, obj, "Rollout")),
        key=lambda run: (run.started_at is not None, run.started_at, run.name),
        reverse=True,
    )
    phase, message = rollout_phase(obj)
    raw_steps = _get(spec, "strategy", "canary", "steps") or []
    steps = tuple(parse_step(i, s) for i, s in enumerate(raw_steps))
    step_index = current_step_index(obj) if strategy is Strategy.CANARY and steps else None
    conditions = [c for c in status.get("pauseConditions") or () if isinstance(c, Mapping)]
    pause_starts = [t for t in (parse_timestamp(c.get("startTime")) for c in conditions) if t]
    stable = _stable_hash(status)
    stable_images = next((r.images for r, _ in revisions if r.pod_hash == stable), ())
    is_canary = strategy is Strategy.CANARY
    return Rollout(
        kind="Rollout",
        name=str(metadata.get("name") or ""),
        namespace=str(metadata.get("namespace") or ""),
        strategy=strategy,
        phase=phase,
        message=message,
        generation=_int(metadata.get("generation")) if metadata.get("generation") else None,
        step_index=step_index,
        steps=steps,
        set_weight=set_weight(obj) if is_canary else 0,
        actual_weight=actual_weight(obj, own_rs) if is_canary else 0,
        paused=bool(spec.get("paused")) or bool(conditions),
        pause_reasons=tuple(str(c.get("reason")) for c in conditions if c.get("reason")),
        paused_at=min(pause_starts) if pause_starts else None,
        pause_ends_at=_pause_end(strategy, spec, steps, step_index, conditions),
        aborted=bool(status.get("abort")),
        aborted_at=parse_timestamp(status.get("abortedAt")),
        stable_hash=stable,
        current_hash=status.get("currentPodHash") or None,
        active_selector=_get(status, "blueGreen", "activeSelector") or None,
        preview_selector=_get(status, "blueGreen", "previewSelector") or None,
        revision=_int(_get(metadata, "annotations", ROLLOUT_REVISION)) or None,
        images=_images(spec.get("template")),
        stable_images=stable_images,
        replicas=_int(spec.get("replicas"), 1),
        current_replicas=_int(status.get("replicas")),
        updated_replicas=_int(status.get("updatedReplicas")),
        ready_replicas=_int(status.get("readyReplicas")),
        available_replicas=_int(status.get("availableReplicas")),
        revisions=tuple(r for r, _ in revisions),
        analysis_runs=tuple(runs),
    )


def image_tags(rollout: Rollout) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Running images with the plugin's tags (``canary``, ``stable``, ``active``, ``preview``).

    Like the plugin's ``Images:`` lines: only revisions with replicas count, tags merge
    per image (in the plugin's order: canary, stable, active, preview), images are
    sorted by name.
    """
    order = ("canary", "stable", "active", "preview")
    tags: dict[str, set[str]] = {}
    for revision in rollout.revisions:
        if revision.replicas <= 0:
            continue
        labels: set[str] = set()
        if rollout.strategy is Strategy.BLUEGREEN:
            if revision.pod_hash == rollout.stable_hash:
                labels.add("stable")
            if revision.pod_hash == rollout.active_selector:
                labels.add("active")
            elif revision.pod_hash == rollout.preview_selector:
                labels.add("preview")
        elif revision.role in ("stable", "canary"):
            labels.add(revision.role)
        for image in revision.images:
            tags.setdefault(image, set()).update(labels)
    return tuple(
        (image, tuple(tag for tag in order if tag in tags[image])) for image in sorted(tags)
    )


# --------------------------------------------------------------------------- Deployments


def deployment_phase(obj: JSON) -> tuple[str, str]:
    """``kubectl rollout status`` for a Deployment, in its decision order (kubectl, pkg/polymorphichelpers/rollout_status.go)."""
    name = _get(obj, "metadata", "name") or ""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if _int(_get(obj, "metadata", "generation")) > _int(status.get("observedGeneration")):
        return "Progressing", "Waiting for deployment spec update to be observed..."
    for condition in _conditions(status):
        if (
            condition.get("type") == "Progressing"
            and condition.get("reason") == "ProgressDeadlineExceeded"
        ):
            return "Degraded", f'deployment "{name}" exceeded its progress deadline'
    updated = _int(status.get("updatedReplicas"))
    replicas = _int(status.get("replicas"))
    available = _int(status.get("availableReplicas"))
    if spec.get("replicas") is not None and updated < _int(spec["replicas"]):
        wanted = _int(spec["replicas"])
        return (
            "Progressing",
            f"{waiting}{updated} out of {wanted} new replicas have been updated...",
        )
    if replicas > updated:
        return (
            "Progressing",
            f"{waiting}{replicas - updated} old replicas are pending termination...",
        )
    if available < updated:
        return "Progressing", f"{waiting}{available} of {updated} updated replicas are available..."
    return "Healthy", f'deployment "{name}" successfully rolled out'


def parse_deployment_workload(obj: JSON, replicasets: Iterable[JSON] = ()) -> Rollout:
    """A Deployment as a rolling Rollout: kubectl's phase, its revision and its ReplicaSets.

    The newest ReplicaSet carries the current version (role ``stable`` once the rollout
    is complete, ``canary`` while it is still rolling in); while it rolls, the stable
    version is the older ReplicaSet with the most replicas.
    """
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    metadata = obj.get("metadata") or {}
    phase, message = deployment_phase(obj)
    revision = _int(_get(metadata, "annotations", DEPLOYMENT_REVISION)) or None
    own = owned(replicasets, obj, "Deployment")
    parsed = _sorted_revisions((parse_revision(rs), rs) for rs in own)
    newest = next((r for r, _ in parsed if revision is not None and r.number == revision), None)
    if newest is None and parsed:
        newest = parsed[0][0]
    complete = phase == "Healthy"
    older = [r for r, _ in parsed if newest is None or r.pod_hash != newest.pod_hash]
    serving = max(older, key=lambda r: (r.replicas, r.number), default=None)
    stable = newest if complete or serving is None or serving.replicas == 0 else serving
    revisions = []
    for rev, _ in parsed:
        if newest is not None and rev.pod_hash == newest.pod_hash:
            role = "stable" if stable is newest else "canary"
        elif stable is not None and rev.pod_hash == stable.pod_hash:
            role = "stable"
        else:
            role = "old"
        revisions.append(replace(rev, role=role))
    conditions = _conditions(status)
    paused = bool(spec.get("paused"))
    paused_since = next(
        (
            parse_timestamp(c.get("lastUpdateTime"))
            for c in conditions
            if c.get("reason") == "DeploymentPaused"
        ),
        None,
    )
    return Rollout(
        kind="Deployment",
        name=str(metadata.get("name") or ""),
        namespace=str(metadata.get("namespace") or ""),
        strategy=Strategy.ROLLING,
        phase=phase,
        message=message,
        generation=_int(metadata.get("generation")) if metadata.get("generation") else None,
        paused=paused,
        pause_reasons=("DeploymentPaused",) if paused else (),
        paused_at=paused_since if paused else None,
        stable_hash=stable.pod_hash if stable else None,
        current_hash=newest.pod_hash if newest else None,
        revision=revision,
        images=_images(spec.get("template")),
        stable_images=stable.images if stable else (),
        replicas=_int(spec.get("replicas"), 1),
        current_replicas=_int(status.get("replicas")),
        updated_replicas=_int(status.get("updatedReplicas")),
        ready_replicas=_int(status.get("readyReplicas")),
        available_replicas=_int(status.get("availableReplicas")),
        revisions=tuple(revisions),
    )
