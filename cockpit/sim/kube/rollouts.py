"""The Argo Rollouts controller of the simulated cluster: canary and blue-green.

One :meth:`Rollouts.sync` reconciles one Rollout the way ``rollout/canary.go`` and
``rollout/bluegreen.go`` do (argo-rollouts; the rules are cited where they matter), then repeats until nothing changes, as the real controller re-queues itself
after each status write. It returns the next instant at which time alone would change
something (a pod becoming ready, a pause or scale-down delay expiring, a measurement
falling due), so an idle cluster costs nothing.

Canary rollouts use traffic routing, so ``status.canary.weights`` exist: a
``setWeight`` step scales the canary ReplicaSet to ``ceil(weight × replicas)`` and moves
the weight once those pods are available. Pause steps add a ``CanaryPauseStep`` pause
condition; the plugin's promote clears ``pauseConditions`` and the controller, seeing
``controllerPause`` with no condition, completes the step. Analysis runs come from the
``success-rate`` AnalysisTemplate. Blue-green rollouts bring the new ReplicaSet up
behind the preview service, pause with ``BlueGreenPause``, and switch the active
service on promote.
"""

from __future__ import annotations

import copy
import math
from datetime import datetime, timedelta

from cockpit.sim.clock import rfc3339
from cockpit.sim.kube import objects
from cockpit.sim.kube.analysis import COMPLETED, AnalysisRuns, new_run
from cockpit.sim.kube.hashing import short_hash
from cockpit.sim.kube.index import OwnerIndex
from cockpit.sim.kube.objects import (
    ROLLOUT_HASH_LABEL,
    ROLLOUT_REVISION,
    SCALE_DOWN_DEADLINE,
    Obj,
    condition,
    parse_time,
    set_condition,
)
from cockpit.sim.kube.pods import ReplicaSets, restart_pods
from cockpit.sim.kube.store import (
    ANALYSIS_RUN,
    ANALYSIS_TEMPLATE,
    REPLICASET,
    ROLLOUT,
    SERVICE,
    ObjectStore,
)

#: Argo's defaults (utils/defaults/defaults.go).
SCALE_DOWN_DELAY_SECONDS = 30
ABORT_SCALE_DOWN_DELAY_SECONDS = 30
MAX_TRAFFIC_WEIGHT = 100
PROGRESS_DEADLINE_SECONDS = 600
#: Finished AnalysisRuns kept per outcome (successfulRunHistoryLimit / unsuccessful...).
ANALYSIS_HISTORY_LIMIT = 5
#: A sync repeats until a pass writes nothing; this bounds a runaway loop.
MAX_PASSES = 12

PAUSE_CANARY = "CanaryPauseStep"
PAUSE_BLUEGREEN = "BlueGreenPause"
PAUSE_INCONCLUSIVE = "InconclusiveAnalysisRun"


# --------------------------------------------------------------------------- pure rules


def step_hash(steps: list[Obj]) -> str:
    """``ComputeStepHash``: editing the steps resets progress."""
    return short_hash(steps)


def set_weight_at(steps: list[Obj], index: int) -> int:
    """``GetCurrentSetWeight`` without abort: the nearest setWeight at or before index."""
    if index >= len(steps):
        return MAX_TRAFFIC_WEIGHT
    for step in reversed(steps[: index + 1]):
        if "setWeight" in step:
            return int(step["setWeight"])
    return 0


def set_weight_before(steps: list[Obj], index: int) -> int:
    """The weight of the last setWeight step before index (traffic while scaling up)."""
    for step in reversed(steps[: max(min(index, len(steps)), 0)]):
        if "setWeight" in step:
            return int(step["setWeight"])
    return 0


def canary_replicas(replicas: int, weight: int) -> int:
    """``trafficWeightToReplicas``: ceil(replicas × weight / 100)."""
    return math.ceil(replicas * weight / MAX_TRAFFIC_WEIGHT)


def calculate_phase(spec: Obj, status: Obj) -> tuple[str, str]:
    """``CalculateRolloutPhase`` (argo-rollouts ``utils/rollout/rolloututil.go``), first
    match wins."""
    for item in status.get("conditions") or []:
        if item.get("type") == "InvalidSpec":
            return "Degraded", f"InvalidSpec: {item.get('message', '')}"
        if item.get("reason") in ("RolloutAborted", "ProgressDeadlineExceeded"):
            return "Degraded", f"{item['reason']}: {item.get('message', '')}"
    if spec.get("paused"):
        return "Paused", "manually paused"
    for pause in status.get("pauseConditions") or []:
        return "Paused", str(pause.get("reason", ""))
    restart_at = spec.get("restartAt")
    if restart_at and restart_at != status.get("restartedAt"):
        return "Progressing", "rollout is restarting"
    replicas = int(spec.get("replicas", 1))
    if status.get("updatedReplicas", 0) < replicas:
        return "Progressing", "more replicas need to be updated"
    if status.get("availableReplicas", 0) < status.get("updatedReplicas", 0):
        return "Progressing", "updated replicas are still becoming available"
    strategy = spec.get("strategy") or {}
    stable, current = status.get("stableRS", ""), status.get("currentPodHash", "")
    if "blueGreen" in strategy:
        active = (status.get("blueGreen") or {}).get("activeSelector", "")
        if not active or active != current:
            return "Progressing", "active service cutover pending"
        if not stable or stable != current:
            return "Progressing", "waiting for post-promotion verification to complete"
    elif "canary" in strategy:
        if "trafficRouting" not in strategy["canary"] and status.get("replicas", 0) > status.get(
            "updatedReplicas", 0
        ):
            return "Progressing", "old replicas are pending termination"
        if not stable or stable != current:
            return "Progressing", "waiting for all steps to complete"
    return "Healthy", ""


