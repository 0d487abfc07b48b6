"""The Deployment controller of the simulated cluster: rolling updates with revisions.

Follows kubernetes ``pkg/controller/deployment``: the ReplicaSet whose template
matches is the new one (created with the next ``deployment.kubernetes.io/revision``, or,
after ``kubectl rollout undo``, found again and re-stamped with the next revision, its
old number moving to ``revision-history``); the new ReplicaSet scales up within
``maxSurge`` while old ones scale down keeping ``replicas - maxUnavailable`` available;
status counters and the ``Available``/``Progressing`` conditions are computed as
``calculateStatus`` and ``syncRolloutStatus`` do. ``kubectl rollout restart`` changes the
template, so it makes a new ReplicaSet and a new revision.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from cockpit.sim.kube import objects
from cockpit.sim.kube.index import OwnerIndex
from cockpit.sim.kube.objects import (
    DEPLOYMENT_HASH_LABEL,
    DEPLOYMENT_REVISION,
    Obj,
    condition,
    parse_time,
    set_condition,
)
from cockpit.sim.kube.pods import ReplicaSets
from cockpit.sim.kube.store import DEPLOYMENT, REPLICASET, ObjectStore

MAX_PASSES = 12


def fenceposts(spec: Obj, replicas: int) -> tuple[int, int]:
    """``ResolveFenceposts``: (maxSurge rounded up, maxUnavailable rounded down)."""
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = objects.scaled_value(rolling.get("maxSurge"), replicas, round_up=True, default="25%")
    unavailable = objects.scaled_value(
        rolling.get("maxUnavailable"), replicas, round_up=False, default="25%"
    )
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


class Deployments:
    """Reconciles Deployments and their ReplicaSets."""

    def __init__(self, store: ObjectStore, index: OwnerIndex, replicasets: ReplicaSets) -> None:
        self.store = store
        self.index = index
        self.replicasets = replicasets

    def sync(self, namespace: str, name: str, now: datetime) -> datetime | None:
        wake: datetime | None = None
        for _ in range(MAX_PASSES):
            before = self.store.resource_version
            wake = self._pass(namespace, name, now)
            if self.store.resource_version == before:
                break
        return wake

    # ------------------------------------------------------------------ one pass

    def _sets(self, namespace: str, name: str) -> dict[str, Obj]:
        found = {}
        for rs_name in self.index.children(namespace, "Deployment", name, "ReplicaSet"):
            rs = self.store.find(REPLICASET, namespace, rs_name)
            if rs is not None:
                found[rs["metadata"]["labels"].get(DEPLOYMENT_HASH_LABEL, rs_name)] = rs
        return found

    def _scale(self, rs: Obj, replicas: int, deployment: Obj, surge: int) -> Obj:
        notes = objects.annotations(rs)
        desired = str(deployment["spec"].get("replicas", 1))
        maximum = str(int(desired) + surge)
        if (
            rs["spec"].get("replicas") == replicas
            and notes.get(objects.DEPLOYMENT_DESIRED_REPLICAS) == desired
            and notes.get(objects.DEPLOYMENT_MAX_REPLICAS) == maximum
        ):
            return rs
        rs["spec"]["replicas"] = replicas
        notes[objects.DEPLOYMENT_DESIRED_REPLICAS] = desired
        notes[objects.DEPLOYMENT_MAX_REPLICAS] = maximum
        return self.store.replace(REPLICASET, rs)

    def _pass(self, namespace: str, name: str, now: datetime) -> datetime | None:
        deployment = self.store.find(DEPLOYMENT, namespace, name)
        if deployment is None:
            return None
        spec = deployment["spec"]
        old_status = deployment.get("status") or {}
        status: Obj = copy.deepcopy(old_status)
        conditions: list[Obj] = status.setdefault("conditions", [])
        replicas = int(spec.get("replicas", 1))
        surge, max_unavailable = fenceposts(spec, replicas)
        paused = bool(spec.get("paused"))
        desired_hash = objects.pod_template_hash(spec["template"])
        sets = self._sets(namespace, name)
        new_rs = sets.get(desired_hash)
        others = {key: rs for key, rs in sets.items() if key != desired_hash}
        newest_other = max(
            (objects.revision_of(rs, DEPLOYMENT_REVISION) for rs in others.values()), default=0
        )

        if new_rs is None and not paused:
            total = sum(int(rs["spec"].get("replicas", 0)) for rs in others.values())
            initial = max(min(replicas, replicas + surge - total), 0) if others else replicas
            new_rs = objects.replicaset(
                deployment,
                spec["template"],
                DEPLOYMENT_HASH_LABEL,
                desired_hash,
                DEPLOYMENT_REVISION,
                newest_other + 1,
                initial,
                {
                    objects.DEPLOYMENT_DESIRED_REPLICAS: str(replicas),
                    objects.DEPLOYMENT_MAX_REPLICAS: str(replicas + surge),
                },
                now,
            )
            new_rs = self.store.create(REPLICASET, new_rs)
            objects.record_progress(
                conditions,
                "NewReplicaSetCreated",
                f'Created new replica set "{new_rs["metadata"]["name"]}"',
                now,
            )
        elif (
            new_rs is not None and objects.revision_of(new_rs, DEPLOYMENT_REVISION) <= newest_other
        ):
            notes = objects.annotations(new_rs)
            history = [
                r for r in notes.get(objects.DEPLOYMENT_REVISION_HISTORY, "").split(",") if r
            ]
            notes[objects.DEPLOYMENT_REVISION_HISTORY] = ",".join(
                [*history, notes.get(DEPLOYMENT_REVISION, "")]
            )
            notes[DEPLOYMENT_REVISION] = str(newest_other + 1)
            new_rs = self.store.replace(REPLICASET, new_rs)
            if condition(conditions, "Progressing") is None:
                set_condition(
                    conditions,
                    "Progressing",
                    "True",
                    "FoundNewReplicaSet",
                    f'Found new replica set "{new_rs["metadata"]["name"]}"',
                    now,
                )
        if new_rs is not None:
            revision = new_rs["metadata"]["annotations"][DEPLOYMENT_REVISION]
            if objects.annotations(deployment).get(DEPLOYMENT_REVISION) != revision:
                objects.annotations(deployment)[DEPLOYMENT_REVISION] = revision
                deployment = self.store.replace(DEPLOYMENT, deployment)

        if new_rs is not None and not paused:
            new_rs = self._rolling_update(
                deployment, new_rs, others, replicas, surge, max_unavailable
            )
        wake: datetime | None = None
        for rs in [*others.values(), *([new_rs] if new_rs is not None else [])]:
            rs_wake = self.replicasets.sync(namespace, rs["metadata"]["name"], now)
            if rs_wake is not None and (wake is None or rs_wake < wake):
                wake = rs_wake
        self._trim_history(deployment, desired_hash)
        sets = self._sets(namespace, name)
        new_rs = sets.get(desired_hash)
        self._status(deployment, status, sets, new_rs, replicas, max_unavailable, now)
        deadline = self._progress_deadline(deployment, now)
        if deadline is not None and (wake is None or deadline < wake):
            wake = deadline
        return wake

    def _rolling_update(
        self,
        deployment: Obj,
        new_rs: Obj,
        others: dict[str, Obj],
        replicas: int,
        surge: int,
        max_unavailable: int,
    ) -> Obj:
        """``rolloutRolling``: scale the new ReplicaSet up, then old ones down."""
        all_sets = [*others.values(), new_rs]
        total = sum(int(rs["spec"].get("replicas", 0)) for rs in all_sets)
        new_count = int(new_rs["spec"].get("replicas", 0))
        if new_count > replicas:
            target = replicas
        elif total >= replicas + surge:
            target = new_count
        else:
            target = new_count + min(replicas + surge - total, replicas - new_count)
        new_rs = self._scale(new_rs, target, deployment, surge)

        old = sorted(
            (rs for rs in others.values() if int(rs["spec"].get("replicas", 0)) > 0),
            key=lambda rs: rs["metadata"]["creationTimestamp"],
        )
        if not old:
            return new_rs
        all_sets = [*old, new_rs]
        total = sum(int(rs["spec"].get("replicas", 0)) for rs in all_sets)
        min_available = replicas - max_unavailable
        new_unavailable = int(new_rs["spec"].get("replicas", 0)) - _available(new_rs)
        max_scale_down = total - min_available - new_unavailable
        if max_scale_down <= 0:
            return new_rs
        # Unhealthy old replicas go first: they serve nothing.
        cleaned = 0
        for index, rs in enumerate(old):
            unhealthy = int(rs["spec"]["replicas"]) - _available(rs)
            if unhealthy <= 0 or cleaned >= max_scale_down:
                continue
            count = min(max_scale_down - cleaned, unhealthy)
            old[index] = self._scale(rs, int(rs["spec"]["replicas"]) - count, deployment, 0)
            cleaned += count
        available = sum(_available(rs) for rs in [*old, new_rs])
        budget = available - min_available
        for rs in old:
            if budget <= 0:
                break
            count = min(int(rs["spec"]["replicas"]), budget)
            if count:
                self._scale(rs, int(rs["spec"]["replicas"]) - count, deployment, 0)
                budget -= count
        return new_rs

    def _trim_history(self, deployment: Obj, desired_hash: str) -> None:
        limit = int(deployment["spec"].get("revisionHistoryLimit", 10))
        namespace, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        old = [
            rs
            for key, rs in self._sets(namespace, name).items()
            if key != desired_hash
            and rs["spec"].get("replicas", 0) == 0
            and int((rs.get("status") or {}).get("replicas", 0)) == 0
        ]
        old.sort(key=lambda rs: objects.revision_of(rs, DEPLOYMENT_REVISION))
        for rs in old[: max(len(old) - limit, 0)]:
            self.store.delete(REPLICASET, namespace, rs["metadata"]["name"])

    def _status(
        self,
        deployment: Obj,
        status: Obj,
        sets: dict[str, Obj],
        new_rs: Obj | None,
        replicas: int,
        max_unavailable: int,
        now: datetime,
    ) -> None:
        """``calculateStatus`` + ``syncRolloutStatus`` + ``checkPausedConditions``."""
        old_status = deployment.get("status") or {}
        rs_status = [rs.get("status") or {} for rs in sets.values()]
        available = sum(int(s.get("availableReplicas", 0)) for s in rs_status)
        total_spec = sum(int(rs["spec"].get("replicas", 0)) for rs in sets.values())
        counts = {
            "replicas": sum(int(s.get("replicas", 0)) for s in rs_status),
            "updatedReplicas": int(((new_rs or {}).get("status") or {}).get("replicas", 0)),
            "readyReplicas": sum(int(s.get("readyReplicas", 0)) for s in rs_status),
            "availableReplicas": available,
            "unavailableReplicas": max(total_spec - available, 0),
        }
        for key, value in counts.items():
            if value:
                status[key] = value
            else:
                status.pop(key, None)
        status["observedGeneration"] = deployment["metadata"].get("generation", 1)
        conditions = status["conditions"]
        if available >= replicas - max_unavailable:
            set_condition(
                conditions,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now,
            )
        else:
            set_condition(
                conditions,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
            )
        progressing = condition(conditions, "Progressing")
        paused = bool(deployment["spec"].get("paused"))
        if paused and (progressing is None or progressing["reason"] != "DeploymentPaused"):
            set_condition(
                conditions,
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
                now,
            )
        elif not paused and progressing is not None and progressing["reason"] == "DeploymentPaused":
            set_condition(
                conditions,
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed",
                now,
            )
        elif new_rs is not None and not paused:
            progressing = condition(conditions, "Progressing")
            complete_before = (
                status.get("replicas", 0) == status.get("availableReplicas", 0)
                and progressing is not None
                and progressing["reason"] == "NewReplicaSetAvailable"
            )
            rs_name = new_rs["metadata"]["name"]
            if not complete_before:
                complete = (
                    counts["updatedReplicas"] == replicas
                    and counts["replicas"] == replicas
                    and available == replicas
                )
                old_old = int(old_status.get("replicas", 0)) - int(
                    old_status.get("updatedReplicas", 0)
                )
                moved = (
                    counts["replicas"] - counts["updatedReplicas"] < old_old
                    or counts["updatedReplicas"] > int(old_status.get("updatedReplicas", 0))
                    or counts["readyReplicas"] > int(old_status.get("readyReplicas", 0))
                    or available > int(old_status.get("availableReplicas", 0))
                )
                if complete:
                    set_condition(
                        conditions,
                        "Progressing",
                        "True",
                        "NewReplicaSetAvailable",
                        f'ReplicaSet "{rs_name}" has successfully progressed.',
                        now,
                    )
                elif moved:
                    objects.record_progress(
                        conditions,
                        "ReplicaSetUpdated",
                        f'ReplicaSet "{rs_name}" is progressing.',
                        now,
                    )
        if status != old_status:
            deployment["status"] = status
            self.store.replace(DEPLOYMENT, deployment, subresource="status")

    def _progress_deadline(self, deployment: Obj, now: datetime) -> datetime | None:
        """``DeploymentTimedOut``: no progress within ``progressDeadlineSeconds``."""
        deployment = self.store.get(
            DEPLOYMENT, deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        )
        status = deployment.get("status") or {}
        progressing = condition(status.get("conditions") or [], "Progressing")
        if progressing is None or progressing["status"] != "True":
            return None
        if progressing["reason"] == "NewReplicaSetAvailable" or deployment["spec"].get("paused"):
            return None
        last = parse_time(progressing["lastUpdateTime"])
        assert last is not None
        deadline = last + timedelta(
            seconds=int(deployment["spec"].get("progressDeadlineSeconds", 600))
        )
        if now <= deadline:
            return deadline + timedelta(seconds=1)
        rs_name = progressing["message"].split('"')[1] if '"' in progressing["message"] else ""
        set_condition(
            status["conditions"],
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{rs_name}" has timed out progressing.',
            now,
        )
        deployment["status"] = status
        self.store.replace(DEPLOYMENT, deployment, subresource="status")
        return None


def _available(rs: Obj) -> int:
    return int((rs.get("status") or {}).get("availableReplicas", 0))