def _int_field(status: Obj, key: str) -> int:
    return int(status.get(key) or 0)


def made_progress(strategy: Obj, old: Obj, new: Obj) -> bool:
    """``RolloutProgressing``: pods moved, the stable changed, or the step index moved."""
    specific = False
    if "blueGreen" in strategy:
        old_bg, new_bg = old.get("blueGreen") or {}, new.get("blueGreen") or {}
        specific = old_bg.get("activeSelector") != new_bg.get("activeSelector") or old_bg.get(
            "previewSelector"
        ) != new_bg.get("previewSelector")
    if "canary" in strategy:
        index_moved = (
            "currentStepIndex" in old
            and "currentStepIndex" in new
            and old["currentStepIndex"] != new["currentStepIndex"]
        )
        specific = (
            old.get("stableRS") != new.get("stableRS")
            or index_moved
            or old.get("currentStepHash") != new.get("currentStepHash")
        )
    old_old = _int_field(old, "replicas") - _int_field(old, "updatedReplicas")
    new_old = _int_field(new, "replicas") - _int_field(new, "updatedReplicas")
    return (
        _int_field(new, "updatedReplicas") != _int_field(old, "updatedReplicas")
        or new_old < old_old
        or _int_field(new, "readyReplicas") > _int_field(old, "readyReplicas")
        or _int_field(new, "availableReplicas") > _int_field(old, "availableReplicas")
        or specific
    )


def rollout_healthy(rollout: Obj, new: Obj) -> bool:
    """``RolloutHealthy``: all replicas updated and available, strategy complete."""
    spec, old = rollout["spec"], rollout.get("status") or {}
    replicas = int(spec.get("replicas", 1))
    strategy = spec.get("strategy") or {}
    completed = True
    current = new.get("currentPodHash", "")
    if "blueGreen" in strategy:
        bg = new.get("blueGreen") or {}
        completed = bg.get("activeSelector") == current and (
            not strategy["blueGreen"].get("previewService") or bg.get("previewSelector") == current
        )
    if "canary" in strategy:
        steps = strategy["canary"].get("steps") or []
        all_steps = not steps or new.get("currentStepIndex") == len(steps)
        stable = new.get("stableRS", "")
        completed = (
            all_steps and bool(stable) and stable == current and new.get("replicas", 0) == replicas
        )
    return (
        new.get("updatedReplicas", 0) == replicas
        and new.get("availableReplicas", 0) == replicas
        and old.get("observedGeneration") == str(rollout["metadata"].get("generation", 1))
        and completed
    )


# --------------------------------------------------------------------------- controller


class Rollouts:
    """Reconciles Rollouts, their ReplicaSets, services and AnalysisRuns."""

    def __init__(
        self,
        store: ObjectStore,
        index: OwnerIndex,
        replicasets: ReplicaSets,
        analysis: AnalysisRuns,
    ) -> None:
        self.store = store
        self.index = index
        self.replicasets = replicasets
        self.analysis = analysis

    def sync(self, namespace: str, name: str, now: datetime) -> datetime | None:
        wake: datetime | None = None
        for _ in range(MAX_PASSES):
            before = self.store.resource_version
            wake = _Pass(self, namespace, name, now).run()
            if self.store.resource_version == before:
                break
        return wake


class _Pass:
    """One reconciliation of one Rollout (what one run of Argo's ``syncHandler`` does)."""

    def __init__(self, controller: Rollouts, namespace: str, name: str, now: datetime) -> None:
        self.c = controller
        self.store = controller.store
        self.namespace = namespace
        self.name = name
        self.now = now
        self.wake: datetime | None = None

    # ------------------------------------------------------------------ helpers

    def _wake_at(self, moment: datetime | None) -> None:
        if moment is not None and (self.wake is None or moment < self.wake):
            self.wake = moment

    def _replicasets(self) -> dict[str, Obj]:
        names = self.c.index.children(self.namespace, "Rollout", self.name, "ReplicaSet")
        found = {}
        for name in names:
            rs = self.store.find(REPLICASET, self.namespace, name)
            if rs is not None:
                found[rs["metadata"]["labels"].get(ROLLOUT_HASH_LABEL, name)] = rs
        return found

    def _scale(self, rs: Obj, replicas: int) -> Obj:
        """Set a ReplicaSet's replicas (and the desired-replicas annotation)."""
        changed = rs["spec"].get("replicas") != replicas
        notes = objects.annotations(rs)
        desired = str(self.rollout["spec"].get("replicas", 1))
        if notes.get(objects.ROLLOUT_DESIRED_REPLICAS) != desired:
            notes[objects.ROLLOUT_DESIRED_REPLICAS] = desired
            changed = True
        if SCALE_DOWN_DEADLINE in notes:
            del notes[SCALE_DOWN_DEADLINE]  # removeScaleDownDeadlines / a full scale-down
            changed = True
        if not changed:
            return rs
        rs["spec"]["replicas"] = replicas
        self.scaled = True
        return self.store.replace(REPLICASET, rs)

    def _scale_down_later(self, rs: Obj, delay: int) -> Obj:
        """Argo's scale-down deadline annotation: keep the pods until it passes."""
        if rs["spec"].get("replicas", 0) == 0:
            return rs
        notes = objects.annotations(rs)
        deadline = parse_time(notes.get(SCALE_DOWN_DEADLINE))
        if deadline is None:
            deadline = objects.whole_seconds(self.now) + timedelta(seconds=delay)
            notes[SCALE_DOWN_DEADLINE] = rfc3339(deadline)
            rs = self.store.replace(REPLICASET, rs)
        if self.now >= deadline:
            return self._scale(rs, 0)
        self._wake_at(deadline)
        return rs

    def _point_service(self, service_name: str | None, template_hash: str | None) -> None:
        if not service_name or not template_hash:
            return
        service = self.store.find(SERVICE, self.namespace, service_name)
        if service is None:
            return
        selector = service["spec"].setdefault("selector", {})
        if selector.get(ROLLOUT_HASH_LABEL) == template_hash:
            return
        selector[ROLLOUT_HASH_LABEL] = template_hash
        objects.annotations(service)[objects.MANAGED_BY_ROLLOUTS] = self.name
        self.store.replace(SERVICE, service)

    def _service_hash(self, service_name: str | None) -> str | None:
        if not service_name:
            return None
        service = self.store.find(SERVICE, self.namespace, service_name)
        if service is None:
            return None
        return (service["spec"].get("selector") or {}).get(ROLLOUT_HASH_LABEL)

    # ------------------------------------------------------------------ the pass

    def run(self) -> datetime | None:
        rollout = self.store.find(ROLLOUT, self.namespace, self.name)
        if rollout is None:
            return None
        self.rollout = rollout
        self.spec = rollout["spec"]
        self.old = rollout.get("status") or {}
        self.status: Obj = copy.deepcopy(self.old)
        self.replicas = int(self.spec.get("replicas", 1))
        self.strategy = self.spec.get("strategy") or {}
        self.scaled = False
        self.abort_message = ""
        self.desired_hash = objects.pod_template_hash(self.spec["template"])
        self.sets = self._replicasets()
        self._sync_new_replicaset()
        self._sync_runs()
        if "blueGreen" in self.strategy:
            self._bluegreen()
        else:
            self._canary()
        return self.wake

    def _sync_new_replicaset(self) -> None:
        """``getAllReplicaSetsAndSyncRevision``: find or create the desired ReplicaSet.

        A ReplicaSet found again for an older template (undo) is re-stamped with the
        next revision, and its old number goes to ``revision-history``.
        """
        new_rs = self.sets.get(self.desired_hash)
        others = [rs for key, rs in self.sets.items() if key != self.desired_hash]
        newest_other = max((objects.revision_of(rs, ROLLOUT_REVISION) for rs in others), default=0)
        if new_rs is None:
            new_rs = objects.replicaset(
                self.rollout,
                self.spec["template"],
                ROLLOUT_HASH_LABEL,
                self.desired_hash,
                ROLLOUT_REVISION,
                newest_other + 1,
                0,
                {objects.ROLLOUT_DESIRED_REPLICAS: str(self.replicas)},
                self.now,
            )
            new_rs = self.store.create(REPLICASET, new_rs)
            self.sets[self.desired_hash] = new_rs
            conditions = self.status.setdefault("conditions", [])
            objects.record_progress(
                conditions,
                "NewReplicaSetCreated",
                f'Created new replica set "{new_rs["metadata"]["name"]}"',
                self.now,
            )
        elif objects.revision_of(new_rs, ROLLOUT_REVISION) <= newest_other:
            notes = objects.annotations(new_rs)
            old_revision = notes.get(ROLLOUT_REVISION, "")
            history = [r for r in notes.get(objects.ROLLOUT_REVISION_HISTORY, "").split(",") if r]
            notes[objects.ROLLOUT_REVISION_HISTORY] = ",".join([*history, old_revision])
            notes[ROLLOUT_REVISION] = str(newest_other + 1)
            new_rs = self.store.replace(REPLICASET, new_rs)
            self.sets[self.desired_hash] = new_rs
        self.new_rs = new_rs
        revision = new_rs["metadata"]["annotations"][ROLLOUT_REVISION]
        if objects.annotations(self.rollout).get(ROLLOUT_REVISION) != revision:
            objects.annotations(self.rollout)[ROLLOUT_REVISION] = revision
            self.rollout = self.store.replace(ROLLOUT, self.rollout)

    # ------------------------------------------------------------------ canary

    def _canary(self) -> None:
        canary = self.strategy["canary"]
        steps: list[Obj] = canary.get("steps") or []
        status = self.status
        hashed = step_hash(steps)
        stable = status.get("stableRS", "")
        if not stable:
            # Initial deploy: the first ReplicaSet is promoted at once (shouldFullPromote).
            stable = self.desired_hash
            status["currentStepIndex"] = len(steps)
        changed = (
            status.get("currentPodHash") != self.desired_hash
            or status.get("currentStepHash") != hashed
        )
        if changed and status.get("currentPodHash"):
            self._reset_status(steps)
            if stable == self.desired_hash and steps:
                status["currentStepIndex"] = len(steps)  # rolled back to the stable: skip steps
        status["currentPodHash"] = self.desired_hash
        status["currentStepHash"] = hashed
        status["stableRS"] = stable
        if status.get("promoteFull") and stable != self.desired_hash:
            # promote --full: clear pauses, remove abort, jump to the end.
            status.pop("pauseConditions", None)
            self._remove_abort()
            status["currentStepIndex"] = len(steps)
        else:
            status.pop("promoteFull", None)
        if status.get("abort") and not status.get("abortedAt"):
            status["abortedAt"] = rfc3339(self.now)
        elif not status.get("abort"):
            self._remove_abort()  # retry: {"abort": false}
        index = int(status.get("currentStepIndex", 0))
        fully_promoted = stable == self.desired_hash
        stable_rs = self.sets.get(stable)

        self._canary_analysis(canary, steps, index, fully_promoted)
        aborted = bool(status.get("abort"))
        if aborted:
            status.pop("pauseConditions", None)
            index = len(steps) if fully_promoted else 0

        self._scale_canary(steps, index, fully_promoted, aborted, stable_rs)
        self._sync_pods()
        self._canary_services(canary, stable, aborted, fully_promoted)
        self._canary_weights(canary, steps, index, stable, aborted, fully_promoted)

        if self._promotable(steps, index, aborted):
            status["stableRS"] = self.desired_hash
            status.pop("pauseConditions", None)
            status.pop("promoteFull", None)
            self._remove_abort()
            index = len(steps)
        elif not aborted and not self.scaled:
            index = self._complete_steps(steps, index)
        if steps:
            status["currentStepIndex"] = index
        else:
            status.pop("currentStepIndex", None)
        self._restart()
        self._finish_status()

    def _reset_status(self, steps: list[Obj]) -> None:
        """``resetRolloutStatus``: a new template or new steps start over."""
        status = self.status
        for key in ("pauseConditions", "controllerPause", "promoteFull"):
            status.pop(key, None)
        self._remove_abort()
        canary = status.get("canary") or {}
        for key in ("currentStepAnalysisRunStatus", "currentBackgroundAnalysisRunStatus"):
            reference = canary.pop(key, None)
            if reference:
                self.c.analysis.terminate(self.namespace, reference["name"])
        status["canary"] = canary
        if steps:
            status["currentStepIndex"] = 0

    def _remove_abort(self) -> None:
        self.status.pop("abort", None)
        self.status.pop("abortedAt", None)

    def _add_abort(self, message: str) -> None:
        self.status["abort"] = True
        self.status.setdefault("abortedAt", rfc3339(self.now))
        self.abort_message = message

    def _add_pause(self, reason: str) -> None:
        pauses = self.status.setdefault("pauseConditions", [])
        if not any(p["reason"] == reason for p in pauses):
            pauses.append({"reason": reason, "startTime": rfc3339(self.now)})

    def _scale_canary(
        self,
        steps: list[Obj],
        index: int,
        fully_promoted: bool,
        aborted: bool,
        stable_rs: Obj | None,
    ) -> None:
        new_rs = self.new_rs
        if fully_promoted:
            self.new_rs = self._scale(new_rs, self.replicas)
        else:
            if stable_rs is not None:
                self.sets[stable_rs["metadata"]["labels"][ROLLOUT_HASH_LABEL]] = self._scale(
                    stable_rs, self.replicas
                )
            if aborted:
                delay = self.strategy["canary"].get(
                    "abortScaleDownDelaySeconds", ABORT_SCALE_DOWN_DELAY_SECONDS
                )
                self.new_rs = self._scale_down_later(new_rs, int(delay))
            else:
                weight = MAX_TRAFFIC_WEIGHT if self.status.get("promoteFull") else None
                if weight is None:
                    weight = set_weight_at(steps, index)
                self.new_rs = self._scale(new_rs, canary_replicas(self.replicas, weight))
        self.sets[self.desired_hash] = self.new_rs
        stable = self.status.get("stableRS")
        for key, rs in list(self.sets.items()):
            if key in (self.desired_hash, stable) or rs["spec"].get("replicas", 0) == 0:
                continue
            if fully_promoted or SCALE_DOWN_DEADLINE in (rs["metadata"].get("annotations") or {}):
                delay = int(
                    self.strategy["canary"].get("scaleDownDelaySeconds", SCALE_DOWN_DELAY_SECONDS)
                )
                self.sets[key] = self._scale_down_later(rs, delay)
            else:
                # An intermediate version (V1 → V2 → V3 mid-update) gets no traffic: go now.
                self.sets[key] = self._scale(rs, 0)

    def _sync_pods(self) -> None:
        self._trim_history()
        for key, rs in list(self.sets.items()):
            self._wake_at(self.c.replicasets.sync(self.namespace, rs["metadata"]["name"], self.now))
            refreshed = self.store.find(REPLICASET, self.namespace, rs["metadata"]["name"])
            if refreshed is not None:
                self.sets[key] = refreshed
        self.new_rs = self.sets[self.desired_hash]

    def _canary_services(self, canary: Obj, stable: str, aborted: bool, promoted: bool) -> None:
        self._point_service(canary.get("stableService"), stable)
        target = stable if aborted or promoted else self.desired_hash
        self._point_service(canary.get("canaryService"), target)

    def _canary_weights(
        self,
        canary: Obj,
        steps: list[Obj],
        index: int,
        stable: str,
        aborted: bool,
        fully_promoted: bool,
    ) -> None:
        """``reconcileTrafficRouting``: the weight moves once the canary pods are available."""
        if "trafficRouting" not in canary:
            (self.status.setdefault("canary", {})).pop("weights", None)
            return
        available = int((self.new_rs.get("status") or {}).get("availableReplicas", 0))
        previous = ((self.old.get("canary") or {}).get("weights") or {}).get("canary") or {}
        canary_hash = self.desired_hash
        if fully_promoted:
            weight, canary_hash = 0, stable
        elif aborted or available == 0:
            weight = 0
        elif self.status.get("promoteFull"):
            weight = int(previous.get("weight", 0))
        else:
            desired = canary_replicas(self.replicas, set_weight_at(steps, index))
            at_desired = available >= desired and self.new_rs["spec"].get("replicas") == desired
            if not at_desired:
                weight = set_weight_before(steps, index)
            elif index < len(steps):
                weight = set_weight_at(steps, index)
            else:
                weight = MAX_TRAFFIC_WEIGHT
        self.status.setdefault("canary", {})["weights"] = {
            "canary": {
                "podTemplateHash": canary_hash,
                "serviceName": canary.get("canaryService", ""),
                "weight": weight,
            },
            "stable": {
                "podTemplateHash": stable,
                "serviceName": canary.get("stableService", ""),
                "weight": MAX_TRAFFIC_WEIGHT - weight,
            },
        }

    def _promotable(self, steps: list[Obj], index: int, aborted: bool) -> bool:
        """``shouldFullPromote`` for canary: all steps done (or promote --full), pods up."""
        if aborted or self.status.get("stableRS") == self.desired_hash:
            return False
        available = int((self.new_rs.get("status") or {}).get("availableReplicas", 0))
        if available < self.replicas:
            return False
        return bool(self.status.get("promoteFull")) or not steps or index >= len(steps)

    def _complete_steps(self, steps: list[Obj], index: int) -> int:
        """``reconcileCanaryPause`` + ``completedCurrentCanaryStep`` for the current step."""
        status = self.status
        if self.spec.get("paused") or index >= len(steps):
            return index
        step = steps[index]
        was_paused_by_controller = bool(self.old.get("controllerPause"))
        pauses = status.get("pauseConditions") or []
        if "pause" in step:
            pause = next((p for p in pauses if p["reason"] == PAUSE_CANARY), None)
            if pause is None:
                if was_paused_by_controller:
                    # promote cleared pauseConditions (rule b): the pause step is done.
                    return index + 1
                self._add_pause(PAUSE_CANARY)
                pause = status["pauseConditions"][-1]
            duration = objects.duration_seconds((step["pause"] or {}).get("duration"))
            if duration is not None:
                started = parse_time(pause["startTime"])
                assert started is not None
                expires = started + timedelta(seconds=duration)
                if self.now >= expires:
                    status["pauseConditions"] = [p for p in pauses if p is not pause]
                    return index + 1
                self._wake_at(expires)
            return index
        if pauses:
            return index
        if "setWeight" in step:
            weights = (status.get("canary") or {}).get("weights") or {}
            desired = canary_replicas(self.replicas, int(step["setWeight"]))
            available = int((self.new_rs.get("status") or {}).get("availableReplicas", 0))
            at_weight = (weights.get("canary") or {}).get("weight") == int(step["setWeight"])
            if available >= desired and (
                at_weight or "trafficRouting" not in self.strategy["canary"]
            ):
                return index + 1
            return index
        if "analysis" in step:
            reference = (status.get("canary") or {}).get("currentStepAnalysisRunStatus") or {}
            if reference.get("status") == "Successful":
                status["canary"].pop("currentStepAnalysisRunStatus", None)
                return index + 1
            return index
        return index + 1  # steps the simulator does not model complete at once

    # ------------------------------------------------------------------ analysis

    def _canary_analysis(
        self, canary: Obj, steps: list[Obj], index: int, fully_promoted: bool
    ) -> None:
        """``reconcileAnalysisRuns`` for canary: background and step runs."""
        status = self.status
        refs = status.setdefault("canary", {})
        cancel = fully_promoted or bool(status.get("abort")) or bool(status.get("promoteFull"))
        if cancel:
            for key in ("currentStepAnalysisRunStatus", "currentBackgroundAnalysisRunStatus"):
                reference = refs.pop(key, None)
                if reference:
                    self.c.analysis.terminate(self.namespace, reference["name"])
                    self._wake_at(self.c.analysis.sync(self.namespace, reference["name"], self.now))
            return
        # Step analysis: only while not paused and not aborted.
        step = steps[index] if index < len(steps) else {}
        reference = refs.get("currentStepAnalysisRunStatus")
        if not status.get("pauseConditions"):
            if "analysis" in step:
                if reference and self._run_label(reference["name"], "step-index") != str(index):
                    self.c.analysis.terminate(self.namespace, reference["name"])
                    reference = None
                if reference is None:
                    reference = self._create_run(
                        step["analysis"],
                        {"rollout-type": "Step", "step-index": str(index)},
                        str(index),
                    )
                reference = self._follow_run(reference, "Step-based")
                if reference:
                    refs["currentStepAnalysisRunStatus"] = reference
            elif reference:
                self.c.analysis.terminate(self.namespace, reference["name"])
                refs.pop("currentStepAnalysisRunStatus", None)
        # Background analysis from startingStep on.
        background = canary.get("analysis")
        if not background or not background.get("templates"):
            return
        if index < int(background.get("startingStep", 0)):
            return
        reference = refs.get("currentBackgroundAnalysisRunStatus")
        if any(p["reason"] == PAUSE_INCONCLUSIVE for p in status.get("pauseConditions") or []):
            return
        inconclusive_resumed = (
            reference is not None
            and reference.get("status") == "Inconclusive"
            and self.old.get("controllerPause")
            and not status.get("pauseConditions")
        )
        if reference is None or inconclusive_resumed:
            reference = self._create_run(background, {"rollout-type": "Background"}, "")
        reference = self._follow_run(reference, "Background")
        if reference:
            refs["currentBackgroundAnalysisRunStatus"] = reference

    def _create_run(self, analysis: Obj, labels: dict[str, str], infix: str) -> Obj | None:
        templates = analysis.get("templates") or []
        template = None
        if templates:
            template = self.store.find(
                ANALYSIS_TEMPLATE, self.namespace, templates[0].get("templateName", "")
            )
        if template is None:
            return None
        revision = objects.annotations(self.rollout).get(ROLLOUT_REVISION, "1")
        name = "-".join(p for p in (self.name, self.desired_hash, revision, infix) if p)
        candidate, collisions = name, 0
        while self.store.find(ANALYSIS_RUN, self.namespace, candidate) is not None:
            collisions += 1
            candidate = f"{name}.{collisions}"
        run_labels = {
            **labels,
            ROLLOUT_HASH_LABEL: self.desired_hash,
            **self.spec["selector"]["matchLabels"],
        }
        run = new_run(
            candidate,
            self.rollout,
            template,
            analysis.get("args") or [],
            run_labels,
            revision,
            self.now,
        )
        self.store.create(ANALYSIS_RUN, run)
        self._wake_at(self.c.analysis.sync(self.namespace, candidate, self.now))
        return {"name": candidate, "status": "Pending"}

    def _run_label(self, name: str, key: str) -> str | None:
        run = self.store.find(ANALYSIS_RUN, self.namespace, name)
        return None if run is None else (run["metadata"].get("labels") or {}).get(key)

    def _sync_runs(self) -> None:
        """The AnalysisRun controller works on its own: measure every unfinished run.

        Finished runs beyond Argo's history limits (5 successful, 5 unsuccessful) that
        the rollout no longer refers to are deleted.
        """
        current = {
            reference["name"]
            for reference in (self.status.get("canary") or {}).values()
            if isinstance(reference, dict) and "name" in reference
        }
        finished: dict[bool, list[Obj]] = {True: [], False: []}
        for name in self.c.index.children(self.namespace, "Rollout", self.name, "AnalysisRun"):
            self._wake_at(self.c.analysis.sync(self.namespace, name, self.now))
            run = self.store.find(ANALYSIS_RUN, self.namespace, name)
            if run is None or name in current:
                continue
            phase = (run.get("status") or {}).get("phase")
            if phase in COMPLETED:
                finished[phase == "Successful"].append(run)
        for runs in finished.values():
            runs.sort(key=lambda r: (r["metadata"]["creationTimestamp"], r["metadata"]["name"]))
            for run in runs[:-ANALYSIS_HISTORY_LIMIT]:
                self.store.delete(ANALYSIS_RUN, self.namespace, run["metadata"]["name"])

    def _trim_history(self) -> None:
        """``reconcileRevisionHistoryLimit``: old scaled-down ReplicaSets beyond the limit go."""
        limit = int(self.spec.get("revisionHistoryLimit", 10))
        keep = {self.desired_hash, self.status.get("stableRS")}
        old = [
            (key, rs)
            for key, rs in self.sets.items()
            if key not in keep
            and rs["spec"].get("replicas", 0) == 0
            and int((rs.get("status") or {}).get("replicas", 0)) == 0
        ]
        old.sort(key=lambda item: objects.revision_of(item[1], ROLLOUT_REVISION))
        for key, rs in old[: max(len(old) - limit, 0)]:
            self.store.delete(REPLICASET, self.namespace, rs["metadata"]["name"])
            del self.sets[key]

    def _follow_run(self, reference: Obj | None, kind: str) -> Obj | None:
        """Measure the run, copy its phase into the reference, react to its verdict."""
        if reference is None:
            return None
        name = reference["name"]
        run = self.store.find(ANALYSIS_RUN, self.namespace, name)
        if run is None:
            return None
        run_status = run.get("status") or {}
        followed: Obj = {"name": name, "status": run_status.get("phase", "Pending")}
        if run_status.get("message"):
            followed["message"] = run_status["message"]
        phase = followed["status"]
        if phase == "Inconclusive":
            self._add_pause(PAUSE_INCONCLUSIVE)
        elif phase in ("Failed", "Error"):
            message = f"{kind} analysis phase error/failed"
            if run_status.get("message"):
                message += f": {run_status['message']}"
            self._add_abort(message)
        return followed

    # ------------------------------------------------------------------ blue-green

    def _bluegreen(self) -> None:
        bluegreen = self.strategy["blueGreen"]
        status = self.status
        stable = status.get("stableRS", "")
        if status.get("currentPodHash") and status["currentPodHash"] != self.desired_hash:
            for key in ("pauseConditions", "controllerPause", "promoteFull"):
                status.pop(key, None)
            self._remove_abort()
        status["currentPodHash"] = self.desired_hash
        if status.get("promoteFull"):
            status.pop("pauseConditions", None)
            self._remove_abort()
        if status.get("abort") and not status.get("abortedAt"):
            status["abortedAt"] = rfc3339(self.now)
        elif not status.get("abort"):
            self._remove_abort()
        aborted = bool(status.get("abort"))
        active_name = bluegreen["activeService"]
        preview_name = bluegreen.get("previewService")
        active_hash = self._service_hash(active_name)
        if not stable and not active_hash:
            stable = self.desired_hash  # initial deploy
        status["stableRS"] = stable

        # ReplicaSets: new and stable at full size, the rest scaled down after a delay.
        if aborted and stable != self.desired_hash:
            delay = int(bluegreen.get("abortScaleDownDelaySeconds", ABORT_SCALE_DOWN_DELAY_SECONDS))
            self.new_rs = self._scale_down_later(self.new_rs, delay)
        else:
            self.new_rs = self._scale(self.new_rs, self.replicas)
        self.sets[self.desired_hash] = self.new_rs
        for key, rs in list(self.sets.items()):
            if key == self.desired_hash:
                continue
            if key in (stable, active_hash):
                self.sets[key] = self._scale(rs, self.replicas)
            elif rs["spec"].get("replicas", 0) > 0:
                delay = int(bluegreen.get("scaleDownDelaySeconds", SCALE_DOWN_DELAY_SECONDS))
                self.sets[key] = self._scale_down_later(rs, delay)
        self._sync_pods()

        new_available = int((self.new_rs.get("status") or {}).get("availableReplicas", 0))
        ready = new_available >= self.replicas and self.new_rs["spec"].get("replicas") == (
            self.replicas
        )
        fast_tracked = (
            bool(status.get("promoteFull")) or not active_hash or active_hash == self.desired_hash
        )
        pauses = status.get("pauseConditions") or []
        pause = next((p for p in pauses if p["reason"] == PAUSE_BLUEGREEN), None)
        completed_pause = False
        if not aborted and ready and not self.spec.get("paused"):
            needs_pause = bluegreen.get("autoPromotionEnabled") is False or int(
                bluegreen.get("autoPromotionSeconds", 0)
            )
            if fast_tracked or not needs_pause:
                status["pauseConditions"] = [p for p in pauses if p is not pause]
                completed_pause = True
            elif pause is None:
                if self.old.get("controllerPause"):
                    completed_pause = True  # promote cleared pauseConditions
                else:
                    self._add_pause(PAUSE_BLUEGREEN)
            elif bluegreen.get("autoPromotionEnabled") is not False:
                started = parse_time(pause["startTime"])
                assert started is not None
                deadline = started + timedelta(seconds=int(bluegreen["autoPromotionSeconds"]))
                if self.now >= deadline:
                    status["pauseConditions"] = [p for p in pauses if p is not pause]
                    completed_pause = True
                else:
                    self._wake_at(deadline)

        # Services: preview always shows the new version; active switches on promote.
        if not self.spec.get("paused"):
            self._point_service(preview_name, self.desired_hash)
            if ready:
                target = active_hash
                if fast_tracked or completed_pause:
                    target = self.desired_hash
                if aborted:
                    target = stable
                self._point_service(active_name, target)
        active_hash = self._service_hash(active_name)
        status["blueGreen"] = {
            key: value
            for key, value in (
                ("activeSelector", active_hash),
                ("previewSelector", self._service_hash(preview_name)),
            )
            if value
        }
        if active_hash == self.desired_hash and not aborted and stable != self.desired_hash:
            status["stableRS"] = self.desired_hash  # "Completed blue-green update"
            status.pop("pauseConditions", None)
            status.pop("promoteFull", None)
        if status.get("stableRS") == self.desired_hash:
            status.pop("promoteFull", None)
        if aborted:
            status.pop("pauseConditions", None)
        self._restart()
        self._finish_status()

    # ------------------------------------------------------------------ restart

    def _restart(self) -> None:
        """``spec.restartAt``: recreate pods in place, then record ``status.restartedAt``."""
        restart_at = self.spec.get("restartAt")
        if not restart_at or restart_at == self.status.get("restartedAt"):
            return
        moment = parse_time(restart_at)
        if moment is None:
            return
        if moment > self.now:
            self._wake_at(moment)
            return
        max_unavailable = objects.scaled_value(
            (self.strategy.get("canary") or self.strategy.get("blueGreen") or {}).get(
                "maxUnavailable"
            ),
            self.replicas,
            round_up=False,
            default="25%",
        )
        names = [rs["metadata"]["name"] for rs in self.sets.values() if rs["spec"].get("replicas")]
        if restart_pods(self.c.replicasets, self.namespace, names, moment, max_unavailable):
            self.status["restartedAt"] = restart_at
        else:
            self._sync_pods()

    # ------------------------------------------------------------------ status

    def _finish_status(self) -> None:
        """Counters, conditions, phase and message; written only when something changed."""
        status = self.status
        sets = list(self.sets.values())
        rs_status = [rs.get("status") or {} for rs in sets]
        new_status = self.new_rs.get("status") or {}
        status["replicas"] = sum(int(s.get("replicas", 0)) for s in rs_status)
        status["updatedReplicas"] = int(new_status.get("replicas", 0))
        status["readyReplicas"] = sum(int(s.get("readyReplicas", 0)) for s in rs_status)
        status["availableReplicas"] = sum(int(s.get("availableReplicas", 0)) for s in rs_status)
        status["HPAReplicas"] = status["replicas"]
        selector = self.spec["selector"]["matchLabels"]
        status["selector"] = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        if "blueGreen" in self.strategy:
            active = self.sets.get((status.get("blueGreen") or {}).get("activeSelector", ""))
            if active is not None:
                active_status = active.get("status") or {}
                status["HPAReplicas"] = int(active_status.get("replicas", 0))
                status["availableReplicas"] = int(active_status.get("availableReplicas", 0))
                status["readyReplicas"] = int(active_status.get("readyReplicas", 0))
                labels = active["spec"]["selector"]["matchLabels"]
                status["selector"] = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            status.setdefault("canary", {})
        else:
            status.setdefault("blueGreen", {})
        pauses = status.get("pauseConditions") or []
        if status.get("abort") or not pauses:
            status.pop("controllerPause", None)
        else:
            status["controllerPause"] = True
        self._conditions()
        status["observedGeneration"] = str(self.rollout["metadata"].get("generation", 1))
        status["phase"], message = calculate_phase(self.spec, status)
        if message:
            status["message"] = message
        else:
            status.pop("message", None)
        for key in (
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "HPAReplicas",
            "pauseConditions",
        ):
            if not status.get(key):
                status.pop(key, None)
        if status != self.old:
            self.rollout["status"] = status
            self.store.replace(ROLLOUT, self.rollout, subresource="status")
        self._progress_deadline()

    def _conditions(self) -> None:
        """``checkPausedConditions`` then ``calculateRolloutConditions``."""
        status, old = self.status, self.old
        conditions: list[Obj] = status.setdefault("conditions", [])
        now = self.now
        aborted = bool(status.get("abort"))
        paused = bool(status.get("pauseConditions")) or bool(self.spec.get("paused"))
        progressing = condition(conditions, "Progressing")
        abort_condition = progressing is not None and progressing["reason"] == "RolloutAborted"
        was_completed = bool(old.get("stableRS")) and old.get("stableRS") == old.get(
            "currentPodHash"
        )
        progressing_paused = progressing is not None and progressing["reason"] == "RolloutPaused"
        if paused != progressing_paused and not abort_condition and not was_completed:
            if paused:
                set_condition(
                    conditions, "Progressing", "Unknown", "RolloutPaused", "Rollout is paused", now
                )
            else:
                set_condition(
                    conditions,
                    "Progressing",
                    "Unknown",
                    "RolloutResumed",
                    "Rollout is resumed",
                    now,
                )
        if not aborted and abort_condition:
            set_condition(
                conditions,
                "Progressing",
                "Unknown",
                "RolloutRetry",
                "Retrying Rollout after abort",
                now,
            )
        paused_condition = condition(conditions, "Paused")
        paused_true = paused_condition is not None and paused_condition["status"] == "True"
        if paused != paused_true and not abort_condition:
            set_condition(
                conditions,
                "Paused",
                "True" if paused else "False",
                "RolloutPaused",
                "Rollout is paused",
                now,
            )

        healthy = rollout_healthy(self.rollout, status)
        became_unhealthy = False
        if not paused and healthy:
            set_condition(
                conditions, "Healthy", "True", "RolloutHealthy", "Rollout is healthy", now
            )
        elif condition(conditions, "Healthy") is not None:
            became_unhealthy = set_condition(
                conditions, "Healthy", "False", "RolloutHealthy", "Rollout is not healthy", now
            )
        rs_name = self.new_rs["metadata"]["name"]
        if aborted:
            revision = objects.annotations(self.rollout).get(ROLLOUT_REVISION, "")
            message = f"Rollout aborted update to revision {revision}"
            if self.abort_message:
                message = f"{message}: {self.abort_message}"
            set_condition(conditions, "Progressing", "False", "RolloutAborted", message, now)
        elif healthy:
            set_condition(
                conditions,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                now,
            )
        elif made_progress(self.strategy, old, status) or became_unhealthy:
            if status.get("stableRS") == status.get("currentPodHash") and became_unhealthy:
                reason, message = (
                    "ReplicaSetNotAvailable",
                    "Rollout does not have minimum availability",
                )
            else:
                reason, message = "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.'
            objects.record_progress(conditions, reason, message, now)

        if "blueGreen" in self.strategy:
            active = self.sets.get((status.get("blueGreen") or {}).get("activeSelector", ""))
            available = (
                active is not None
                and int((active.get("status") or {}).get("availableReplicas", 0)) >= self.replicas
            )
        else:
            available = status.get("availableReplicas", 0) >= self.replicas
        set_condition(
            conditions,
            "Available",
            "True" if available else "False",
            "AvailableReason",
            "Rollout has minimum availability"
            if available
            else "Rollout does not have minimum availability",
            now,
        )
        completed = bool(status.get("stableRS")) and status["stableRS"] == status["currentPodHash"]
        set_condition(
            conditions,
            "Completed",
            "True" if completed else "False",
            "RolloutCompleted",
            "RolloutCompleted",
            now,
        )

    def _progress_deadline(self) -> None:
        """``ProgressDeadlineExceeded`` when an update makes no progress for too long.

        Pauses, analysis and experiment steps do not count (``isIndefiniteStep``).
        """
        status = self.rollout.get("status") or {}
        conditions = status.get("conditions") or []
        progressing = condition(conditions, "Progressing")
        if progressing is None or progressing["reason"] in (
            "RolloutAborted",
            "RolloutPaused",
            "ProgressDeadlineExceeded",
            "NewReplicaSetAvailable",
        ):
            return
        if (
            status.get("stableRS") == status.get("currentPodHash")
            and status.get("phase") == "Healthy"
        ):
            return
        steps = (self.strategy.get("canary") or {}).get("steps") or []
        index = int(status.get("currentStepIndex", 0))
        if index < len(steps) and ({"pause", "analysis", "experiment"} & set(steps[index])):
            return
        if status.get("pauseConditions") or self.spec.get("paused"):
            return
        last = parse_time(progressing["lastUpdateTime"])
        assert last is not None
        seconds = int(self.spec.get("progressDeadlineSeconds", PROGRESS_DEADLINE_SECONDS))
        deadline = last + timedelta(seconds=seconds)
        if self.now <= deadline:
            self._wake_at(deadline + timedelta(seconds=1))
            return
        rs_name = self.new_rs["metadata"]["name"]
        updated = copy.deepcopy(status)
        set_condition(
            updated["conditions"],
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{rs_name}" has timed out progressing.',
            self.now,
        )
        updated["phase"], updated["message"] = calculate_phase(self.spec, updated)
        self.rollout["status"] = updated
        self.store.replace(ROLLOUT, self.rollout, subresource="status")
